"""The Terraform provider's overhead: ``terraform apply``/``destroy`` of small stacks vs the same SDK calls.

    python benchmarks/terraform_bench.py [--keys 10] [--projects 5] [--servers 10] [--stack keys|cloud|both]

Two stacks. ``keys``: SSH keys and projects (API calls without Actions), so the
figures measure the provider itself - Terraform's graph walk, one Python provider
process per command, gRPC, state encoding. ``cloud``, the small stack of issue 15:
a private network, a firewall over a label, ``--servers`` servers with a volume
each, and a load balancer forwarding to the servers' label, provisioned on the
Proxmox simulator (tasks of zero seconds, Celery eager in the web workers; the
load balancer's VM boots with its configuration, which the real ``haproxy -c``
checks) - the same work through the SDK gives the ratio.

A throwaway PostgreSQL database (``test_vmcloud_tfbench``, recreated each run) is
served by gunicorn on a free loopback port; Terraform installs the provider offline
from a filesystem mirror (docs page ``/docs/terraform/``) and runs with
``-parallelism=1`` (one organisation's concurrent creates lock each other, as in
the provider's live tests). Prints both times and the ratio; the figures depend on
the host's load and are never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS = "benchmarks.tfbench.settings"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _platform(cloud: bool) -> tuple[str, int, object | None]:
    """A fresh database with one organisation; returns a read-write token, the organisation id, the simulator.

    With ``cloud``, the Proxmox simulator runs in this process and the catalogue sells what the cloud stack orders.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()
    from django.db import connection

    from apps.accounts.models import User
    from apps.teams.choices import TokenScope
    from apps.teams.services import api_token_create, organisation_create

    if connection.vendor != "postgresql":
        sys.exit("terraform_bench needs PostgreSQL.")
    connection.settings_dict["TEST"]["NAME"] = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    owner = User.objects.create_user(email="bench@example.test", password="x")  # noqa: S106 - throwaway
    org = organisation_create(name="Bench", owner=owner, actor=owner)
    _token, secret = api_token_create(
        user=owner, organisation=org, name="bench", scope=TokenScope.READ_WRITE, expires_at=None
    )
    sim = _cloud_world() if cloud else None
    connection.close()
    return str(secret), int(org.id), sim


def _cloud_world() -> object:
    """PAR-1 on the simulator's test fleet with a snippets storage, as ``tests/clients/lbsim.py`` and the
    ``extras`` fixture of ``tests/clients/conftest.py`` build it: servers, a storage tier, an SDN zone, the
    load balancers' VM offer and image, one load balancer tier."""
    import dataclasses
    from decimal import Decimal

    from apps.catalogue.choices import FamilyKind
    from apps.infrastructure import services as infra
    from apps.infrastructure.models import ClusterStorage, Node
    from apps.networks.models import NetworkZone
    from apps.pvesim.fleet import StorageSpec, load_fleet
    from apps.pvesim.server import PveSimulator
    from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, OsImageFactory, ip_pools
    from tests.volumes.conftest import HOLDER, storage_tier

    if not shutil.which("haproxy"):
        sys.exit("the cloud stack needs haproxy (apt-get install haproxy): the load balancer's guest runs haproxy -c")
    scratch = Path(tempfile.mkdtemp(prefix="tfbench-sim-"))
    spec = load_fleet(ROOT / "apps" / "pvesim" / "fleets" / "test.yaml").cluster()
    nfs = StorageSpec(
        name="snippets-nfs", type="nfs", content=("snippets",), shared=True, size_gb=10, path=str(scratch / "share")
    )
    sim = PveSimulator(
        dataclasses.replace(spec, storages=(*spec.storages, nfs)), task_seconds=0.0, ca_path=scratch / "ca.pem"
    ).start()
    OsImageFactory(slug="ubuntu-24.04")
    OsImageFactory(slug="debian-12", family="Debian", version="12")
    dc = DatacentreFactory(code="PAR-1")
    cluster = infra.cluster_create(
        datacentre=dc,
        name="bench",
        api_url=sim.url + "/api2/json",
        token_id=sim.token_id,
        token_secret=sim.token_secret,
        tls_ca_pem=sim.ca_path.read_text(),
    )
    infra.inventory_sync(cluster=cluster)
    infra.cluster_update(cluster=cluster, snippets_storage="snippets-nfs", snippets_path=str(scratch / "share"))
    Node.objects.update(cores=4096, ram_gb=16384)  # the ledger's view: room for every VM of the run
    ip_pools(dc)
    vps = FamilyFactory(slug="vps", name="VPS")
    for code in ("VPS-S", "VPS-NANO"):
        OfferFactory(family=vps, code=code, vcpu=1, ram_gb=2, disk_gb=20, datacentres=[dc])
    tier = storage_tier(dc)
    ClusterStorage.objects.create(
        cluster=cluster, tier=tier, storage="ceph-nvme", node_name="pve1", holder_vmid=HOLDER, capacity_gb=100_000
    )
    NetworkZone.objects.create(cluster=cluster, name="vmcnets", zone_type="vxlan", options={"peers": "10.255.0.1"})
    family = FamilyFactory(slug="load-balancer", name="Load balancer", kind=FamilyKind.MANAGED_SERVICE)
    OfferFactory(
        family=family,
        code="LB-BUSINESS",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal("99.00"),
        price_hourly=Decimal("0.1356"),
        lb_backends=20,
        lb_protocols=["HTTP", "HTTPS", "TCP", "UDP"],
        lb_requests_per_second=50_000,
        datacentres=[dc],
    )
    return sim


