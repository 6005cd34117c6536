"""cloud-init user-data: validated at order time, delivered as a vendor-data snippet, removed with the VM.

The simulator plays the shared NFS storage: its fleet gets a ``snippets-nfs``
storage whose ``path`` is a temporary directory; the platform's cluster points
``snippets_path`` at the same directory, writes there, and the simulator reads
the file when the VM starts (a missing file fails the start, as on PVE).
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from apps.core.errors import ValidationFailed
from apps.infrastructure import services as infra
from apps.instances import services
from apps.instances.choices import ActionStatus, InstanceStatus, ProvisionStep
from apps.instances.models import Instance
from apps.instances.services import provisioning
from apps.orders.models import Order
from apps.pvesim.fleet import Fleet as SimFleet
from apps.pvesim.fleet import StorageSpec
from apps.pvesim.server import PveSimulator
from tests.instances.conftest import ED25519, sim_vms
from tests.pvesim_fixtures import make_driver

pytestmark = pytest.mark.django_db

CLOUD_CONFIG = "#cloud-config\npackages: [nginx]\nruncmd:\n  - [systemctl, enable, --now, nginx]\n"
ORDERS = "/api/v1/orders/"


@pytest.fixture
def share(tmp_path: Path) -> Path:
    return tmp_path / "share"


@pytest.fixture
def pvesim(pvesim_fleet: SimFleet, pvesim_ca, share: Path) -> Iterator[PveSimulator]:
    """The test fleet plus a shared snippets storage backed by ``share`` (overrides the plain fixture)."""
    spec = pvesim_fleet.cluster()
    nfs = StorageSpec(name="snippets-nfs", type="nfs", content=("snippets",), shared=True, size_gb=10, path=str(share))
    simulator = PveSimulator(
        dataclasses.replace(spec, storages=(*spec.storages, nfs)),
        task_seconds=0.0,
        lock_wait_seconds=0.0,
        ca=pvesim_ca[0],
        ca_path=pvesim_ca[1],
    ).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def snippets(fleet, share: Path):
    infra.cluster_update(cluster=fleet.cluster, snippets_storage="snippets-nfs", snippets_path=str(share))
    fleet.cluster.refresh_from_db()
    return fleet


def _create(fleet, personas, user_data: str):
    offer = fleet.vps_offer
    reservation = infra.placement_reserve(offer=offer, datacentre=fleet.dc, image=fleet.ubuntu24, actor=personas.owner)
    return services.instance_create(
        organisation=personas.org,
        project=personas.project,
        offer=offer,
        datacentre=fleet.dc,
        image=fleet.ubuntu24,
        name="web-1",
        ssh_keys=[ED25519],
        user_data=user_data,
        reservation=reservation,
        price_hourly=offer.price_hourly,
        price_monthly=offer.price_monthly,
        actor=personas.owner,
    )


def _snippet(share: Path, instance: Instance) -> Path:
    return share / "snippets" / f"vmc-{instance.public_id}-vendor.yaml"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(fleet, personas, **overrides):
    data = {
        "project": personas.project.pk,
        "offer": fleet.vps_offer.code,
        "datacentre": fleet.dc.code,
        "image": fleet.ubuntu24.slug,
        "name": "web-1",
        "user_data": CLOUD_CONFIG,
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------
def test_ordered_cloud_config_becomes_a_vendor_snippet_and_the_vm_starts(
    snippets, personas, share, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(personas.member).post(ORDERS, _body(snippets, personas), format="json")
    assert response.status_code == 202, response.json()
    instance = Order.objects.get().instance
    assert instance is not None and instance.vmid is not None
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    path = _snippet(share, instance)
    assert path.read_bytes() == CLOUD_CONFIG.encode("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    vm = sim_vms(snippets.sim)[instance.vmid]
    assert vm.running
    assert vm.config["cicustom"] == f"vendor=snippets-nfs:snippets/vmc-{instance.public_id}-vendor.yaml"
    # PVE still generates the user-data (user, network): only vendor-data is ours.
    assert vm.config["ciuser"] and vm.config["ipconfig0"].startswith(f"ip={instance.ipv4}/")
    assert "user=" not in vm.config["cicustom"]
    # The simulator checked the cicustom value against the PVE schema: no validation failure.
    assert not [f for f in snippets.sim.validation_failures if "cicustom" in str(f)]


def test_delete_removes_the_snippet(snippets, personas, share, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = _create(snippets, personas, CLOUD_CONFIG)
    assert _snippet(share, instance).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.instance_delete(instance=instance, actor=personas.owner)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.DELETED
    assert not _snippet(share, instance).exists()
    assert list(sim_vms(snippets.sim)) == []


def test_instance_without_user_data_has_no_cicustom_and_no_file(
    snippets, personas, share, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _create(snippets, personas, "")
    assert "cicustom" not in sim_vms(snippets.sim)[Instance.objects.get().vmid or 0].config
    assert not list((share / "snippets").glob("vmc-*"))


def test_a_retried_configure_step_rewrites_the_same_file(snippets, personas, share, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = _create(snippets, personas, CLOUD_CONFIG)
    path = _snippet(share, instance)
    path.write_text("stale", encoding="utf-8")
    instance.refresh_from_db()
    assert provisioning.vendor_snippet_write(instance) == (
        f"vendor=snippets-nfs:snippets/vmc-{instance.public_id}-vendor.yaml"
    )
    assert path.read_text(encoding="utf-8") == CLOUD_CONFIG
    assert [p.name for p in (share / "snippets").iterdir()] == [path.name]  # no temporary file left


def test_a_missing_snippet_fails_the_simulated_start(snippets, personas, share, django_capture_on_commit_callbacks):
    """A platform that set cicustom but forgot the file would be caught: PVE's start fails."""
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = _create(snippets, personas, CLOUD_CONFIG)
    driver = make_driver(snippets.sim)
    driver.wait_task(instance.node_name, driver.stop(instance.node_name, instance.vmid), timeout=5)
    _snippet(share, instance).unlink()
    upid = driver.start(instance.node_name, instance.vmid)
    with pytest.raises(Exception, match="does not exist"):
        driver.wait_task(instance.node_name, upid, timeout=5)
    assert not sim_vms(snippets.sim)[instance.vmid].running


