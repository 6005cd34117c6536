"""The SDK can never drift from the API: its copy of the schema and its generated core are current.

Regenerates the OpenAPI schema the way ``make clients`` does and the SDK's
core from it, and compares both with the committed files. After any API
change this fails until ``make clients`` is run and its output committed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "clients" / "openapi.json"
GENERATED = ROOT / "clients" / "python-sdk" / "vmcloud" / "_generated"
HINT = "the API changed: run `make clients` and commit clients/"


def _codegen():
    spec = importlib.util.spec_from_file_location("vmcloud_codegen", ROOT / "clients" / "python-sdk" / "codegen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schema_is_the_live_schema(tmp_path):
    live = tmp_path / "openapi.json"
    call_command("spectacular", format="openapi-json", file=str(live), lang="en")
    assert json.loads(SCHEMA.read_text()) == json.loads(live.read_text()), HINT


def test_generated_core_is_what_the_generator_makes_of_the_schema():
    files = _codegen().render(json.loads(SCHEMA.read_text()))
    committed = {path.name: path.read_text() for path in GENERATED.glob("*.py")}
    assert sorted(committed) == sorted(files), HINT
    for name, text in files.items():
        assert committed[name] == text, f"{name}: {HINT}"


def test_every_api_operation_is_a_method_of_the_client():
    from vmcloud import Client
    from vmcloud._generated.operations import OPERATIONS

    spec = json.loads(SCHEMA.read_text())
    operation_ids = {
        operation["operationId"]
        for path, methods in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert operation_ids == set(OPERATIONS)
    assert all(callable(getattr(Client, name, None)) for name in operation_ids)


def test_the_drift_check_fails_on_a_changed_schema():
    # A test that cannot fail is no test: a one-word change in a description must show.
    codegen = _codegen()
    spec = json.loads(SCHEMA.read_text())
    before = codegen.render(spec)
    first = next(iter(spec["paths"].values()))
    next(iter(first.values()))["summary"] = "Changed"
    assert codegen.render(spec) != before
