"""Volume services: validation, claims, capacity and protection (no Proxmox: on-commit tasks are not run)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.errors import Conflict, PermissionDenied, Unavailable, ValidationFailed
from apps.infrastructure.models import ClusterStorage
from apps.instances.choices import ActionType
from apps.volumes import rules, services
from apps.volumes.choices import VolumeStatus
from apps.volumes.models import Volume
from tests.volumes.conftest import server_row


def _create(env, *, name="data", size_gb=100, server=None, actor=None, **extra):
    return services.volume_create(
        actor=actor or env.personas.owner,
        organisation=env.personas.org,
        project=env.personas.project,
        name=name,
        tier=env.tier,
        size_gb=size_gb,
        datacentre=env.shop.dc,
        server=server,
        **extra,
    )


def _reserved(env) -> int:
    return ClusterStorage.objects.get(pk=env.storage.pk).reserved_gb


def test_create_reserves_capacity_and_freezes_prices(volumes_env):
    volume, action = _create(volumes_env, size_gb=100, labels={"env": "prod"})
    assert volume.status == VolumeStatus.CREATING and action.type == ActionType.CREATE
    assert (volume.storage, volume.node_name, volume.cluster_id) == (
        "ceph-nvme",
        volumes_env.storage.node_name,
        volumes_env.storage.cluster_id,
    )
    assert volume.price_monthly == Decimal("15.00")
    assert volume.price_hourly == Decimal("0.020548")  # 15 / 730 at 6 places
    assert _reserved(volumes_env) == 100


def test_create_validates_size_name_and_tier(volumes_env):
    with pytest.raises(ValidationFailed) as error:
        _create(volumes_env, size_gb=9)
    assert "size_gb" in error.value.fields
    with pytest.raises(ValidationFailed):
        _create(volumes_env, size_gb=10_001)
    _create(volumes_env, name="data")
    with pytest.raises(ValidationFailed) as error:
        _create(volumes_env, name="data")
    assert "name" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.volume_create(
            actor=volumes_env.personas.owner,
            organisation=volumes_env.personas.org,
            project=volumes_env.personas.project,
            name="x",
            tier=volumes_env.shop.vps,
            size_gb=10,
            datacentre=volumes_env.shop.dc,
        )
    assert "tier" in error.value.fields


def test_viewer_cannot_create(volumes_env):
    with pytest.raises(PermissionDenied):
        _create(volumes_env, actor=volumes_env.personas.viewer)


def test_capacity_exhaustion_is_refused(volumes_env):
    _create(volumes_env, name="a", size_gb=550)
    with pytest.raises(Unavailable) as error:
        _create(volumes_env, name="b", size_gb=51)  # 600 GB envelope: 60 % of 1000
    assert error.value.code == "capacity_exhausted"
    _create(volumes_env, name="c", size_gb=50)
    assert _reserved(volumes_env) == 600


def _available(env, **fields) -> Volume:
    volume, _action = _create(env, **fields)
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.AVAILABLE, volid="ceph-nvme:vm-899999-disk-0")
    volume.refresh_from_db()
    volume.actions.update(status="success")
    return volume


def test_attach_checks_server_and_claims_once(volumes_env):
    volume = _available(volumes_env)
    server = server_row(volumes_env)
    action = services.volume_attach(actor=volumes_env.personas.owner, volume=volume, server=server)
    volume.refresh_from_db()
    assert action.type == ActionType.ATTACH
    assert (volume.status, volume.server_id) == (VolumeStatus.ATTACHING, server.pk)
    with pytest.raises(Conflict) as error:
        services.volume_attach(actor=volumes_env.personas.owner, volume=volume, server=server)
    assert error.value.code == "volume_busy"


def test_attach_refuses_other_project_datacentre_or_state(volumes_env):
    from tests.infrastructure.factories import DatacentreFactory

    volume = _available(volumes_env)
    other_dc = server_row(volumes_env, name="far", vmid=100_501, datacentre=DatacentreFactory(code="FRA-1"))
    with pytest.raises(ValidationFailed) as error:
        services.volume_attach(actor=volumes_env.personas.owner, volume=volume, server=other_dc)
    assert "server_id" in error.value.fields
    building = server_row(volumes_env, name="new", vmid=100_502, status="provisioning")
    with pytest.raises(Conflict):
        services.volume_attach(actor=volumes_env.personas.owner, volume=volume, server=building)


def test_detach_resize_delete_need_the_right_state(volumes_env):
    volume = _available(volumes_env, size_gb=100)
    with pytest.raises(Conflict):
        services.volume_detach(actor=volumes_env.personas.owner, volume=volume)
    with pytest.raises(Conflict) as error:
        services.volume_resize(actor=volumes_env.personas.owner, volume=volume, size_gb=200)
    assert error.value.code == "volume_not_attached"
    server = server_row(volumes_env)
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.IN_USE, server=server, slot="scsi1")
    volume.refresh_from_db()
    with pytest.raises(ValidationFailed):
        services.volume_resize(actor=volumes_env.personas.owner, volume=volume, size_gb=100)  # never shrink or equal
    with pytest.raises(Conflict) as error:
        services.volume_delete(actor=volumes_env.personas.owner, volume=volume)
    assert error.value.code == "volume_attached"
    services.volume_resize(actor=volumes_env.personas.owner, volume=volume, size_gb=200)
    assert _reserved(volumes_env) == 200
    volume.refresh_from_db()
    assert volume.status == VolumeStatus.RESIZING


def test_delete_protection(volumes_env):
    volume = _available(volumes_env)
    volume = services.volume_update(actor=volumes_env.personas.owner, volume=volume, delete_protection=True)
    with pytest.raises(Conflict) as error:
        services.volume_delete(actor=volumes_env.personas.owner, volume=volume)
    assert error.value.code == "delete_protected"
    volume = services.volume_update(
        actor=volumes_env.personas.owner, volume=volume, delete_protection=False, name="renamed", labels={"a": "b"}
    )
    assert (volume.name, volume.labels) == ("renamed", {"a": "b"})
    services.volume_delete(actor=volumes_env.personas.owner, volume=volume)
    volume.refresh_from_db()
    assert volume.status == VolumeStatus.DELETING


def test_deleted_server_leaves_its_volumes_detached(volumes_env):
    from apps.instances.signals import instance_status_changed

    volume = _available(volumes_env)
    server = server_row(volumes_env)
    Volume.objects.filter(pk=volume.pk).update(status=VolumeStatus.IN_USE, server=server, slot="scsi1")
    instance_status_changed.send(sender=None, instance_id=server.pk, before="deleting", after="deleted")
    volume.refresh_from_db()
    assert (volume.status, volume.server_id, volume.slot) == (VolumeStatus.AVAILABLE, None, "")


def test_throttle_follows_tier_and_size():
    small = rules.throttle(iops_per_tb=10_000, size_gb=10)
    assert (small.iops_rd, small.iops_wr, small.mbps_rd) == (100, 100, 50)  # floors
    big = rules.throttle(iops_per_tb=50_000, size_gb=2000)
    assert (big.iops_rd, big.iops_wr, big.mbps_rd, big.mbps_wr) == (100_000, 100_000, 1562, 1562)
    assert rules.throttle(iops_per_tb=500_000, size_gb=10_000).mbps_rd == rules.MAX_MBPS
    assert rules.size_error(10) is None and rules.size_error(10_001)


def test_quotas_count_volumes_and_gigabytes(volumes_env, settings):
    from apps.volumes.models import VolumeQuota

    settings.VOLUMES_DEFAULT_QUOTAS = {"max_volumes": 2, "max_total_gb": 150}
    _create(volumes_env, name="a", size_gb=100)
    with pytest.raises(Conflict) as error:
        _create(volumes_env, name="b", size_gb=60)
    assert error.value.code == "quota_exceeded"
    _create(volumes_env, name="b", size_gb=50)
    with pytest.raises(Conflict) as error:
        _create(volumes_env, name="c", size_gb=10)
    assert error.value.code == "quota_exceeded"
    VolumeQuota.objects.create(organisation=volumes_env.personas.org, max_volumes=3, max_total_gb=1000)
    _create(volumes_env, name="c", size_gb=10)
    assert _reserved(volumes_env) == 160
