"""The Metrics tab: server-side SVG charts of a server's CPU, memory, disk and network."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError
from apps.instances import services
from apps.instances.views.server_page import _base_context, _instance
from apps.teams.choices import Permission
from apps.teams.models import Organisation
from apps.teams.portal import org_view

logger = logging.getLogger(__name__)
P = Permission


METRIC_CHARTS = (
    # key, title, series (field, label), unit
    ("cpu", _("CPU"), (("cpu", "CPU"),), "%"),
    ("mem", _("Memory"), (("mem", "used"),), "B"),
    ("disk", _("Disk I/O"), (("diskread", "read"), ("diskwrite", "write")), "B/s"),
    ("net", _("Network"), (("netin", "in"), ("netout", "out")), "B/s"),
)


CHART_W, CHART_H = 600, 160


def _human(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f} %"
    size = float(value)
    for prefix in ("", "K", "M", "G", "T"):
        if abs(size) < 1024 or prefix == "T":
            return f"{size:.1f} {prefix}{unit}" if prefix else f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} {unit}"


def build_charts(points: Sequence[Any]) -> list[dict[str, Any]]:
    """Server-side SVG line charts: polyline coordinates in a 600x160 viewBox, y from 0 to the series' max.

    Each chart also carries its y-axis ticks (top, middle, 0 in the chart's unit), its x-axis times
    (start, middle, end), one hover band per point in time whose ``<title>`` is the tooltip (native, no
    JavaScript), and ``sparse`` when a series has fewer than two points (a server just started): the
    page then says the chart fills in rather than drawing a lone dot.
    """
    charts = []
    times = sorted({int(p.time) for p in points})
    t0, t1 = (times[0], times[-1]) if times else (0, 1)
    span = max(t1 - t0, 1)
    band = CHART_W / max(len(times) - 1, 1)
    for key, title, series, unit in METRIC_CHARTS:
        values: dict[str, list[tuple[int, float]]] = {}
        for field, _label in series:
            raw = []
            for p in points:
                v = getattr(p, field, None)
                if v is None:
                    continue
                if key == "cpu":
                    v = v * 100
                raw.append((int(p.time), float(v)))
            values[field] = raw
        peak = max((v for raw in values.values() for _t, v in raw), default=0.0)
        if key == "cpu":
            peak = max(peak, 100.0)
        if key == "mem":
            maxmem = max((float(getattr(p, "maxmem", 0) or 0) for p in points), default=0.0)
            peak = max(peak, maxmem)
        top = peak or 1.0
        lines = []
        for index, (field, label) in enumerate(series):
            coords = " ".join(
                f"{(t - t0) / span * CHART_W:.1f},{CHART_H - v / top * CHART_H:.1f}" for t, v in values[field]
            )
            last = values[field][-1][1] if values[field] else None
            last_xy = coords.split()[-1].split(",") if coords else None
            lines.append(
                {
                    "points": coords,
                    "label": label,
                    "series": index,
                    "last": _human(last, unit) if last is not None else "—",
                    "last_x": last_xy[0] if last_xy else None,
                    "last_y": last_xy[1] if last_xy else None,
                }
            )
        by_time = {field: dict(raw) for field, raw in values.items()}
        hover = []
        for t in times:
            parts = [f"{label} {_human(by_time[field][t], unit)}" for field, label in series if t in by_time[field]]
            if parts:
                x = (t - t0) / span * CHART_W
                when = timezone.localtime(dt.datetime.fromtimestamp(t, tz=dt.UTC))
                hover.append({"x": f"{max(x - band / 2, 0):.1f}", "w": f"{band:.1f}", "when": when, "text": parts})
        charts.append(
            {
                "key": key,
                "title": title,
                "unit": unit,
                "lines": lines,
                "top": _human(top, unit),
                "ticks": [_human(top, unit), _human(top / 2, unit), _human(0, unit)],
                "hover": hover,
                "empty": not any(values.values()),
                "sparse": max((len(raw) for raw in values.values()), default=0) < 2,
            }
        )
    start = timezone.localtime(dt.datetime.fromtimestamp(t0, tz=dt.UTC)) if times else None
    end = timezone.localtime(dt.datetime.fromtimestamp(t1, tz=dt.UTC)) if times else None
    middle = timezone.localtime(dt.datetime.fromtimestamp((t0 + t1) // 2, tz=dt.UTC)) if times else None
    for chart in charts:
        chart["start"], chart["middle"], chart["end"] = start, middle, end
    return charts


@org_view(P.ORG_READ)
def server_metrics(request: HttpRequest, organisation: Organisation, instance_id: Any) -> HttpResponse:
    instance = _instance(request, instance_id)
    context = _base_context(request, instance, "metrics")
    timeframe = request.GET.get("timeframe", "hour")
    if timeframe not in services.METRIC_TIMEFRAMES:
        timeframe = "hour"
    error = ""
    points: list[Any] = []
    try:
        points = services.instance_metrics(instance=instance, actor=request.user, timeframe=timeframe)
    except ApplicationError as exc:
        error = exc.message
    except Exception:  # Proxmox unreachable: the page still renders (the error is logged for staff).
        logger.exception("metrics of %s failed", instance.public_id)
        error = _("Metrics are unavailable right now. Try again in a minute.")
    context.update(
        timeframe=timeframe,
        timeframes=services.METRIC_TIMEFRAMES[:4],
        charts=build_charts(points),
        metrics_error=error,
        has_points=bool(points),
    )
    return render(request, "instances/server_metrics.html", context)
