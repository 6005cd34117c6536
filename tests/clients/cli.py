"""Run the installed ``vmcl`` as a user would: a subprocess with its own config file and environment."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

VMCL = Path(sys.executable).with_name("vmcl")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_vmcl(*args: str, config: Path, env: dict[str, str] | None = None, stdin: str = "", exe: Path = VMCL) -> Result:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("VMCL_", "VMCLOUD_", "DJANGO_"))
    }
    environment.update({"VMCL_CONFIG": str(config), "NO_COLOR": "1", "COLUMNS": "200"})
    environment.update(env or {})
    done = subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, env=environment, timeout=300, check=False
    )
    return Result(done.returncode, done.stdout, done.stderr)
