"""The load balancer as a resource, end to end on the Proxmox simulator (Celery eager).

Created the way orders create it (``apps.managed.services.service_create`` for an LB offer):
its VM is built from the load-balancer image's template in the platform's organisation, boots
with the first configuration (cloud-init user-data), and the service becomes active once HAProxy
answers; later changes reach the simulator's guest through the guest agent, where the real
``haproxy -c`` checks them. Servers with the selected label join and leave the pool; deleting
the service deletes the VM and ends its billing.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from apps.catalogue.choices import FamilyKind
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.infrastructure import services as infra
from apps.infrastructure.models import Cluster
from apps.instances import services as instance_services
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance
from apps.instances.services.access import instance_driver
from apps.loadbalancers import services as lb_services
from apps.loadbalancers.models import LoadBalancer
from apps.loadbalancers.rules.delivery import certificate_path
from apps.managed import services as managed_services
from apps.managed.choices import ServiceState
from apps.managed.models import ManagedService, ServicePricePeriod
from apps.managed.rules import service_config_clean
from apps.networks import services as network_services
from apps.networks.models import Attachment, NetworkZone
from apps.pvesim.fleet import StorageSpec
from apps.pvesim.server import PveSimulator
from tests.factories import Personas
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, OsImageFactory, ip_pools
from tests.loadbalancers.support import haproxy_binary, make_chain


@pytest.fixture(autouse=True)
def _fast_driver(settings):
    settings.INSTANCES_DRIVER_OPTIONS = {
        "task_poll_interval": 0.01,
        "retries": 2,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    settings.INSTANCES_GUEST_AGENT_WAIT_SECONDS = 5


@pytest.fixture
def share(tmp_path: Path) -> Path:
    return tmp_path / "share"


@pytest.fixture
def pvesim(pvesim_fleet, pvesim_ca, share: Path) -> Iterator[PveSimulator]:
    """The test fleet plus a shared snippets storage (cloud-init user-data), as tests/instances/test_user_data.py."""
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


@dataclass
class Env:
    sim: Any
    dc: Any
    vps: Any
    ubuntu: Any
    lb_offer: Any


def _env(pvesim, share: Path) -> Env:
    haproxy_binary()  # the guest's "haproxy -c" is the real one: fail clearly without it
    ubuntu = OsImageFactory(slug="ubuntu-24.04")
    OsImageFactory(slug="debian-12", family="Debian", version="12")  # LOADBALANCERS_VM_IMAGE's default
    dc = DatacentreFactory(code="PAR-1")
    cluster = infra.cluster_create(
        datacentre=dc,
        name="test",
        api_url=pvesim.url + "/api2/json",
        token_id=pvesim.token_id,
        token_secret=pvesim.token_secret,
        tls_ca_pem=pvesim.ca_path.read_text(),
    )
    infra.inventory_sync(cluster=cluster)
    infra.cluster_update(cluster=cluster, snippets_storage="snippets-nfs", snippets_path=str(share))
    ip_pools(dc)
    vps = FamilyFactory(slug="vps", name="VPS")
    vps_offer = OfferFactory(family=vps, code="VPS-NANO", vcpu=1, ram_gb=2, disk_gb=20)  # LOADBALANCERS_VM_OFFER
    lb_family = FamilyFactory(slug="load-balancer", name="Load balancer", kind=FamilyKind.MANAGED_SERVICE)
    lb_offer = OfferFactory(
        family=lb_family,
        code="LB-STARTER",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal("29.00"),
        price_hourly=Decimal("0.0397"),
        lb_backends=5,
        lb_protocols=["HTTP", "HTTPS"],
        lb_requests_per_second=10_000,
        datacentres=[dc],
    )
    return Env(sim=pvesim, dc=dc, vps=vps_offer, ubuntu=ubuntu, lb_offer=lb_offer)


@pytest.fixture
def env(db, pvesim, share) -> Env:
    return _env(pvesim, share)


def _server(env: Env, personas: Personas, name: str, labels: dict[str, str]) -> Instance:
    reservation = infra.placement_reserve(offer=env.vps, datacentre=env.dc, image=env.ubuntu, actor=personas.owner)
    instance, _action = instance_services.instance_create(
        organisation=personas.org,
        project=personas.project,
        offer=env.vps,
        datacentre=env.dc,
        image=env.ubuntu,
        name=name,
        ssh_keys=[],
        user_data="",
        reservation=reservation,
        price_hourly=env.vps.price_hourly,
        price_monthly=env.vps.price_monthly,
        actor=personas.owner,
        labels=labels,
    )
    return instance


def _order_lb(env: Env, personas: Personas, name: str = "front") -> ManagedService:
    """As orders does when an LB order starts: the order's service object cleaned, then service_create."""
    config, secrets = service_config_clean(
        offer=env.lb_offer,
        data={
            "rules": [
                {"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080},
                {"protocol": "HTTPS", "port": 443, "target_protocol": "HTTP", "target_port": 8080},
            ],
            "targets": [{"kind": "label_selector", "label_selector": "role=web"}],
        },
    )
    return managed_services.service_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        offer=env.lb_offer,
        datacentre=env.dc,
        name=name,
        labels={},
        config=config,
        secrets=secrets,
    )


