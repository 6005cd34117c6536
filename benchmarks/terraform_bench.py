"""The Terraform provider's overhead: ``terraform apply``/``destroy`` of a small stack vs the same SDK calls.

    python benchmarks/terraform_bench.py [--keys 10] [--projects 5]

The stack is SSH keys and projects (API calls without Actions), so the figures
measure the provider itself - Terraform's graph walk, one Python provider process
per command, gRPC, state encoding - rather than provisioning time. A throwaway
PostgreSQL database (``test_vmcloud_tfbench``, recreated each run) is served by
gunicorn on a free loopback port; Terraform installs the provider offline from a
filesystem mirror (docs page ``/docs/terraform/``). Prints both times and the ratio;
the figures depend on the host's load and are never asserted.
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


def _platform() -> tuple[str, int]:
    """A fresh database with one organisation; returns a read-write token and the organisation id."""
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
    connection.close()
    return str(secret), int(org.id)


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


def _terraform(url: str, token: str, keys: list[str], projects: int) -> tuple[float, float]:
    from terraform_provider_vmcloud import mirror

    binary = shutil.which("terraform")
    if not binary:
        sys.exit("terraform is not on PATH (Terraform 1.11; see the docs page /docs/terraform/)")
    tmp = Path(tempfile.mkdtemp(prefix="tfbench-"))
    mirror.build(tmp / "mirror", python=sys.executable)
    (tmp / "cli.tfrc").write_text(mirror.cli_config(tmp / "mirror"))
    work = tmp / "stack"
    work.mkdir()
    (work / "main.tf").write_text(_stack(keys, projects))
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
        subprocess.run([binary, *args, "-input=false", "-no-color"], cwd=work, env=env, check=True, capture_output=True)
        return time.perf_counter() - started

    run("init")
    applied = run("apply", "-auto-approve")
    destroyed = run("destroy", "-auto-approve")
    shutil.rmtree(tmp, ignore_errors=True)
    return applied, destroyed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--projects", type=int, default=5)
    args = parser.parse_args()
    token, organisation = _platform()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", f"--bind=127.0.0.1:{port}",
         "--workers=2", "--log-level=warning"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS},
    )  # fmt: skip
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
        keys = _public_keys(args.keys)
        _sdk(url, token, organisation, _public_keys(1), 0)  # warm-up: workers load the application
        sdk_create, sdk_delete = _sdk(url, token, organisation, keys, args.projects)
        tf_apply, tf_destroy = _terraform(url, token, _public_keys(args.keys), args.projects)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)
    what = f"{args.keys} SSH keys + {args.projects} projects"
    for label, sdk, tf in (("create", sdk_create, tf_apply), ("delete", sdk_delete, tf_destroy)):
        command = "apply  " if label == "create" else "destroy"
        print(f"{what}: {label} - SDK {sdk:6.2f} s, terraform {command} {tf:6.2f} s, ratio {tf / sdk:5.1f}x")


if __name__ == "__main__":
    main()
