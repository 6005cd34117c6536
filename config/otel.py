"""OpenTelemetry tracing, switched on only by the standard OTLP environment variables.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``)
set and ``requirements/otel.txt`` installed, every web request, Celery task
(the trace follows the message from the request that sent it) and outgoing
HTTP call (proxmoxer speaks HTTP through requests, so each Proxmox call is a
span) is exported over OTLP/HTTP. Nothing is imported otherwise.
``OTEL_SERVICE_NAME`` and the other standard variables apply as documented at
https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/.
Docs: apps/docs/content/production.md ("Tracing").
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_configured = False


def enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name) for name in _ENDPOINT_VARIABLES)


def setup(default_service_name: str) -> bool:
    """Install the tracer provider and the instrumentations once per process; True when tracing is on."""
    global _configured
    if _configured:
        return True
    if not enabled():
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.requests import RequestsInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        logger.warning(
            "OTLP endpoint set but OpenTelemetry is not installed (pip install -r requirements/otel.txt): %s", exc
        )
        return False
    service = os.environ.get("OTEL_SERVICE_NAME") or default_service_name
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    RequestsInstrumentor().instrument()
    _configured = True
    logger.info("OpenTelemetry tracing on (service %s)", service)
    return True
