"""Build a Terraform filesystem mirror holding this provider, for ``terraform init`` without a registry.

``terraform-provider-vmcloud-mirror DIR`` writes the *unpacked* layout Terraform reads
(https://developer.hashicorp.com/terraform/cli/config/config-file#filesystem_mirror)::

    DIR/vmcloud.example/vmcloud/vmcloud/0.1.0/linux_amd64/terraform-provider-vmcloud_v0.1.0

The executable is a small launcher that runs this package with the Python it was built
with, so the mirror works wherever that Python (with ``terraform-provider-vmcloud``
installed) is. Then point Terraform at it with a CLI configuration file (docs page
``/docs/terraform/``).
"""

from __future__ import annotations

import argparse
import platform
import stat
import sys
from pathlib import Path

from . import __version__
from .provider import HOSTNAME, NAMESPACE, TYPE


def target() -> str:
    """Terraform's ``<os>_<arch>`` name of this machine."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{sys.platform.replace('win32', 'windows')}_{arch}"


def launcher_text(python: str) -> str:
    return f"#!/bin/sh\nexec '{python}' -m terraform_provider_vmcloud \"$@\"\n"


def build(directory: Path, *, python: str | None = None, version: str = __version__) -> Path:
    """Write the provider into the mirror at ``directory``; return the executable's path."""
    folder = directory / HOSTNAME / NAMESPACE / TYPE / version / target()
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / f"terraform-provider-{TYPE}_v{version}"
    exe.write_text(launcher_text(python or sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


def cli_config(mirror: Path) -> str:
    """A Terraform CLI configuration that installs this provider from ``mirror`` only."""
    return (
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{HOSTNAME}/*/*"]\n  }}\n'
        f'  direct {{\n    exclude = ["{HOSTNAME}/*/*"]\n  }}\n'
        "}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the mirror's root directory")
    parser.add_argument("--cli-config", type=Path, help="also write a Terraform CLI configuration file here")
    args = parser.parse_args(argv)
    exe = build(args.directory.resolve())
    sys.stdout.write(f"{exe}\n")
    if args.cli_config:
        args.cli_config.write_text(cli_config(args.directory.resolve()))
        sys.stdout.write(f"export TF_CLI_CONFIG_FILE={args.cli_config.resolve()}\n")


if __name__ == "__main__":
    main()
