"""vmcl without a platform: help, start-up imports, contexts, output formats and errors (against a stub server)."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys

import pytest
import yaml

from tests.clients.cli import VMCL, run_vmcl
from tests.clients.stub import error, stub_server

SERVER = {
    "id": "8a3e4c2d-6b1f-4d0e-9c7a-5e2f1b3d4a6c",
    "name": "web-1",
    "status": "running",
    "power_state": "running",
    "ipv4": "192.0.2.10",
    "offer": "VPS-NANO",
    "datacentre": "PAR-1",
    "image": "ubuntu-24.04",
    "labels": {"env": "prod"},
}
PAGE = {"count": 1, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1, "results": [SERVER]}


@pytest.fixture
def config(tmp_path):
    return tmp_path / "vmcl" / "config.toml"


def test_help_lists_the_resources_and_imports_neither_the_sdk_nor_rich():
    # Start-up speed is measured by benchmarks/vmcl_bench.py; this checks the cause stays away.
    code = (
        "import sys; sys.argv = ['vmcl', '--help']\n"
        "from vmcl.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('requests', 'vmcloud.client', 'rich', 'yaml', 'pydantic') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for resource in ("context", "server", "snapshot", "ssh-key", "project", "offer", "image", "datacentre", "action"):
        assert f"\n  {resource} " in done.stdout
    assert done.stderr.strip().endswith("HEAVY=")


def test_context_create_use_list_delete_keeps_tokens_in_a_0600_file(config):
    with stub_server([(200, {}, {**PAGE, "results": []})] * 2) as stub:
        first = run_vmcl("context", "create", "prod", "--url", stub.url, config=config, stdin="vmc_pat_one\n")
        second = run_vmcl("context", "create", "dev", "--url", stub.url, "--token", "vmc_pat_two", config=config)
    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert stub.requests[0]["headers"]["Authorization"] == "Bearer vmc_pat_one"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    listed = json.loads(run_vmcl("context", "list", "-o", "json", config=config).out)
    assert [(c["name"], c["active"]) for c in listed] == [("prod", ""), ("dev", "*")]
    assert "vmc_pat" not in run_vmcl("context", "list", config=config).out
    assert run_vmcl("context", "use", "prod", config=config).code == 0
    assert run_vmcl("context", "active", config=config).out.strip() == "prod"
    assert run_vmcl("context", "delete", "prod", config=config).code == 0
    assert [c["name"] for c in json.loads(run_vmcl("context", "list", "-o", "json", config=config).out)] == ["dev"]
    missing = run_vmcl("context", "use", "nope", config=config)
    assert missing.code == 2 and missing.err.startswith("error: no context named 'nope'")


def test_a_context_with_a_wrong_token_is_refused_and_not_saved(config):
    with stub_server([(401, {}, error(401, "authentication_failed", "Invalid token.", request_id="r1"))]) as stub:
        result = run_vmcl("context", "create", "x", "--url", stub.url, "--token", "bad", config=config)
    assert result.code == 4
    assert result.err == "error: Invalid token. [authentication_failed] (request r1)\n"
    assert not config.exists()


def test_environment_variables_override_the_context(config):
    with stub_server([(200, {}, PAGE)]) as stub:
        result = run_vmcl(
            "server", "list", "-o", "json", config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "vmc_pat_ci"}
        )
    assert result.code == 0, result.err
    assert json.loads(result.out) == [SERVER]
    assert stub.requests[0]["headers"]["Authorization"] == "Bearer vmc_pat_ci"
    assert stub.requests[0]["headers"]["User-Agent"].startswith("vmcl/")


def test_list_outputs_table_columns_no_header_json_yaml_and_passes_the_label_selector(config):
    env = {"VMCL_TOKEN": "t"}
    with stub_server([(200, {}, PAGE)] * 5) as stub:
        env["VMCL_URL"] = stub.url
        table = run_vmcl("server", "list", "--label-selector", "env=prod", config=config, env=env)
        columns = run_vmcl("server", "list", "--columns", "name,ipv4", "--no-header", config=config, env=env)
        as_yaml = run_vmcl("server", "list", "-o", "yaml", config=config, env=env)
        unknown = run_vmcl("server", "list", "--columns", "name,colour", config=config, env=env)
        bad_output = run_vmcl("server", "list", "-o", "xml", config=config, env=env)
    header, row = table.out.splitlines()
    assert header.split() == ["ID", "NAME", "STATUS", "POWER_STATE", "IPV4", "OFFER", "DATACENTRE", "IMAGE", "LABELS"]
    assert row.split()[1:5] == ["web-1", "running", "running", "192.0.2.10"]
    assert row.split()[-1] == "env=prod"
    assert "label_selector=env%3Dprod" in stub.requests[0]["path"]
    assert columns.out.split() == ["web-1", "192.0.2.10"]
    assert yaml.safe_load(as_yaml.out) == [SERVER]
    assert unknown.code == 2 and "unknown column(s) colour" in unknown.err
    assert bad_output.code == 2 and "--output must be one of table, json, yaml" in bad_output.err


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        (400, "validation_error", 3),
        (403, "permission_denied", 4),
        (404, "not_found", 5),
        (409, "invalid_transition", 6),
    ],
)
def test_api_errors_are_one_line_with_code_and_request_id_and_an_exit_code_per_class(config, status, code, exit_code):
    body = error(status, code, "It went wrong.", request_id="abc123")
    with stub_server([(status, {}, body)]) as stub:
        result = run_vmcl("server", "start", SERVER["id"], config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"})
    assert result.code == exit_code
    assert result.err == f"error: It went wrong. [{code}] (request abc123)\n"
    assert result.out == ""


def test_an_unreachable_platform_is_one_line_and_exit_8(config):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_vmcl("server", "list", config=config, env={"VMCL_URL": f"http://127.0.0.1:{port}", "VMCL_TOKEN": "t"})
    assert result.code == 8
    assert result.err.startswith("error: cannot reach http://127.0.0.1:") and result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_a_server_error_with_an_html_body_is_still_one_line(config):
    with stub_server([(500, {"Content-Type": "text/html", "X-Request-ID": "r5"}, b"<html>boom</html>")] * 5) as stub:
        result = run_vmcl(
            "server", "describe", SERVER["id"], config=config, env={"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}
        )
    assert result.code == 11
    assert result.err == "error: HTTP 500 Internal Server Error [http_500] (request r5)\n"


def test_usage_errors_exit_2_without_a_traceback(config):
    result = run_vmcl("server", "create", "--name", "x", config=config)
    assert result.code == 2
    assert "Missing option" in result.err and "Traceback" not in result.err


def test_shell_completion_scripts_and_completion_of_commands(config):
    for shell in ("bash", "zsh", "fish"):
        script = run_vmcl("completion", shell, config=config)
        assert script.code == 0 and "_VMCL_COMPLETE" in script.out
    completed = run_vmcl(
        config=config, env={"_VMCL_COMPLETE": "complete_bash", "COMP_WORDS": "vmcl server st", "COMP_CWORD": "2"}
    )
    assert completed.out.split() == ["start", "stop"]
    groups = run_vmcl(
        config=config, env={"_VMCL_COMPLETE": "complete_bash", "COMP_WORDS": "vmcl ser", "COMP_CWORD": "1"}
    )
    assert groups.out.split() == ["server", "service"]


def test_the_installed_entry_point_is_vmcl():
    assert VMCL.exists()


def test_invoice_download_writes_the_pdf(config, tmp_path):
    pdf = b"%PDF-1.7\n%fake invoice\n"
    target = tmp_path / "invoice.pdf"
    with stub_server([(200, {"Content-Type": "application/pdf"}, pdf)] * 2) as stub:
        env = {"VMCL_URL": stub.url, "VMCL_TOKEN": "t"}
        saved = run_vmcl("invoice", "download", "inv-1", "--file", str(target), config=config, env=env)
        piped = run_vmcl("invoice", "download", "inv-1", "-O", "-", config=config, env=env)
    assert saved.code == 0, saved.err
    assert target.read_bytes() == pdf
    assert piped.out.encode() == pdf
    assert stub.requests[0]["path"] == "/api/v1/billing/invoices/inv-1/pdf"
