"""``manage.py fleet_bootstrap``: register Proxmox clusters and import their inventory (idempotent).

Two ways:

* live: ``--api-url https://pve1:8006/api2/json --token-id vmcloud@pve!portal
  --token-secret ... --ca ca.pem --name par1 --datacentre PAR-1`` creates (or
  updates) the cluster and runs an inventory sync against it;
* from a fleet file, no cluster needed: ``--fleet apps/pvesim/fleets/demo.yaml
  --api-base https://127.0.0.1:8006 --token 'user@realm!id=secret' --ca-file
  var/pvesim/ca.pem`` creates one cluster per cluster of the file, pointing at
  consecutive ports from ``--api-base`` (the simulator's convention), and
  imports the file's nodes, GPUs, mappings, storages and templates through the
  sync code. ``make run`` does this (``demo_setup``), so the demo fleet is in
  the admin before the simulator starts; the periodic sync then talks to it.

``--ip-pools`` also adds documentation-range IP pools (RFC 5737 / RFC 3849) to
datacentres that have none, so placement works in the demo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.catalogue.selectors import datacentre_get
from apps.core.errors import ApplicationError
from apps.infrastructure import services
from apps.infrastructure.models import Cluster, IpPool, Node
from apps.infrastructure.proxmox import ProxmoxError
from apps.infrastructure.services.fleet_file import FleetFileError, load_fleet_file

# Documentation prefixes: never routed on the Internet (RFC 5737, RFC 3849).
DEMO_POOLS = [
    ("192.0.2.0/24", "192.0.2.1", "2001:db8:1::/64", "2001:db8:1::1"),
    ("198.51.100.0/24", "198.51.100.1", "2001:db8:2::/64", "2001:db8:2::1"),
    ("203.0.113.0/24", "203.0.113.1", "2001:db8:3::/64", "2001:db8:3::1"),
]


class Command(BaseCommand):
    help = "Register Proxmox clusters and import their inventory, live or from a fleet YAML file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fleet", help="Fleet YAML file to import (no running cluster needed).")
        parser.add_argument("--api-base", default="https://127.0.0.1:8006", help="With --fleet: first cluster's URL.")
        parser.add_argument("--token", help="With --fleet: user@realm!tokenid=secret.")
        parser.add_argument("--ca-file", default="", help="CA bundle path the workers read at each call.")
        parser.add_argument("--api-url", help="Live: the cluster's API URL.")
        parser.add_argument("--token-id", help="Live: user@realm!tokenid.")
        parser.add_argument("--token-secret", help="Live: the token secret (stored encrypted).")
        parser.add_argument("--ca", help="Live: CA bundle (PEM file) stored with the cluster.")
        parser.add_argument("--name", help="Live: cluster name.")
        parser.add_argument("--datacentre", help="Live: datacentre code, e.g. PAR-1.")
        parser.add_argument("--ip-pools", action="store_true", help="Add demo IP pools where a datacentre has none.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["fleet"]:
                self._from_fleet(options)
            elif options["api_url"]:
                self._live(options)
            else:
                raise CommandError("Give --fleet FILE, or --api-url with --token-id/--token-secret.")
            if options["ip_pools"]:
                self._ip_pools()
        except (ApplicationError, FleetFileError) as exc:
            raise CommandError(str(exc)) from exc

    def _upsert(self, *, name: str, datacentre_code: str, secret: str, **fields: Any) -> Cluster:
        datacentre = datacentre_get(code=datacentre_code)
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is None:
            return services.cluster_create(datacentre=datacentre, name=name, token_secret=secret, **fields)
        return services.cluster_update(cluster=cluster, datacentre=datacentre, token_secret=secret, **fields)

    def _from_fleet(self, options: dict[str, Any]) -> None:
        token_id, sep, secret = str(options["token"] or "").partition("=")
        if not sep or "!" not in token_id:
            raise CommandError("--token must look like user@realm!tokenid=secret")
        base = urlsplit(options["api_base"])
        if not base.hostname or not base.port:
            raise CommandError("--api-base must look like https://host:port")
        for offset, fleet_cluster in enumerate(load_fleet_file(options["fleet"])):
            cluster = self._upsert(
                name=fleet_cluster.name,
                datacentre_code=fleet_cluster.datacentre,
                secret=secret,
                api_url=f"https://{base.hostname}:{base.port + offset}/api2/json",
                token_id=token_id,
                tls_ca_file=options["ca_file"],
                # A storage with a local ``path`` (relative: to the working directory, as the simulator reads it).
                snippets_storage=fleet_cluster.snippets_storage,
                snippets_path=fleet_cluster.snippets_path,
            )
            if fleet_cluster.snippets_path:
                (Path(fleet_cluster.snippets_path) / "snippets").mkdir(parents=True, exist_ok=True)
            report = services.inventory_sync(cluster=cluster, snapshot=fleet_cluster.snapshot)
            for node in Node.objects.filter(cluster=cluster, name__in=fleet_cluster.maintenance_nodes):
                if not node.maintenance:
                    services.node_set_maintenance(node=node, maintenance=True, reason="Datacentre in maintenance")
            self.stdout.write(
                f"  {cluster.datacentre.code:<6} {cluster.name:<8} {cluster.api_url}  "
                f"{cluster.nodes.count()} nodes, {sum(n.gpu_count for n in cluster.nodes.all())} GPUs "
                f"({report.status})"
            )

    def _live(self, options: dict[str, Any]) -> None:
        for required in ("token_id", "token_secret", "name", "datacentre"):
            if not options[required]:
                raise CommandError(f"--{required.replace('_', '-')} is required with --api-url")
        pem = Path(options["ca"]).read_text(encoding="utf-8") if options["ca"] else ""
        cluster = self._upsert(
            name=options["name"],
            datacentre_code=options["datacentre"],
            secret=options["token_secret"],
            api_url=options["api_url"],
            token_id=options["token_id"],
            tls_ca_pem=pem,
        )
        try:
            report = services.inventory_sync(cluster=cluster)
        except ProxmoxError as exc:
            raise CommandError(f"cluster {cluster.name} saved, but the sync failed: {exc}") from exc
        self.stdout.write(f"{cluster.name}: {report.status}, {report.counts}, {len(report.drift)} drift item(s)")

    def _ip_pools(self) -> None:
        from apps.catalogue.selectors import datacentre_list

        for dc, (v4, gw4, v6, gw6) in zip(datacentre_list(), DEMO_POOLS, strict=False):
            if IpPool.objects.filter(datacentre=dc).exists():
                continue
            services.ip_pool_create(
                datacentre=dc, name=f"{dc.code} v4", family=4, cidr=v4, gateway=gw4, dns_servers=["9.9.9.9"]
            )
            services.ip_pool_create(
                datacentre=dc,
                name=f"{dc.code} v6",
                family=6,
                cidr=v6,
                gateway=gw6,
                dns_servers=["2620:fe::fe"],
            )
