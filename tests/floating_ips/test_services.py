"""Floating IP services: reserving from the pool, prices, quotas, assign/move/unassign/release rules, billing rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, PermissionDenied, Unavailable, ValidationFailed
from apps.floating_ips import selectors, services
from apps.floating_ips.choices import FloatingIpStatus as S
from apps.floating_ips.models import FloatingIp, FloatingIpQuota
from apps.infrastructure.models import IpAllocation, IpPool
from apps.instances.models import Action
from apps.instances.signals import instance_status_changed
from tests.floating_ips.conftest import create, server_row
from tests.infrastructure.factories import DatacentreFactory

pytestmark = pytest.mark.django_db


def test_create_reserves_a_pool_address_and_freezes_the_add_on_price(fip_env):
    fip, action = create(fip_env, labels={"env": "prod"})
    assert action is None and fip.status == S.AVAILABLE
    pool = IpPool.objects.get(datacentre=fip_env.shop.dc, family=4)
    assert fip.pool_id == pool.pk and fip.address.startswith("203.0.113.")
    assert fip.address not in ("203.0.113.0", "203.0.113.1", "203.0.113.255")  # network, gateway, broadcast
    allocation = IpAllocation.objects.get(address=fip.address)
    assert allocation.reservation_id is None and str(fip.public_id) in allocation.note
    assert (fip.price_monthly, fip.price_hourly) == (Decimal("3.00"), Decimal("0.004110"))
    fip_env.offer.price_monthly = Decimal("7.30")
    fip_env.offer.save()
    later, _ = create(fip_env, name="vip-2")
    assert (later.price_monthly, later.price_hourly) == (Decimal("7.30"), Decimal("0.010000"))
    fip.refresh_from_db()
    assert fip.price_monthly == Decimal("3.00")  # frozen at create
    assert later.address != fip.address


def test_an_address_taken_by_a_server_or_staff_is_skipped(fip_env):
    pool = IpPool.objects.get(datacentre=fip_env.shop.dc, family=4)
    for last in range(2, 10):
        IpAllocation.objects.create(pool=pool, address=f"203.0.113.{last}", note="blocked by staff")
    fip, _ = create(fip_env)
    assert fip.address == "203.0.113.10"


def test_a_full_pool_is_a_clear_409(fip_env):
    pool = IpPool.objects.get(datacentre=fip_env.shop.dc, family=4)
    IpAllocation.objects.bulk_create(IpAllocation(pool=pool, address=f"203.0.113.{n}") for n in range(2, 255))
    with pytest.raises(Unavailable) as exc:
        create(fip_env)
    assert exc.value.code == "no_address_available"


def test_quota_is_per_organisation_and_staff_editable(fip_env, settings):
    settings.FLOATING_IPS_DEFAULT_QUOTAS = {"max_floating_ips": 1}
    create(fip_env, name="a")
    with pytest.raises(Conflict) as exc:
        create(fip_env, name="b")
    assert exc.value.code == "quota_exceeded"
    FloatingIpQuota.objects.create(organisation=fip_env.personas.org, max_floating_ips=2)
    create(fip_env, name="b")


def test_names_are_unique_per_project_and_viewers_cannot_write(fip_env):
    create(fip_env, name="vip")
    with pytest.raises(ValidationFailed) as exc:
        create(fip_env, name="vip")
    assert "name" in exc.value.fields
    with pytest.raises(PermissionDenied):
        services.floating_ip_create(
            actor=fip_env.personas.viewer,
            organisation=fip_env.personas.org,
            project=fip_env.personas.project,
            name="nope",
            datacentre=fip_env.shop.dc,
        )


def test_assign_checks_datacentre_project_and_server_state(fip_env):
    fip, _ = create(fip_env)
    owner = fip_env.personas.owner
    elsewhere = server_row(fip_env, name="far", vmid=100_700, datacentre=DatacentreFactory(code="FRA-1"))
    with pytest.raises(ValidationFailed) as exc:
        services.floating_ip_assign(actor=owner, floating_ip=fip, server=elsewhere)
    assert "server_id" in exc.value.fields
    other = server_row(fip_env, name="other", vmid=100_701, project=fip_env.personas.org.projects.create(name="B"))
    with pytest.raises(ValidationFailed):
        services.floating_ip_assign(actor=owner, floating_ip=fip, server=other)
    building = server_row(fip_env, name="new", vmid=100_702, status="provisioning")
    with pytest.raises(Conflict) as busy:
        services.floating_ip_assign(actor=owner, floating_ip=fip, server=building)
    assert busy.value.code == "server_not_ready"


def test_assign_opens_one_action_and_a_second_write_waits(fip_env):
    fip, _ = create(fip_env)
    one = server_row(fip_env, name="one", vmid=100_601)
    two = server_row(fip_env, name="two", vmid=100_602)
    owner = fip_env.personas.owner
    action = services.floating_ip_assign(actor=owner, floating_ip=fip, server=one)
    assert (action.type, action.resource_type, action.resource_id, action.instance_id) == (
        "assign",
        "floating_ip",
        fip.public_id,
        one.pk,
    )
    fip.refresh_from_db()
    assert (fip.status, fip.server_id) == (S.ASSIGNING, one.pk)
    for call in (
        lambda: services.floating_ip_assign(actor=owner, floating_ip=fip, server=two),
        lambda: services.floating_ip_unassign(actor=owner, floating_ip=fip),
        lambda: services.floating_ip_delete(actor=owner, floating_ip=fip),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "floating_ip_busy"


def test_create_with_a_server_assigns_at_once_in_the_servers_datacentre(fip_env):
    server = server_row(fip_env)
    fip, action = services.floating_ip_create(
        actor=fip_env.personas.owner,
        organisation=fip_env.personas.org,
        project=fip_env.personas.project,
        name="vip",
        server=server,
    )
    assert fip.datacentre_id == server.datacentre_id and fip.status == S.ASSIGNING
    assert action is not None and action.params["server_id"] == server.pk


def test_delete_is_refused_while_protected(fip_env):
    fip, _ = create(fip_env, delete_protection=True)
    with pytest.raises(Conflict) as exc:
        services.floating_ip_delete(actor=fip_env.personas.owner, floating_ip=fip)
    assert exc.value.code == "delete_protected"
    services.floating_ip_update(actor=fip_env.personas.owner, floating_ip=fip, delete_protection=False, name="x")
    action = services.floating_ip_delete(actor=fip_env.personas.owner, floating_ip=fip)
    assert action.type == "delete"


def test_a_deleted_server_leaves_its_floating_ips_unassigned_and_kept(fip_env):
    server = server_row(fip_env)
    fip, _ = create(fip_env)
    FloatingIp.objects.filter(pk=fip.pk).update(server=server, status=S.ASSIGNED)
    instance_status_changed.send(sender=None, instance_id=server.pk, before="deleting", after="deleted")
    fip.refresh_from_db()
    assert (fip.status, fip.server_id) == (S.UNASSIGNING, None)
    action = Action.objects.get(resource_type="floating_ip", resource_id=fip.public_id)
    assert (action.type, action.params["previous_server_id"]) == ("unassign", server.pk)


def test_billable_rows_cover_create_to_release(fip_env):
    held, _ = create(fip_env, name="held")
    gone, _ = create(fip_env, name="gone")
    now = timezone.now()
    FloatingIp.objects.filter(pk=gone.pk).update(status=S.RELEASED, deleted_at=now - timedelta(hours=3))
    hour = selectors.floating_ips_billable(start=now - timedelta(hours=1), end=now + timedelta(minutes=1))
    assert list(hour.values_list("public_id", flat=True)) == [held.public_id]
    earlier = selectors.floating_ips_billable(start=now - timedelta(hours=4), end=now + timedelta(minutes=1))
    assert set(earlier.values_list("name", flat=True)) == {"held", "gone"}
    fields = ("organisation_id", "project_id", "public_id", "name", "price_hourly", "price_monthly")
    row = hour.values(*fields, "created_at", "deleted_at").get()
    assert row["price_monthly"] == Decimal("3.00") and row["deleted_at"] is None


def test_the_costs_forecast_counts_held_floating_ips_and_not_released_ones(fip_env):
    from apps.billing.choices import ResourceType
    from apps.billing.selectors import costs

    held, _ = create(fip_env, name="held")
    gone, _ = create(fip_env, name="gone")
    FloatingIp.objects.filter(pk=gone.pk).update(status=S.RELEASED, deleted_at=timezone.now() - timedelta(hours=1))
    summary = costs.cost_summary(organisation=fip_env.personas.org)
    rows = [r for r in summary.resources if r.resource_type == ResourceType.FLOATING_IP]
    assert [r.resource_id for r in rows] == [held.public_id]
    (row,) = rows
    assert row.billable_now and row.price_hourly == held.price_hourly and row.monthly_cap == Decimal("3.00")
    assert row.name == f"held ({held.address})" and row.kind == "Floating IP"
    assert Decimal("0") < row.forecast <= Decimal("3.00")
