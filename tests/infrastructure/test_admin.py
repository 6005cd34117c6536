"""The fleet admin: pages render, the secret is write-only, actions call the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.infrastructure import choices, services
from apps.infrastructure.models import Cluster, GpuDevice, Node, SyncReport
from tests.infrastructure.factories import GpuModelFactory, OfferFactory, envelopes, fleet

pytestmark = pytest.mark.django_db

SECRET = "super-secret-token-value-123"


@pytest.fixture
def demo(staff_user, client):
    envelopes()
    a100 = GpuModelFactory()
    f = fleet(nodes=2, gpus_per_node=2, gpu_model=a100)
    services.placement_reserve(offer=OfferFactory(gpu_model=a100, gpu_count=1), datacentre=f["dc"], image=f["image"])
    SyncReport.objects.create(
        cluster=f["cluster"],
        started_at=f["cluster"].created_at,
        status=choices.SyncStatus.DRIFT,
        drift=[{"kind": "gpu_missing", "object": "pve001 0000:41:00.0", "message": "<b>gone</b>"}],
    )
    client.force_login(staff_user)
    return f


@pytest.mark.parametrize(
    "model",
    [
        "cluster",
        "node",
        "gpudevice",
        "storage",
        "vmtemplate",
        "ippool",
        "ipallocation",
        "vmidallocation",
        "reservation",
        "syncreport",
    ],
)
def test_changelists_and_change_pages_render(demo, client, model):
    response = client.get(reverse(f"admin:infrastructure_{model}_changelist"))
    assert response.status_code == 200
    from django.apps import apps

    obj = apps.get_model("infrastructure", model).objects.first()
    response = client.get(reverse(f"admin:infrastructure_{model}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_sync_report_escapes_drift_messages(demo, client):
    report = SyncReport.objects.get()
    html = client.get(reverse("admin:infrastructure_syncreport_change", args=[report.pk])).content.decode()
    assert "&lt;b&gt;gone&lt;/b&gt;" in html and "<b>gone</b>" not in html


def test_capacity_dashboard_shows_sold_against_sellable(demo, client):
    response = client.get(reverse("admin:infrastructure_datacentrecapacity_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "PAR-1" in html and "A100 40GB" in html and 'role="progressbar"' in html
    views = {v.datacentre.code: v for v in response.context["views"]}
    gpu_line = next(line for line in views["PAR-1"].lines if line.resource == "gpu")
    assert (gpu_line.physical, gpu_line.sold) == (4, 1)
    assert "Capacity dashboard" in client.get(reverse("admin:index")).content.decode()


def test_capacity_dashboard_is_staff_only(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:infrastructure_datacentrecapacity_changelist"))
    assert response.status_code == 302  # to the admin login


def test_cluster_secret_is_write_only_in_the_admin(demo, client):
    from tests.infrastructure.factories import DatacentreFactory

    dc = DatacentreFactory(code="AMS-1")
    response = client.post(
        reverse("admin:infrastructure_cluster_add"),
        {
            "name": "ams1",
            "datacentre": dc.pk,
            "status": "active",
            "api_url": "https://127.0.0.1:8007/api2/json",
            "token_id": "vmcloud@pve!portal",
            "token_secret": SECRET,
            "tls_ca_pem": "",
            "tls_ca_file": "",
            "tls_fingerprint": "",
            "vmid_range_start": 100000,
            "vmid_range_end": 899999,
            "sync_reports-TOTAL_FORMS": 0,
            "sync_reports-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cluster = Cluster.objects.get(name="ams1")
    assert cluster.get_token_secret() == SECRET
    page = client.get(reverse("admin:infrastructure_cluster_change", args=[cluster.pk])).content.decode()
    assert SECRET not in page and cluster.token_secret_encrypted not in page

    # Saving without a new secret keeps the old one.
    data = {
        "name": "ams1",
        "datacentre": dc.pk,
        "status": "active",
        "api_url": "https://127.0.0.1:8009/api2/json",
        "token_id": "vmcloud@pve!portal",
        "token_secret": "",
        "tls_ca_pem": "",
        "tls_ca_file": "",
        "tls_fingerprint": "",
        "vmid_range_start": 100000,
        "vmid_range_end": 899999,
        "sync_reports-TOTAL_FORMS": 0,
        "sync_reports-INITIAL_FORMS": 0,
    }
    assert client.post(reverse("admin:infrastructure_cluster_change", args=[cluster.pk]), data).status_code == 302
    cluster.refresh_from_db()
    assert cluster.api_url.endswith(":8009/api2/json") and cluster.get_token_secret() == SECRET


def test_drain_and_gpu_actions(demo, client):
    node = demo["nodes"][0]
    url = reverse("admin:infrastructure_node_changelist")
    client.post(url, {"action": "drain", "_selected_action": [node.pk]})
    assert Node.objects.get(pk=node.pk).maintenance
    client.post(url, {"action": "undrain", "_selected_action": [node.pk]})
    assert not Node.objects.get(pk=node.pk).maintenance

    gpu = GpuDevice.objects.filter(state=choices.GpuState.FREE).first()
    url = reverse("admin:infrastructure_gpudevice_changelist")
    client.post(url, {"action": "mark_faulty", "_selected_action": [gpu.pk]})
    assert GpuDevice.objects.get(pk=gpu.pk).state == choices.GpuState.FAULTY
    client.post(url, {"action": "mark_free", "_selected_action": [gpu.pk]})
    assert GpuDevice.objects.get(pk=gpu.pk).state == choices.GpuState.FREE


def test_admin_node_save_does_not_overwrite_ledger_counters(demo, client):
    node = demo["nodes"][0]
    url = reverse("admin:infrastructure_node_change", args=[node.pk])
    client.get(url)
    # A placement commits between the form being shown and saved.
    Node.objects.filter(pk=node.pk).update(allocated_vcpu=42)
    response = client.post(
        url,
        {"maintenance": "on", "maintenance_reason": "disk", "gpus-TOTAL_FORMS": 0, "gpus-INITIAL_FORMS": 0},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    node.refresh_from_db()
    assert node.maintenance and node.allocated_vcpu == 42
