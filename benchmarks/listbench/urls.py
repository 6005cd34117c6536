"""The project's URLs plus ``/bench/bare/``: the same 50 rows as the instance list, from a bare Django view."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from apps.instances.models import Instance
from config.urls import urlpatterns as project_urlpatterns

FIELDS = ("public_id", "name", "status", "power_state", "ipv4", "ipv6", "vmid", "created_at")


def bare_instance_list(request: HttpRequest) -> JsonResponse:
    """No auth, no DRF, no serializer: one query and ``JsonResponse`` (the baseline)."""
    rows = list(Instance.objects.order_by("-created_at", "-id").values(*FIELDS)[:50])
    return JsonResponse({"count": len(rows), "results": rows})


urlpatterns = [path("bench/bare/", bare_instance_list), *project_urlpatterns]
