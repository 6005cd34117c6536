"""The API does what its OpenAPI schema says: schemathesis against a live server (issue 10, item 20).

``st run`` (schemathesis's CLI, pinned in requirements/dev.txt) runs in a
subprocess against pytest-django's ``live_server`` with every check
(``--checks all``: server errors, status codes, content types, response
headers, response schemas, negative data rejected and positive data accepted,
authentication, methods) in positive and negative modes, deterministically
(fixed example budget, phases examples, fuzzing and stateful:
tests/contract/schemathesis.toml, which also says where a schema-valid input may
still be refused). It runs twice: with a read-write token of an organisation's
owner, over seeded data (the catalogue, the organisation and its default
project, whose ids fill ``org_id`` and ``project_id``), then anonymously. Any
failure not in ``KNOWN_FAILURES`` fails the test. The figures (operations, test cases,
time per phase) are printed and written to ``$CONTRACT_FIGURES``, which
``scripts/test.sh`` shows after the suite: the test runs inside the suite's own
pytest run, on one xdist worker while the other goes on, instead of as a
separate stage that would migrate another database first
(apps/docs/content/api-overview.md, "The contract is tested").
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.teams.choices import TokenScope
from tests.factories import ApiTokenFactory, organisation_with_owner

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ST = Path(sys.executable).with_name("st")
CONFIG = Path(__file__).with_name("schemathesis.toml")


# Failures the stage still finds, by run: (operation, schemathesis failure code). Each is a defect to
# fix, listed so that any other failure fails the suite at once; the report names them all.
KNOWN_FAILURES: dict[str, set[tuple[str, str]]] = {}

_HEADING = re.compile(r"^_{3,} (.+?) _{3,}$")
_CHECK = re.compile(r"^- (ST\d+) ")


def _failures(stdout: str) -> set[tuple[str, str]]:
    """(operation, code) of each failure in st's report (``___ GET /api/v1/x/ ___`` then ``- ST202 …``)."""
    found, operation = set(), ""
    section = stdout.split(" FAILURES ", 1)[-1].split(" WARNINGS ", 1)[0].split(" SUMMARY ", 1)[0]
    for line in section.splitlines():
        if heading := _HEADING.match(line.strip()):
            operation = heading.group(1)
        elif check := _CHECK.match(line.strip()):
            found.add((operation, check.group(1)))
    return found


def _st(url: str, config: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    args = [str(ST), "--config-file", str(config), "run", f"{url}/api/schema/?format=json", "--checks", "all"]
    args += ["--no-color", "--output-truncate", "true", *extra]
    started = time.monotonic()
    # The server is this process's thread: st is a separate interpreter so both can use a core.
    run = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False, env={**os.environ})
    return run, time.monotonic() - started


def test_the_api_does_what_its_schema_says(live_server, settings, tmp_path):
    # The fuzzer's thousands of requests would otherwise spend the real limits and see only 429s.
    settings.API_RATE_LIMITS = {"token": (10**6, 60), "user": (10**6, 60), "anonymous": (10**6, 60)}
    call_command("load_catalogue", verbosity=0)
    organisation = organisation_with_owner()
    owner = organisation.memberships.get().user
    project = organisation.projects.get(is_default=True)
    # A high id: generated ids (0, 1, small numbers) must not revoke the token the run uses.
    token = ApiTokenFactory(id=7_000_001, user=owner, organisation=organisation, scope=TokenScope.READ_WRITE)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + f"\n[parameters]\norg_id = {organisation.pk}\nproject_id = {project.pk}\n")
    runs = {
        "read-write token": _st(live_server.url, config, "-H", f"Authorization: Bearer {token.plaintext}"),
        "anonymous": _st(live_server.url, config, "--phases", "examples,fuzzing", "--max-examples", "3"),
    }
    report, failed = [], []
    for name, (run, seconds) in runs.items():
        report.append(f"schemathesis {name}: {seconds:.0f} s, exit {run.returncode}")
        found = _failures(run.stdout)
        known = KNOWN_FAILURES.get(name, set())
        if found - known or (run.returncode != 0 and not found) or run.returncode not in (0, 1):
            failed.append(f"==== {name}: new {sorted(found - known)} ====\n{run.stdout}\n{run.stderr}")
        if known - found:
            report.append(
                f"    known failures no longer seen (remove them from KNOWN_FAILURES): {sorted(known - found)}"
            )
        # Its own summary: operations tested, phases, failures by kind, test cases, total time.
        summary = run.stdout.split(" SUMMARY ", 1)[-1].split("\n", 1)[-1] if " SUMMARY " in run.stdout else ""
        report += [f"    {line}" for line in summary.strip().splitlines() if line.strip()]
    print("\n" + "\n".join(report))
    if figures := os.environ.get("CONTRACT_FIGURES"):
        Path(figures).parent.mkdir(parents=True, exist_ok=True)
        Path(figures).write_text("\n".join(report) + "\n")
    assert not failed, "\n".join(failed)
