"""An accessibility check for browser tests: axe-core injected into a Playwright page.

``axe_violations(page)`` runs axe-core (https://github.com/dequelabs/axe-core,
``axe.run`` documented in its API reference,
https://github.com/dequelabs/axe-core/blob/develop/doc/API.md#api-name-axerun) on the
page as it is now and answers the violations of the given impacts;
``axe_report(violations)`` turns them into a readable failure message::

    from tests.accessibility import axe_report, axe_violations

    violations = axe_violations(page)
    assert not violations, axe_report(violations)

axe-core comes from the npm registry, pinned below, installed once into ``var/node/``
(ignored by git) with ``npm install``; a file lock keeps two xdist workers from
installing it at the same time. Without npm, or when the install fails, the test
FAILS with the reason: an accessibility check that silently skips proves nothing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

AXE_CORE_VERSION = "4.10.3"
ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(os.environ.get("VMCLOUD_NODE_DIR", ROOT / "var" / "node"))
AXE_JS = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA: what the portal promises (apps/docs/content/console.md#accessibility).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def _installed_version() -> str | None:
    package_json = AXE_JS.parent / "package.json"
    if not package_json.exists():
        return None
    import json

    return json.loads(package_json.read_text()).get("version")


def axe_source() -> str:
    """The pinned axe-core's JavaScript, installed from the npm registry on first use."""
    if AXE_JS.exists() and _installed_version() == AXE_CORE_VERSION:
        return AXE_JS.read_text()
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "the accessibility check needs npm to install axe-core from the npm registry "
            "(apt-get install npm, or put axe-core " + AXE_CORE_VERSION + f" in {NODE_DIR}/node_modules)"
        )
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with open(NODE_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another xdist worker may be installing it
        if not (AXE_JS.exists() and _installed_version() == AXE_CORE_VERSION):
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(NODE_DIR),
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    f"axe-core@{AXE_CORE_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if result.returncode != 0 or not AXE_JS.exists():
                pytest.fail(
                    f"npm install axe-core@{AXE_CORE_VERSION} into {NODE_DIR} failed "
                    f"(exit {result.returncode}):\n{result.stderr[-2000:]}"
                )
    return AXE_JS.read_text()


def axe_violations(
    page: Any,
    impacts: Iterable[str] = ("serious", "critical"),
    *,
    exclude: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The axe-core violations of ``impacts`` on ``page`` (WCAG 2.1 A/AA rules), each as axe answers it.

    ``exclude`` lists CSS selectors axe should not look into (a third-party widget, say).
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    context: dict[str, Any] = {"exclude": [[selector] for selector in exclude]} if exclude else {}
    results = page.evaluate(
        """([context, tags]) => window.axe.run(
               Object.keys(context).length ? context : document,
               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}
           )""",
        [context, list(AXE_TAGS)],
    )
    wanted = set(impacts)
    return [violation for violation in results["violations"] if violation.get("impact") in wanted]


def axe_report(violations: Sequence[dict[str, Any]], *, label: str = "") -> str:
    """A readable message for a failed assertion: each rule, its impact, help URL and the nodes it found."""
    if not violations:
        return "no accessibility violations"
    lines = [f"{len(violations)} accessibility violation(s){' on ' + label if label else ''}:"]
    for violation in violations:
        lines.append(f"- [{violation.get('impact')}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation.get("nodes", [])[:8]:
            target = " ".join(str(part) for part in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary[:300]}")
        if len(violation.get("nodes", [])) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)
