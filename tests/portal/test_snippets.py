"""Copy-paste snippets name the API token one way everywhere (issue 16): ``$VMCLOUD_TOKEN``, the variable the
Python SDK and the Terraform provider read (the CLI's own ``VMCL_TOKEN`` is a different, documented thing)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEARCHED = ("apps", "templates", "docs", "clients", "static", "README.md")
OTHER_NAMES = re.compile(r"\b(VMC_TOKEN|VMCLOUD_API_TOKEN|VMC_API_TOKEN)\b")


def test_no_snippet_uses_another_name_for_the_token():
    offenders = []
    for top in SEARCHED:
        base = ROOT / top
        paths = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for path in paths:
            if path.suffix not in {".py", ".html", ".md", ".txt", ".js", ".tf", ".sh"} or "node_modules" in path.parts:
                continue
            for number, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
                if OTHER_NAMES.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use $VMCLOUD_TOKEN:\n" + "\n".join(offenders)