def _guest(env: Env, lb: LoadBalancer):
    assert lb.instance is not None
    return env.sim.guest(lb.instance.vmid)


def _lb(service: ManagedService) -> LoadBalancer:
    return LoadBalancer.objects.select_related("instance", "certificate").get(service=service)


def _upload(lb: LoadBalancer, personas: Personas, name: str):
    chain = make_chain((name,))
    return lb_services.lb_certificate_upload(
        actor=personas.owner,
        load_balancer=lb,
        certificate=chain.leaf.certificate,
        chain=chain.intermediate.certificate,
        private_key=chain.leaf.key,
    )


def test_create_apply_follow_labels_change_certificate_and_delete(env, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        web1 = _server(env, personas, "web-1", {"role": "web"})
        _server(env, personas, "db-1", {"role": "db"})

    # Created as an order creates it: the VM is built, boots with the first configuration, the service goes live.
    with django_capture_on_commit_callbacks(execute=True):
        service = _order_lb(env, personas)
    service.refresh_from_db()
    lb = _lb(service)
    assert service.state == ServiceState.ACTIVE, lb.apply_error
    vm = lb.instance
    assert vm is not None and vm.status == InstanceStatus.RUNNING
    assert vm.organisation.slug == "platform-load-balancers" and vm.price_monthly == 0
    assert not Instance.objects.filter(organisation=personas.org, pk=vm.pk).exists(), "not a customer's server"
    assert vm.user_data.startswith("#cloud-config") and "PRIVATE KEY" not in vm.user_data
    assert ServicePricePeriod.objects.get(service=service).ended_at is None  # billed from activation
    assert service.endpoints["urls"] == [f"http://{vm.ipv4}:80", f"https://{vm.ipv4}:443"]

    web1.refresh_from_db()
    assert (lb.applied_generation, lb.config_generation) == (1, 1)
    assert [t["id"] for t in lb.applied_targets] == [str(web1.public_id)]
    guest = _guest(env, lb)
    assert guest.haproxy_active and guest.haproxy_config == lb.applied_config.encode()
    assert f"{web1.ipv4}:8080" in lb.applied_config
    assert ":443" not in lb.applied_config, "the HTTPS rule waits for a certificate"
    assert "haproxy -c -f /etc/haproxy/haproxy.cfg.new: 0" in guest.journal, "the real haproxy -c passed"

    # A new server with the label joins the pool: the configuration is applied again.
    reloads = guest.haproxy_reloads
    with django_capture_on_commit_callbacks(execute=True):
        web2 = _server(env, personas, "web-2", {"role": "web"})
    web2.refresh_from_db()
    lb = _lb(service)
    assert (lb.applied_generation, lb.config_generation) == (2, 2)
    assert {t["id"] for t in lb.applied_targets} == {str(web1.public_id), str(web2.public_id)}
    guest = _guest(env, lb)
    assert f"{web2.ipv4}:8080" in guest.haproxy_config.decode()
    assert guest.haproxy_reloads == reloads + 1

    # Health as HAProxy reports it on its stats socket (the simulator's answers the checks from whether each
    # target's VM runs): both up; a stopped server is down, up again once started.
    health = lb_services.lb_health_read(lb_id=lb.pk)
    assert health == {str(web1.public_id): "up", str(web2.public_id): "up"}
    with django_capture_on_commit_callbacks(execute=True):
        instance_services.instance_stop(instance=web2, actor=personas.owner)
    assert lb_services.lb_health_read(lb_id=lb.pk) == {str(web1.public_id): "up", str(web2.public_id): "down"}
    with django_capture_on_commit_callbacks(execute=True):
        instance_services.instance_start(instance=web2, actor=personas.owner)
    assert lb_services.lb_health_read(lb_id=lb.pk) == {str(web1.public_id): "up", str(web2.public_id): "up"}
    # Unreadable (HAProxy stopped on the VM: no stats socket): unknown, never invented.
    guest = _guest(env, lb)
    guest.haproxy_active = False
    assert set(lb_services.lb_health_read(lb_id=lb.pk).values()) == {"unknown"}
    guest.haproxy_active = True

    # A certificate: TLS termination starts; a second one replaces it, the first file is removed.
    with django_capture_on_commit_callbacks(execute=True):
        first = _upload(lb, personas, "shop.example.com")
    lb = _lb(service)
    first_path = certificate_path(first.fingerprint_sha256)
    guest = _guest(env, lb)
    assert lb.applied_generation == lb.config_generation == 3
    assert f"crt {first_path}" in guest.haproxy_config.decode() and ":443" in lb.applied_config
    assert b"PRIVATE KEY" in guest.files[first_path] and guest.modes[first_path] == 0o600
    assert "PRIVATE KEY" not in first.certificate_pem + first.chain_pem
    assert "PRIVATE KEY" not in first.private_key_encrypted

    with django_capture_on_commit_callbacks(execute=True):
        second = _upload(lb, personas, "www.example.com")
    lb = _lb(service)
    second_path = certificate_path(second.fingerprint_sha256)
    guest = _guest(env, lb)
    assert lb.applied_generation == lb.config_generation == 4 and lb.certificate_id == second.pk
    assert f"crt {second_path}" in guest.haproxy_config.decode()
    assert second_path in guest.files and first_path not in guest.files

    # A deleted server leaves the pool.
    with django_capture_on_commit_callbacks(execute=True):
        instance_services.instance_delete(instance=web1, actor=personas.owner)
    lb = _lb(service)
    assert [t["id"] for t in lb.applied_targets] == [str(web2.public_id)]
    assert f"{web1.ipv4}:8080" not in _guest(env, lb).haproxy_config.decode()

    # Deleted: the VM goes, billing ends with the service.
    vmid = vm.vmid
    with django_capture_on_commit_callbacks(execute=True):
        managed_services.service_cancel(service=service, actor=personas.owner, confirm_name="front")
    service.refresh_from_db()
    vm.refresh_from_db()
    assert service.state == ServiceState.CANCELLED and service.ended_at is not None
    assert ServicePricePeriod.objects.get(service=service).ended_at == service.ended_at
    assert vm.status == InstanceStatus.DELETED
    with env.sim.cluster.lock:
        assert vmid not in env.sim.cluster.vms


def _ok(action) -> None:
    action.refresh_from_db()
    assert action.status == "success", (action.error_code, action.error_detail)


def test_targets_sharing_a_private_network_are_reached_over_it(env, personas, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    cluster = Cluster.objects.get(datacentre=env.dc)
    NetworkZone.objects.create(cluster=cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"})
    with cap(execute=True):
        web1 = _server(env, personas, "web-1", {"role": "web"})
        web2 = _server(env, personas, "web-2", {"role": "web"})
    with cap(execute=True):
        network, action = network_services.network_create(
            actor=personas.owner,
            organisation=personas.org,
            project=personas.project,
            name="backend",
            datacentre=env.dc,
            ip_range="10.20.0.0/16",
            subnets=["10.20.1.0/24"],
        )
    _ok(action)
    network.refresh_from_db()
    with cap(execute=True):
        action = network_services.network_attach(actor=personas.owner, network=network, server=web1)
    _ok(action)
    with cap(execute=True):  # the server's guest configures its new card at boot
        instance_services.instance_reboot(instance=web1, actor=personas.owner)
    web1.refresh_from_db()
    web2.refresh_from_db()

    with cap(execute=True):
        service = _order_lb(env, personas)
    lb = _lb(service)
    assert ManagedService.objects.get(pk=service.pk).state == ServiceState.ACTIVE, lb.apply_error
    # The load balancer's VM joined the network its target is on, through the networks app (next free address).
    card = Attachment.objects.get(network=network, instance=lb.instance)
    assert (card.status, card.address, card.nic_index) == ("attached", "10.20.1.3", 1)
    driver = instance_driver(cluster)
    options = driver.config(lb.instance.node_name, lb.instance.vmid).options
    assert f"bridge={network.vnet}" in options["net1"] and options["ipconfig1"] == "ip=10.20.1.3/24"
    assert "platform" not in Instance.objects.filter(organisation=personas.org).values_list("name", flat=True)

    # The card's attachment was an event (server_network_changed): the configuration already reaches
    # web-1 by its private address, web-2 by its public one, and the beat's safety net finds nothing to do.
    with cap(execute=True):
        assert lb_services.lb_sync_all() == {"refreshed": 0, "resent": 0}
    lb = _lb(service)
    assert f"server {web1.public_id} 10.20.1.2:8080" in lb.applied_config
    assert f"server {web2.public_id} {web2.ipv4}:8080" in lb.applied_config
    assert {t["id"]: t["address"] for t in lb.applied_targets} == {
        str(web1.public_id): "10.20.1.2",
        str(web2.public_id): str(web2.ipv4),
    }
    guest = _guest(env, lb)
    assert guest.addresses == {"eth1": {"10.20.1.3/24"}}, "the hot-plugged card was addressed by the guest agent"
    assert lb_services.lb_health_read(lb_id=lb.pk) == {str(web1.public_id): "up", str(web2.public_id): "up"}
    # Strict: without its private card's address, the load balancer's HAProxy cannot reach web-1.
    guest.addresses.clear()
    assert lb_services.lb_health_read(lb_id=lb.pk)[str(web1.public_id)] == "down"

    # web-1 leaves the network: it is reached by its public address again, and the load balancer leaves too.
    with cap(execute=True):
        action = network_services.network_detach(actor=personas.owner, network=network, server=web1)
    _ok(action)
    with cap(execute=True):
        lb_services.lb_sync_all()
    lb = _lb(service)
    assert f"server {web1.public_id} {web1.ipv4}:8080" in lb.applied_config and "10.20.1." not in lb.applied_config
    card.refresh_from_db()
    assert card.status == "detached"
    options = driver.config(lb.instance.node_name, lb.instance.vmid).options
    assert "net1" not in options and "ipconfig1" not in options
    # Nothing left on the network: the customer can delete it.
    with cap(execute=True):
        action = network_services.network_delete(actor=personas.owner, network=network)
    _ok(action)


def test_changes_are_checked_against_the_tier_and_the_engine(env, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        service = _order_lb(env, personas)
    lb = _lb(service)
    with pytest.raises(ValidationFailed) as tcp:
        lb_services.lb_rules_set(
            actor=personas.owner,
            load_balancer=lb,
            rules=[{"protocol": "TCP", "port": 5432, "target_protocol": "TCP", "target_port": 5432}],
        )
    assert "rules.0.protocol" in tcp.value.fields
    with pytest.raises(ValidationFailed) as check:
        lb_services.lb_health_check_set(
            actor=personas.owner,
            load_balancer=lb,
            health_check={"protocol": "http", "interval_seconds": 1, "timeout_seconds": 5},
        )
    assert "health_check" in check.value.fields
    with pytest.raises(ValidationFailed) as redirect:
        lb_services.lb_settings_update(
            actor=personas.owner, load_balancer=lb, sticky_sessions={"cookie_name": "bad cookie"}
        )
    assert "sticky_sessions.cookie_name" in redirect.value.fields
    one, other = make_chain(("a.example.com",)), make_chain(("b.example.com",))
    with pytest.raises(ValidationFailed) as mismatch:  # the key is another certificate's
        lb_services.lb_certificate_upload(
            actor=personas.owner,
            load_balancer=lb,
            certificate=one.leaf.certificate,
            chain=one.intermediate.certificate,
            private_key=other.leaf.key,
        )
    assert "private_key" in mismatch.value.fields
    with pytest.raises(PermissionDenied):
        lb_services.lb_rules_set(actor=personas.viewer, load_balancer=lb, rules=lb.rules)
    lb.refresh_from_db()
    assert lb.config_generation == lb.applied_generation == 1, "nothing refused was saved or applied"

    with django_capture_on_commit_callbacks(execute=True):
        lb_services.lb_settings_update(
            actor=personas.owner,
            load_balancer=lb,
            sticky_sessions={"cookie_name": "SRV", "ttl_seconds": 600},
            proxy_protocol=True,
        )
    lb = _lb(service)
    assert lb.applied_generation == lb.config_generation == 2
    assert "cookie SRV" in lb.applied_config and "send-proxy" in lb.applied_config


@pytest.mark.django_db(transaction=True)
def test_two_changes_at_once_the_last_generation_wins_each_applied_once(transactional_db, pvesim, share, monkeypatch):
    from tests.factories import personas_create

    env = _env(pvesim, share)
    personas = personas_create()
    _server(env, personas, "web-1", {"role": "web"})  # autocommit: provisioned on commit (eager)
    service = _order_lb(env, personas)
    service.refresh_from_db()
    assert service.state == ServiceState.ACTIVE
    lb = _lb(service)
    reloads = _guest(env, lb).haproxy_reloads

    applied: list[int] = []
    original = lb_services.apply._apply_once

    def recording(row, instance):
        applied.append(row.config_generation)
        return original(row, instance)

    monkeypatch.setattr(lb_services.apply, "_apply_once", recording)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def change(port: int) -> None:
        try:
            barrier.wait(timeout=10)
            lb_services.lb_rules_set(
                actor=personas.owner,
                load_balancer=lb,
                rules=[{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": port}],
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=change, args=(port,)) for port in (8081, 8082)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    lb = _lb(service)
    last_port = lb.rules[0]["target_port"]
    assert lb.config_generation == 3 and lb.applied_generation == 3, lb.apply_error
    assert f":{last_port}" in lb.applied_config and f":{8163 - last_port}" not in lb.applied_config
    assert applied and applied[-1] == 3 and len(applied) == len(set(applied)), applied
    guest = _guest(env, lb)
    assert guest.haproxy_config == lb.applied_config.encode()
    assert guest.haproxy_reloads == reloads + len(applied)
    assert lb.apply_task == ""


def test_back_office_lists_every_load_balancer_with_its_vm_and_applied_configuration(
    env, personas, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        service = _order_lb(env, personas)
    lb = _lb(service)
    client.force_login(personas.staff)

    listing = client.get("/admin/loadbalancers/loadbalancer/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "front" in body and f"{lb.instance.node_name}/{lb.instance.vmid}" in body

    page = client.get(f"/admin/loadbalancers/loadbalancer/{lb.pk}/change/")
    assert page.status_code == 200
    assert lb.applied_config.splitlines()[0] in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/loadbalancers/loadbalancer/",
            {"action": "apply_again", "_selected_action": [lb.pk]},
        )
    assert response.status_code == 302
    lb.refresh_from_db()
    assert lb.applied_generation == lb.config_generation == 2
    response = client.get("/admin/loadbalancers/loadbalancer/", {"q": "front"})
    assert response.status_code == 200
    client.force_login(personas.owner)
    assert client.get("/admin/loadbalancers/loadbalancer/").status_code == 302  # not staff: to the login


def test_the_api_reads_and_changes_a_load_balancer(env, personas, api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        web1 = _server(env, personas, "web-1", {"role": "web"})
        service = _order_lb(env, personas)
    base = f"/api/v1/services/{service.public_id}/load-balancer/"
    api_client.force_authenticate(personas.member)

    body = api_client.get(base).json()
    assert body["applied_generation"] == body["config_generation"] == 1
    assert (body["apply_status"], body["apply_error_code"]) == ("applied", "")
    # A failed apply says so with its code only; Proxmox's or the VM's text stays for staff.
    LoadBalancer.objects.filter(pk=_lb(service).pk).update(
        config_generation=2, apply_error="proxmox: 500 QEMU guest agent is not running on node gpu2"
    )
    failed = api_client.get(base).json()
    assert (failed["apply_status"], failed["apply_error_code"]) == ("failed", "proxmox")
    assert "gpu2" not in api_client.get(base).content.decode()
    LoadBalancer.objects.filter(pk=_lb(service).pk).update(apply_error="")
    assert api_client.get(base).json()["apply_status"] == "pending"
    LoadBalancer.objects.filter(pk=_lb(service).pk).update(config_generation=1)
    assert body["applied_targets"] == [
        {
            "id": str(web1.public_id),
            "name": "web-1",
            "address": Instance.objects.get(pk=web1.pk).ipv4,
            "health": "unknown",
        }
    ]
    assert body["certificate"] is None and body["tls_mode"] == "terminate"

    refused = api_client.put(
        f"{base}rules/",
        {"rules": [{"protocol": "TCP", "port": 22, "target_protocol": "TCP", "target_port": 22}]},
        format="json",
    )
    assert refused.status_code == 400 and "rules.0.protocol" in refused.json()["error"]["fields"]

    chain = make_chain(("api.example.com",))
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = api_client.post(
            f"{base}certificate/",
            {
                "certificate": chain.leaf.certificate,
                "chain": chain.intermediate.certificate,
                "private_key": chain.leaf.key,
            },
            format="json",
        )
    assert uploaded.status_code == 200, uploaded.json()
    assert uploaded.json()["certificate"]["names"] == ["api.example.com", "127.0.0.1"]
    assert "PRIVATE KEY" not in uploaded.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        patched = api_client.patch(f"{base}settings/", {"redirect_http_to_https": True}, format="json")
    assert patched.status_code == 200 and patched.json()["redirect_http_to_https"] is True
    body = api_client.get(base).json()
    assert body["applied_generation"] == body["config_generation"] == 3
    assert "http-request redirect location" in _lb(service).applied_config

    health = api_client.post(f"{base}actions/read_health/")
    assert health.status_code == 200 and health.json()["applied_targets"][0]["health"] == "up"

    api_client.force_authenticate(personas.viewer)
    assert api_client.get(base).status_code == 200
    assert api_client.patch(f"{base}settings/", {"proxy_protocol": True}, format="json").status_code == 403
    api_client.force_authenticate(personas.outsider)
    assert api_client.get(base).status_code == 404


def test_the_portal_page_shows_rules_targets_health_and_takes_a_certificate(
    env, personas, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        web1 = _server(env, personas, "web-1", {"role": "web"})
        service = _order_lb(env, personas)
    url = f"/services/{service.public_id}/load-balancer/"
    client.force_login(personas.member)

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "HTTP 80" in html and "HTTPS 443" in html and "role=web" in html
    assert f'data-target="{web1.public_id}"' in html and 'data-health="unknown"' in html
    assert "HTTPS rules that terminate TLS wait for one" in html
    assert f"/api/v1/services/{service.public_id}/load-balancer/" in html and "$VMCLOUD_TOKEN" in html

    # "Read health now": HAProxy's answer on the VM, UP while web-1 runs, DOWN once it is stopped.
    html = client.post(f"{url}health/", follow=True).content.decode()
    assert 'data-health="up">UP<' in html
    with django_capture_on_commit_callbacks(execute=True):
        instance_services.instance_stop(instance=web1, actor=personas.owner)
    html = client.post(f"{url}health/", follow=True).content.decode()
    assert 'data-health="down">DOWN<' in html

    chain = make_chain(("portal.example.com",))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{url}certificate/",
            {
                "certificate": chain.leaf.certificate,
                "chain": chain.intermediate.certificate,
                "private_key": chain.leaf.key,
            },
        )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "portal.example.com" in html and "expires on" in html
    assert _lb(service).applied_generation == 2

    bad = client.post(f"{url}certificate/", {"certificate": "nope", "chain": "", "private_key": "nope"}, follow=True)
    assert "certificate" in bad.content.decode() and _lb(service).config_generation == 2

    client.force_login(personas.viewer)
    assert client.get(url).status_code == 200
    assert client.post(f"{url}health/").status_code == 403
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404


def test_suspend_stops_the_vm_resume_starts_it_and_status_reads_it(env, personas, django_capture_on_commit_callbacks):
    from apps.managed.backends import backend_for

    with django_capture_on_commit_callbacks(execute=True):
        service = _order_lb(env, personas)
    service.refresh_from_db()
    backend = backend_for(service.family)
    assert not backend.staff_fulfilled
    assert backend.status(service).state == "active"

    with django_capture_on_commit_callbacks(execute=True):
        managed_services.service_suspend(service=service, actor=personas.staff, reason="Unpaid invoice.")
    vm = _lb(service).instance
    assert vm.status == InstanceStatus.STOPPED
    assert backend.status(service).state == "suspended"

    with django_capture_on_commit_callbacks(execute=True):
        managed_services.service_resume(service=service, actor=personas.staff, reason="Paid.")
    vm.refresh_from_db()
    assert vm.status == InstanceStatus.RUNNING and backend.status(service).state == "active"


def test_a_label_edit_is_followed_at_once_without_the_beat(
    env, personas, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        db1 = _server(env, personas, "db-1", {"role": "db"})
        service = _order_lb(env, personas)
    assert _lb(service).applied_targets == []

    def beat(*args, **kwargs):
        raise AssertionError("the beat's sweep ran: the label edit should have been an event")

    monkeypatch.setattr(lb_services, "lb_sync_all", beat)  # what the beat task calls
    with django_capture_on_commit_callbacks(execute=True):
        instance_services.instance_update(instance=db1, actor=personas.owner, labels={"role": "web"})
    lb = _lb(service)
    assert [t["id"] for t in lb.applied_targets] == [str(db1.public_id)] and lb.applied_generation == 2
    # And back: the server stops matching the selector, it leaves the targets at once.
    with django_capture_on_commit_callbacks(execute=True):
        instance_services.instance_update(instance=db1, actor=personas.owner, labels={"role": "db"})
    lb = _lb(service)
    assert lb.applied_targets == [] and lb.applied_generation == 3


def test_a_label_edit_is_followed_by_the_beat_and_a_lost_apply_is_sent_again(
    env, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        db1 = _server(env, personas, "db-1", {"role": "db"})
        service = _order_lb(env, personas)
    assert _lb(service).applied_targets == []

    # The edit's event is lost (its on-commit callback never runs here): the beat catches up.
    instance_services.instance_update(instance=db1, actor=personas.owner, labels={"role": "web"})
    with django_capture_on_commit_callbacks(execute=True):
        assert lb_services.lb_sync_all() == {"refreshed": 1, "resent": 0}
    lb = _lb(service)
    assert [t["id"] for t in lb.applied_targets] == [str(db1.public_id)] and lb.applied_generation == 2

    # A change whose apply message was lost: the beat sends it again, once.
    LoadBalancer.objects.filter(pk=lb.pk).update(config_generation=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert lb_services.lb_sync_all() == {"refreshed": 0, "resent": 1}
    assert _lb(service).applied_generation == 3
    assert lb_services.lb_sync_all() == {"refreshed": 0, "resent": 0}
