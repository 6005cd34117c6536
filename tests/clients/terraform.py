"""Run the real ``terraform`` binary against the provider, installed offline from a filesystem mirror.

The mirror is built the way the docs page ``/docs/terraform/`` tells users to
(``terraform-provider-vmcloud-mirror``); ``TF_CLI_CONFIG_FILE`` points Terraform at it and
forbids any other installation source, so ``terraform init`` never touches the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Generous: CI runs these on 2 shared cores, and every command starts the Python provider.
COMMAND_TIMEOUT = 600
SOURCE = "vmcloud.example/vmcloud/vmcloud"
PROVIDER_BLOCK = f"""terraform {{
  required_providers {{
    vmcloud = {{
      source  = "{SOURCE}"
      version = "0.1.0"
    }}
  }}
}}

provider "vmcloud" {{}}
"""


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.fail(
            "the terraform binary is not on PATH: the provider's tests run the real Terraform "
            "(install Terraform 1.11, e.g. /usr/local/bin/terraform; see the docs page /docs/terraform/)"
        )
    return found


@dataclass
class Result:
    code: int
    out: str
    err: str


class Terraform:
    """One working directory, one mirror, the platform's URL and token in the environment."""

    def __init__(self, workdir: Path, *, url: str, token: str) -> None:
        from terraform_provider_vmcloud import mirror

        self.binary = terraform_binary()
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        home = workdir.parent / "home"
        home.mkdir(exist_ok=True)
        mirror_dir = workdir.parent / "mirror"
        mirror.build(mirror_dir, python=sys.executable)
        config = workdir.parent / "terraform.tfrc"
        config.write_text(mirror.cli_config(mirror_dir))
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith(("TF_", "VMCLOUD_", "DJANGO_"))
        }
        self.env.update(
            {
                "HOME": str(home),
                "TF_CLI_CONFIG_FILE": str(config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
                "NO_COLOR": "1",
                "VMCLOUD_URL": url,
                "VMCLOUD_TOKEN": token,
            }
        )

    def write(self, text: str, name: str = "main.tf") -> None:
        (self.workdir / name).write_text(text)

    def run(self, *args: str) -> Result:
        done = subprocess.run(
            [self.binary, *args, *(["-no-color"] if args and args[0] not in ("version",) else [])],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, f"terraform {' '.join(args)} exited {result.code}:\n{result.err}\n{result.out}"
        return result

    def init(self) -> Result:
        return self.ok("init", "-input=false")

    def plan_exit(self, *args: str) -> Result:
        """``plan -detailed-exitcode``: 0 = no changes, 2 = changes, 1 = error."""
        result = self.run("plan", "-input=false", "-detailed-exitcode", *args)
        assert result.code in (0, 2), f"terraform plan failed:\n{result.err}\n{result.out}"
        return result

    def apply(self, *args: str) -> Result:
        return self.ok("apply", "-input=false", "-auto-approve", *args)

    def outputs(self) -> dict[str, Any]:
        return {key: value["value"] for key, value in json.loads(self.ok("output", "-json").out).items()}

    def state(self) -> dict[str, Any]:
        shown = json.loads(self.ok("show", "-json").out)
        resources = shown.get("values", {}).get("root_module", {}).get("resources", [])
        return {r["address"]: r for r in resources}
