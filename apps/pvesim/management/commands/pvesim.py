"""``manage.py pvesim``: run the Proxmox VE simulator for development (the Procfile's ``pvesim``).

Each cluster of the fleet file gets its own HTTPS port, from ``--port`` upward in
file order (demo fleet: PAR-1 on 8006, AMS-1 on 8007, FRA-1 on 8008). The CA is
written to ``var/pvesim/ca.pem`` and a summary (URL, token, CA per cluster) to
``var/pvesim/clusters.json`` for scripts such as the demo setup.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.pvesim.fleet import FleetError, load_fleet
from apps.pvesim.schema import load_schema, schema_path
from apps.pvesim.server import DEFAULT_TOKEN_ID, DEFAULT_TOKEN_SECRET, PveSimulator, create_ca


class Command(BaseCommand):
    help = "Run the Proxmox VE API simulator (HTTPS, API tokens, UPID tasks) on a fleet file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fleet", default="apps/pvesim/fleets/demo.yaml", help="Fleet YAML file.")
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (loopback by default).")
        parser.add_argument("--port", type=int, default=8006, help="Port of the first cluster; the next ones follow.")
        parser.add_argument("--task-seconds", type=float, default=2.0, help="How long each task runs.")
        parser.add_argument(
            "--lock-wait", type=float, default=3.0, help="Seconds a call waits for a busy VM lock (PVE: 10)."
        )
        parser.add_argument(
            "--token",
            default=f"{DEFAULT_TOKEN_ID}={DEFAULT_TOKEN_SECRET}",
            help="Accepted API token as user@realm!tokenid=secret.",
        )
        parser.add_argument("--ca-path", default=None, help="Where to write the CA (default var/pvesim/ca.pem).")
        parser.add_argument("--cluster", action="append", help="Only serve these clusters (name or datacentre).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fleet = load_fleet(options["fleet"])
        except FleetError as exc:
            raise CommandError(str(exc)) from exc
        token_id, sep, secret = str(options["token"]).partition("=")
        if not sep or "!" not in token_id:
            raise CommandError("--token must look like user@realm!tokenid=secret")
        var_dir = Path(settings.BASE_DIR) / "var" / "pvesim"
        ca_path = Path(options["ca_path"]) if options["ca_path"] else var_dir / "ca.pem"
        schema = load_schema()
        if schema is None:
            self.stderr.write(
                self.style.WARNING(
                    f"Proxmox schema not found at {schema_path()}: requests will NOT be validated. "
                    "Set PVE_SCHEMA_PATH to pve-apidata-8.4.json (see docs/dev/proxmox-behaviour.md#schema-source)."
                )
            )
        ca = create_ca()
        clusters = [
            c for c in fleet.clusters if not options["cluster"] or {c.name, c.datacentre} & set(options["cluster"])
        ]
        simulators = []
        for offset, spec in enumerate(clusters):
            simulator = PveSimulator(
                spec,
                host=options["host"],
                port=options["port"] + offset,
                tokens={token_id: secret},
                task_seconds=options["task_seconds"],
                lock_wait_seconds=options["lock_wait"],
                ca=ca,
                ca_path=ca_path,
                schema=schema,
                load_default_schema=False,
            )
            simulators.append(simulator.start())
        summary = [
            {
                "cluster": s.spec.name,
                "datacentre": s.spec.datacentre,
                "url": s.url,
                "token_id": token_id,
                "token_secret": secret,
                "ca_path": str(ca_path),
                "nodes": len(s.spec.nodes),
                "gpus": sum(len(n.gpus) for n in s.spec.nodes),
            }
            for s in simulators
        ]
        var_dir.mkdir(parents=True, exist_ok=True)
        (var_dir / "clusters.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Proxmox VE simulator: fleet {fleet.source}"))
        for row in summary:
            self.stdout.write(
                f"  {row['datacentre']:<6} {row['url']}/api2/json  ({row['nodes']} nodes, {row['gpus']} GPUs)"
            )
        self.stdout.write(f"  token:  {token_id}={secret}")
        self.stdout.write(f"  CA:     {ca_path}")
        self.stdout.write(f"  schema: {schema.source if schema else 'absent - validation skipped'}")
        self.stdout.write(f"  tasks:  {options['task_seconds']:g} s; fault injection: POST <url>/_sim/<action>")
        self.stdout.write(
            f"  try:    curl --cacert {ca_path} -H 'Authorization: PVEAPIToken={token_id}={secret}' "
            f"{summary[0]['url'] if summary else ''}/api2/json/nodes"
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for simulator in simulators:
                simulator.stop()