def test_provisioning_without_the_file_written_fails_at_start(
    snippets, personas, share, monkeypatch, django_capture_on_commit_callbacks
):
    volume = "snippets-nfs:snippets/forgotten.yaml"
    monkeypatch.setattr(provisioning, "vendor_snippet_write", lambda instance: f"vendor={volume}")
    with django_capture_on_commit_callbacks(execute=True):
        instance, action = _create(snippets, personas, CLOUD_CONFIG)
    action.refresh_from_db()
    instance.refresh_from_db()
    assert action.status == ActionStatus.ERROR
    assert f"volume '{volume}' does not exist" in action.error_detail
    assert instance.provision_step == ProvisionStep.START


def test_rebuild_keeps_the_user_data(snippets, personas, share, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance, _action = _create(snippets, personas, CLOUD_CONFIG)
    with django_capture_on_commit_callbacks(execute=True):
        services.instance_rebuild(instance=instance, image=snippets.ubuntu24, actor=personas.owner)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert _snippet(share, instance).read_text(encoding="utf-8") == CLOUD_CONFIG
    assert "cicustom" in sim_vms(snippets.sim)[instance.vmid].config


def test_snippet_write_is_atomic_and_world_readable(snippets, share):
    volume = infra.snippet_write(cluster=snippets.cluster, filename="vmc-x-vendor.yaml", content="#!/bin/sh\necho é\n")
    assert volume == "snippets-nfs:snippets/vmc-x-vendor.yaml"
    path = share / "snippets" / "vmc-x-vendor.yaml"
    assert path.read_bytes() == "#!/bin/sh\necho é\n".encode()
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert infra.snippet_delete(cluster=snippets.cluster, filename="vmc-x-vendor.yaml") is True
    assert infra.snippet_delete(cluster=snippets.cluster, filename="vmc-x-vendor.yaml") is False  # missing: fine
    with pytest.raises(ValueError):
        infra.snippet_write(cluster=snippets.cluster, filename="../escape.yaml", content="x")


# ---------------------------------------------------------------------------
# Validation (API and portal)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user_data", "needle"),
    [
        ("#cloud-config\n" + "a" * 64 * 1024, "64 KiB"),
        ("hello world\n", "must start with"),
        ("#cloud-config\npackages: [nginx\n", "line 3, column 1"),
        ("#cloud-config\n- just\n- a list\n", "YAML mapping"),
    ],
)
def test_malformed_user_data_is_a_400_with_a_field_message(snippets, personas, user_data, needle):
    response = _client(personas.member).post(ORDERS, _body(snippets, personas, user_data=user_data), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert needle in error["fields"]["user_data"][0], error
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "user_data",
    [
        "#!/bin/bash\necho hi\n",
        "#include\nhttps://example.test/cloud-config\n",
        "#cloud-boothook\n#!/bin/sh\necho boot\n",
        'Content-Type: multipart/mixed; boundary="X"\nMIME-Version: 1.0\n\n--X--\n',
        "#cloud-config\n",
    ],
)
def test_every_cloud_init_format_is_accepted(snippets, user_data):
    assert services.user_data_check(user_data, datacentre=snippets.dc) == user_data


