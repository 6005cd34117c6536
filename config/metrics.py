"""Platform gauges read from the database and the broker at scrape time.

Listed in ``METRICS_COLLECTORS`` and run by apps.core.metrics on each scrape
of /metrics: counts of rows are the same whichever web replica answers, and
nothing has to be kept in step by hand. Each query is an aggregate over an
indexed column; the broker's queue depth is a passive declare per queue.
Docs: apps/docs/content/production.md ("Metrics").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from kombu import Connection
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Orders that should move on by themselves; completed, failed, cancelled and rejected ones are history.
OPEN_ORDER_STATES = ("pending", "awaiting_approval", "provisioning")


class PlatformCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        from apps.billing.models import Invoice, MeteringRun, StripeWebhookEvent
        from apps.core.models import UnsentTask
        from apps.orders.models import Order

        orders = GaugeMetricFamily("vmcloud_orders", "Orders by state.", labels=["state"])
        oldest = GaugeMetricFamily(
            "vmcloud_orders_oldest_seconds",
            "Seconds since the oldest order in each open state last changed (a stuck order grows it).",
            labels=["state"],
        )
        now = timezone.now()
        rows = Order.objects.values("state").annotate(n=Count("id"), oldest=Min("updated_at")).order_by()
        for row in rows:
            orders.add_metric([row["state"]], row["n"])
            if row["state"] in OPEN_ORDER_STATES:
                oldest.add_metric([row["state"]], (now - row["oldest"]).total_seconds())
        yield orders
        yield oldest

        unsent = GaugeMetricFamily(
            "vmcloud_unsent_tasks", "Tasks the broker refused, waiting for beat to send them again."
        )
        unsent.add_metric([], UnsentTask.objects.count())
        yield unsent

        invoices = GaugeMetricFamily("vmcloud_invoices", "Invoices by status.", labels=["status"])
        for status, n in Invoice.objects.values_list("status").annotate(n=Count("id")).order_by():
            invoices.add_metric([status], n)
        yield invoices

        events = GaugeMetricFamily(
            "vmcloud_stripe_webhook_events", "Stripe webhook events by status.", labels=["status"]
        )
        for status, n in StripeWebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by():
            events.add_metric([status], n)
        yield events

        last = MeteringRun.objects.aggregate(last=Max("hour"))["last"]
        lag = GaugeMetricFamily(
            "vmcloud_metering_lag_seconds",
            "Seconds since the end of the last metered hour (an hour is metered once it has closed).",
        )
        if last is not None:
            lag.add_metric([], (timezone.now() - last).total_seconds() - 3600)
        yield lag

        yield from self._queue_depth()

    @staticmethod
    def _queue_depth() -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "vmcloud_celery_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        up = GaugeMetricFamily("vmcloud_celery_broker_up", "1 if the broker answered the queue-depth check.")
        try:
            with Connection(
                settings.CELERY_BROKER_URL,
                connect_timeout=2,
                transport_options=dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}),
            ) as conn:
                channel = conn.default_channel
                for name in settings.CELERY_QUEUE_NAMES:
                    try:
                        _, count, _consumers = channel.queue_declare(queue=name, passive=True)
                    except Exception:  # a queue no worker declared yet: nothing waits in it
                        channel = conn.channel()
                        count = 0
                    depth.add_metric([name], count)
        except Exception as exc:  # the scrape must answer even when the broker does not
            logger.warning("queue depth unavailable: %s", exc)
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield depth
        yield up