def _public_keys(count: int) -> list[str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return [
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
        for _ in range(count)
    ]


def _stack(keys: list[str], projects: int) -> str:
    blocks = [
        'terraform {\n  required_providers {\n    vmcloud = {\n      source  = "vmcloud.example/vmcloud/vmcloud"\n'
        '      version = "0.1.0"\n    }\n  }\n}\nprovider "vmcloud" {}\n'
    ]
    blocks += [
        f'resource "vmcloud_ssh_key" "k{i}" {{\n  name       = "tf-{i}"\n  public_key = "{key}"\n}}\n'
        for i, key in enumerate(keys)
    ]
    blocks += [
        f'resource "vmcloud_project" "p{i}" {{\n  name   = "tf-{i}"\n  labels = {{ bench = "tf" }}\n}}\n'
        for i in range(projects)
    ]
    return "\n".join(blocks)


PROVIDER = (
    'terraform {\n  required_providers {\n    vmcloud = {\n      source  = "vmcloud.example/vmcloud/vmcloud"\n'
    '      version = "0.1.0"\n    }\n  }\n}\nprovider "vmcloud" {}\n'
)
RULE = {"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}


def _cloud_stack(servers: int) -> str:
    return (
        PROVIDER
        + f"""
resource "vmcloud_network" "backend" {{
  name       = "tf-backend"
  ip_range   = "10.30.0.0/16"
  datacentre = "PAR-1"
}}

resource "vmcloud_firewall" "web" {{
  name = "tf-web"
  rule {{
    direction  = "in"
    protocol   = "tcp"
    port       = "8080"
    source_ips = ["0.0.0.0/0"]
  }}
  apply_to {{
    label_selector = "stack=tf"
  }}
}}

resource "vmcloud_server" "web" {{
  count      = {servers}
  name       = "tf-web-${{count.index}}"
  offer      = "VPS-S"
  datacentre = "PAR-1"
  image      = "ubuntu-24.04"
  labels     = {{ stack = "tf" }}
}}

resource "vmcloud_volume" "data" {{
  count      = {servers}
  name       = "tf-data-${{count.index}}"
  tier       = "STORAGE-NVME"
  size       = 10
  datacentre = "PAR-1"
  server_id  = vmcloud_server.web[count.index].id
}}

resource "vmcloud_load_balancer" "front" {{
  name       = "tf-front"
  offer      = "LB-BUSINESS"
  datacentre = "PAR-1"
  rule {{
    protocol        = "HTTP"
    port            = 80
    target_protocol = "HTTP"
    target_port     = 8080
  }}
  target {{
    label_selector = "stack=tf"
  }}
  depends_on = [vmcloud_server.web]
}}
"""
    )


def _sdk_cloud(url: str, token: str, servers: int) -> tuple[float, float]:
    """What the cloud stack's apply and destroy do, one SDK call after another (and the same waits)."""
    import vmcloud

    client = vmcloud.Client(url, token)
    started = time.perf_counter()
    network, action = client.create_network(name="sdk-backend", ip_range="10.40.0.0/16", datacentre="PAR-1")
    action.wait()
    rule = {"direction": "in", "protocol": "tcp", "port": "8080", "source_ips": ["0.0.0.0/0"]}
    firewall, actions = client.create_firewall(
        name="sdk-web", rules=[rule], apply_to=[{"type": "label_selector", "label_selector": {"selector": "stack=sdk"}}]
    )
    for action in actions:
        action.wait()
    made: list[tuple[str, str]] = []
    for i in range(servers):
        order, wait = client.create_server(name=f"sdk-web-{i}", offer="VPS-S", datacentre="PAR-1", image="ubuntu-24.04")
        assert wait is not None, "the server's order waits for approval"
        wait.wait()
        server_id = str(client.orders_retrieve(str(order["id"]))["instance"])
        client.instances_update(server_id, body={"labels": {"stack": "sdk"}})  # type: ignore[typeddict-item]
        volume, action = client.create_volume(
            name=f"sdk-data-{i}", tier="STORAGE-NVME", size_gb=10, datacentre="PAR-1", server=server_id
        )
        action.wait()
        made.append((server_id, str(volume["id"])))
    _order, service = client.create_load_balancer(
        name="sdk-front",
        offer="LB-BUSINESS",
        datacentre="PAR-1",
        rules=[RULE],
        targets=[{"kind": "label_selector", "label_selector": "stack=sdk"}],
    )
    assert service is not None, "the load balancer's order waits for approval"
    client.wait_service(str(service["id"]))
    client.wait_load_balancer_applied(str(service["id"]))
    created = time.perf_counter() - started

    started = time.perf_counter()
    client.cancel_service(str(service["id"]), reason="bench")
    for server_id, volume_id in made:
        client.action(client.volumes_detach(volume_id)).wait()
        client.action(client.volumes_destroy(volume_id)).wait()
        client.action(client.instances_destroy(server_id)).wait()
    client.action(client.firewalls_destroy(str(firewall["id"]))).wait()
    client.action(client.networks_destroy(str(network["id"]))).wait()
    return created, time.perf_counter() - started


def _sdk(url: str, token: str, organisation: int, keys: list[str], projects: int) -> tuple[float, float]:
    import vmcloud

    client = vmcloud.Client(url, token)
    started = time.perf_counter()
    made_keys = [
        client.ssh_keys_create(body={"name": f"sdk-{i}", "public_key": key, "organisation_id": organisation})
        for i, key in enumerate(keys)
    ]
    made_projects = [
        client.projects_create(organisation, body={"name": f"sdk-{i}", "labels": {"bench": "sdk"}})
        for i in range(projects)
    ]
    created = time.perf_counter() - started
    started = time.perf_counter()
    for key in made_keys:
        client.ssh_keys_destroy(key["id"])
    for project in made_projects:
        client.projects_destroy(organisation, project["id"])
    return created, time.perf_counter() - started


def _terraform(url: str, token: str, stack: str) -> tuple[float, float]:
    from terraform_provider_vmcloud import mirror

    binary = shutil.which("terraform")
    if not binary:
        sys.exit("terraform is not on PATH (Terraform 1.11; see the docs page /docs/terraform/)")
    tmp = Path(tempfile.mkdtemp(prefix="tfbench-"))
    mirror.build(tmp / "mirror", python=sys.executable)
    (tmp / "cli.tfrc").write_text(mirror.cli_config(tmp / "mirror"))
    work = tmp / "stack"
    work.mkdir()
    (work / "main.tf").write_text(stack)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "VMCLOUD_", "DJANGO_"))}
    env.update(
        {
            "HOME": str(tmp),
            "TF_CLI_CONFIG_FILE": str(tmp / "cli.tfrc"),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "VMCLOUD_URL": url,
            "VMCLOUD_TOKEN": token,
        }
    )

    def run(*args: str) -> float:
        started = time.perf_counter()
        done = subprocess.run(
            [binary, *args, "-input=false", "-no-color"], cwd=work, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            sys.exit(f"terraform {args[0]} failed:\n{done.stderr}\n{done.stdout[-4000:]}")
        return time.perf_counter() - started

    run("init")
    applied = run("apply", "-auto-approve", "-parallelism=1")
    destroyed = run("destroy", "-auto-approve", "-parallelism=1")
    shutil.rmtree(tmp, ignore_errors=True)
    return applied, destroyed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--stack", choices=("keys", "cloud", "both"), default="both")
    args = parser.parse_args()
    cloud = args.stack in ("cloud", "both")
    token, organisation, sim = _platform(cloud)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", f"--bind=127.0.0.1:{port}",
         "--workers=2", "--timeout=300", "--log-level=warning"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "CELERY_TASK_ALWAYS_EAGER": "true"},
    )  # fmt: skip
    results: list[tuple[str, float, float, float, float]] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("gunicorn did not start")
                time.sleep(0.2)
        _sdk(url, token, organisation, _public_keys(1), 0)  # warm-up: workers load the application
        if args.stack in ("keys", "both"):
            keys = _public_keys(args.keys)
            sdk_create, sdk_delete = _sdk(url, token, organisation, keys, args.projects)
            tf_apply, tf_destroy = _terraform(url, token, _stack(_public_keys(args.keys), args.projects))
            results.append(
                (f"{args.keys} SSH keys + {args.projects} projects", sdk_create, tf_apply, sdk_delete, tf_destroy)
            )
        if cloud:
            sdk_create, sdk_delete = _sdk_cloud(url, token, args.servers)
            tf_apply, tf_destroy = _terraform(url, token, _cloud_stack(args.servers))
            what = f"a network, a firewall, {args.servers} servers with a volume each, a load balancer"
            results.append((what, sdk_create, tf_apply, sdk_delete, tf_destroy))
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)
        if sim is not None:
            sim.stop()  # type: ignore[attr-defined]
    for what, sdk_create, tf_apply, sdk_delete, tf_destroy in results:
        for label, sdk, tf in (("create", sdk_create, tf_apply), ("delete", sdk_delete, tf_destroy)):
            command = "apply  " if label == "create" else "destroy"
            print(f"{what}: {label} - SDK {sdk:6.2f} s, terraform {command} {tf:6.2f} s, ratio {tf / sdk:5.1f}x")


if __name__ == "__main__":
    main()