def test_bad_yaml_message_gives_the_position(snippets):
    with pytest.raises(ValidationFailed) as exc:
        services.user_data_check("#cloud-config\nruncmd:\n  - a\n - b\n", datacentre=snippets.dc)
    assert exc.value.code == "invalid_user_data"
    assert "line 4" in exc.value.fields["user_data"][0]


def test_datacentre_without_snippets_storage_refuses_user_data_through_the_api(fleet, personas):
    response = _client(personas.member).post(ORDERS, _body(fleet, personas), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "user_data_unavailable"
    assert error["fields"]["user_data"] == [
        "User-data is not available in this datacentre yet: leave it empty or choose another datacentre."
    ]
    # Without user-data the same order is fine.
    assert _client(personas.member).post(ORDERS, _body(fleet, personas, user_data=""), format="json").status_code == 202


def test_portal_wizard_shows_user_data_errors_on_the_form(fleet, personas, client):
    client.force_login(personas.member)
    # A server plan brings the server's fields (a managed plan brings its own).
    page = client.get(f"/orders/new/?offer={fleet.vps_offer.code}").content.decode()
    assert 'name="user_data"' in page and "Cloud-init user-data (optional)" in page
    form = {
        "offer": fleet.vps_offer.code,
        "datacentre": fleet.dc.code,
        "image": fleet.ubuntu24.slug,
        "project": personas.project.pk,
        "name": "web-1",
        "user_data": "#cloud-config\r\npackages: [nginx]\r\n",
        "idempotency_key": "ud-form-1",
    }
    response = client.post("/orders/new/", form)
    assert response.status_code == 200
    assert "not available in this datacentre yet" in response.content.decode()
    assert Order.objects.count() == 0


def test_portal_wizard_passes_user_data_to_the_order(
    snippets, personas, client, share, django_capture_on_commit_callbacks
):
    client.force_login(personas.member)
    form = {
        "offer": snippets.vps_offer.code,
        "datacentre": snippets.dc.code,
        "image": snippets.ubuntu24.slug,
        "project": personas.project.pk,
        "name": "web-1",
        "user_data": "#!/bin/sh\r\necho hi\r\n",
        "idempotency_key": "ud-form-2",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/orders/new/", form)
    assert response.status_code == 302
    instance = Order.objects.get().instance
    assert instance is not None
    assert instance.user_data == "#!/bin/sh\necho hi\n"  # CRLF from the browser normalised
    assert _snippet(share, instance).read_text(encoding="utf-8") == "#!/bin/sh\necho hi\n"
