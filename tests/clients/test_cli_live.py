"""vmcl against a live platform (``live_server``, the simulator's fleet, eager Celery).

``test_newcomer_path`` is the docs page ``/docs/cli/`` followed step by step:
install the two packages with pip, create a context, create a server with
``--wait`` and read its address.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.clients.cli import run_vmcl

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_newcomer_path(platform, tmp_path):
    # 1. Install: pip install of both packages into a fresh folder (offline: no build isolation, no index).
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(ROOT / "clients" / "python-sdk"), str(ROOT / "clients" / "vmcl")],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    exe = target / "bin" / "vmcl"
    env = {"PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import vmcl, vmcloud; print(vmcl.__file__); print(vmcloud.__file__)"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert all(line.startswith(str(target)) for line in where.stdout.split())
    config = tmp_path / "home" / ".config" / "vmcl" / "config.toml"

    def vmcl(*args: str, stdin: str = ""):
        return run_vmcl(*args, config=config, env=env, stdin=stdin, exe=exe)

    # 2. A context: the token is read from stdin (the docs pipe it from a file or a secret store).
    created = vmcl("context", "create", "my-cloud", "--url", platform.url, stdin=platform.token + "\n")
    assert created.code == 0, created.err
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # 3. The catalogue, then a server with --wait, and its address.
    offers = json.loads(vmcl("offer", "list", "-o", "json").out)
    assert platform.fleet.vps_offer.code in [o["code"] for o in offers]
    server = vmcl(
        "server", "create", "--name", "web-1", "--offer", platform.fleet.vps_offer.code,
        "--datacentre", platform.fleet.dc.code, "--image", platform.fleet.ubuntu24.slug, "--wait", "-o", "json",
    )  # fmt: skip
    assert server.code == 0, server.err
    created_server = json.loads(server.out)
    assert (created_server["name"], created_server["status"]) == ("web-1", "running")
    assert created_server["ipv4"]
    address = vmcl("server", "describe", "web-1", "--columns", "ipv4", "--no-header")
    assert address.out.split() == ["ipv4", created_server["ipv4"]]


def test_server_lifecycle_and_every_resource_through_the_cli(platform, tmp_path):
    config = tmp_path / "config.toml"
    env = {"VMCL_URL": platform.url, "VMCL_TOKEN": platform.token}

    def vmcl(*args: str):
        result = run_vmcl(*args, config=config, env=env)
        assert "Traceback" not in result.err
        return result

    def ok(*args: str):
        result = vmcl(*args)
        assert result.code == 0, f"vmcl {' '.join(args)}: {result.err}"
        return result

    fleet = platform.fleet
    key_file = tmp_path / "id_ed25519.pub"
    key_file.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl cli@test\n")
    key = json.loads(
        ok("ssh-key", "create", "--name", "laptop", "--public-key-from-file", str(key_file), "-o", "json").out
    )
    assert json.loads(ok("ssh-key", "list", "-o", "json").out)[0]["id"] == key["id"]

    ok(
        "server", "create", "--name", "app-1", "--offer", fleet.vps_offer.code, "--datacentre", fleet.dc.code,
        "--image", fleet.ubuntu24.slug, "--ssh-key", "laptop", "--wait",
    )  # fmt: skip
    ok("server", "add-label", "app-1", "env=prod", "tier=web")
    listed = json.loads(ok("server", "list", "-o", "json", "--label-selector", "env=prod").out)
    assert [s["name"] for s in listed] == ["app-1"]
    assert json.loads(ok("server", "list", "-o", "json", "--label-selector", "env=dev").out) == []
    ok("server", "remove-label", "app-1", "tier")
    assert yaml.safe_load(ok("server", "describe", "app-1", "-o", "yaml").out)["labels"] == {"env": "prod"}

    stopped = ok("server", "stop", "app-1", "--wait", "-o", "json")
    assert json.loads(stopped.out)["status"] == "success"
    assert json.loads(ok("server", "describe", "app-1", "-o", "json").out)["power_state"] == "stopped"
    wrong_state = vmcl("server", "stop", "app-1")
    assert wrong_state.code == 6 and "[invalid_transition]" in wrong_state.err and "(request " in wrong_state.err
    ok("server", "start", "app-1", "--wait")
    ok("server", "reboot", "app-1", "--wait")

    snapshot = json.loads(ok("snapshot", "create", "app-1", "--name", "before", "--wait", "-o", "json").out)
    assert snapshot["name"] == "before"
    assert [s["name"] for s in json.loads(ok("snapshot", "list", "app-1", "-o", "json").out)] == ["before"]
    ok("schedule", "set", "app-1", "--frequency", "daily", "--hour", "4", "--retention", "3")
    assert json.loads(ok("schedule", "describe", "app-1", "-o", "json").out)["retention"] == 3
    ok("schedule", "delete", "app-1")

    password = json.loads(ok("server", "reset-password", "app-1", "--wait", "-o", "json").out)
    assert password["password"] and password["status"] == "success"

    actions = json.loads(ok("action", "list", "-o", "json").out)
    assert {"create", "stop", "start", "reboot", "snapshot_create"} <= {a["type"] for a in actions}
    assert json.loads(ok("action", "describe", actions[0]["id"], "-o", "json").out)["id"] == actions[0]["id"]
    assert len(json.loads(ok("server", "actions", "app-1", "-o", "json").out)) >= 5
    assert json.loads(ok("order", "list", "-o", "json").out)[0]["name"] == "app-1"

    for resource in ("image", "datacentre", "offer", "organisation", "project", "invoice", "budget"):
        ok(resource, "list")
    ok("availability", "list", "--offer", fleet.vps_offer.code)
    for command in (("gpu-model", "list"), ("gpu-stack", "list"), ("invoice", "credit-notes"), ("cost", "usage")):
        ok(*command)
    quote = ok(
        "offer", "quote", fleet.vps_offer.code, "--datacentre", fleet.dc.code, "--image", "ubuntu-24.04", "-o", "json"
    )
    assert (json.loads(quote.out)["currency"], json.loads(quote.out)["price_monthly"]) == (
        "EUR",
        str(fleet.vps_offer.price_monthly),
    )
    assert [m["role"] for m in json.loads(ok("organisation", "members", "-o", "json").out)].count("owner") == 1
    ok("cost", "show")
    audit = json.loads(ok("audit", "list", "-o", "json").out)
    assert any(event["action"].startswith("instance") for event in audit)
    budget = json.loads(ok("budget", "create", "--name", "cap", "--amount", "100.00", "-o", "json").out)
    assert (
        json.loads(ok("budget", "update", budget["id"], "--amount", "150.00", "-o", "json").out)["amount"] == "150.00"
    )
    ok("budget", "delete", budget["id"])
    ok("snapshot", "rename", "app-1", "before", "kept")
    assert [s["name"] for s in json.loads(ok("snapshot", "list", "app-1", "-o", "json").out)] == ["kept"]

    ok("server", "enable-protection", "app-1")
    protected = vmcl("server", "delete", "app-1")
    assert protected.code == 6 and "[delete_protected]" in protected.err
    ok("server", "disable-protection", "app-1")
    deleted = json.loads(ok("server", "delete", "app-1", "--wait", "-o", "json").out)
    assert deleted["type"] == "delete" and deleted["status"] == "success"
    assert json.loads(ok("server", "list", "-o", "json").out) == []
    missing = vmcl("server", "describe", "app-1")
    assert missing.code == 5 and "No server named 'app-1'" in missing.err
    ok("ssh-key", "delete", "laptop")
