"""The Terraform provider's pieces that need no platform: the mirror, durations, error diagnostics, schemas."""

from __future__ import annotations

import os
import stat

import pytest
import vmcloud
from terraform_provider_vmcloud import mirror
from terraform_provider_vmcloud.common import error_detail, parse_duration
from terraform_provider_vmcloud.provider import VMCloudProvider
from tf.gen import tfplugin_pb2 as pb
from tf.provider import ProviderServicer

from tests.clients.terraform import terraform_binary


def test_the_mirror_has_terraforms_unpacked_layout_and_an_executable_launcher(tmp_path):
    exe = mirror.build(tmp_path, python="/opt/py/bin/python")
    assert exe.relative_to(tmp_path).parts == (
        "vmcloud.example", "vmcloud", "vmcloud", "0.1.0", mirror.target(), "terraform-provider-vmcloud_v0.1.0",
    )  # fmt: skip
    assert exe.stat().st_mode & stat.S_IXUSR
    assert exe.read_text() == "#!/bin/sh\nexec '/opt/py/bin/python' -m terraform_provider_vmcloud \"$@\"\n"
    config = mirror.cli_config(tmp_path)
    assert f'path    = "{tmp_path}"' in config and 'exclude = ["vmcloud.example/*/*"]' in config


def test_a_missing_terraform_binary_fails_the_test_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="terraform binary is not on PATH"):
        terraform_binary()


def test_terraform_is_installed_here():
    assert os.access(terraform_binary(), os.X_OK)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("10m", 600), ("1h30m", 5400), (None, 1200)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_a_bad_duration_is_refused():
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("ten minutes")


def test_an_api_error_diagnostic_names_the_code_and_the_request_id():
    exc = vmcloud.BadRequest(400, "validation_error", "Invalid input.", {"name": ["Bad."]}, "req-123")
    summary, detail = error_detail(exc)
    assert summary == "VMCloud API error: validation_error"
    assert "request id req-123" in detail and "name: Bad." in detail


def test_every_schema_encodes_and_secrets_are_sensitive():
    servicer = ProviderServicer(VMCloudProvider())
    resources = {name: cls.get_schema().to_pb() for name, cls in servicer._load_res_cls_map().items()}
    assert set(resources) == {
        "vmcloud_server",
        "vmcloud_ssh_key",
        "vmcloud_project",
        "vmcloud_snapshot_schedule",
        "vmcloud_volume",
        "vmcloud_network",
        "vmcloud_network_attachment",
        "vmcloud_firewall",
        "vmcloud_floating_ip",
        "vmcloud_service",
        "vmcloud_load_balancer",
        "vmcloud_alert_policy",
    }
    firewall = resources["vmcloud_firewall"].block
    assert {b.type_name: b.nesting for b in firewall.block_types} == {
        "rule": pb.Schema.NestedBlock.NestingMode.LIST,
        "apply_to": pb.Schema.NestedBlock.NestingMode.LIST,
        "timeouts": pb.Schema.NestedBlock.NestingMode.SINGLE,
    }
    data = {name: cls.get_schema().to_pb() for name, cls in servicer._load_ds_cls_map().items()}
    assert set(data) == {
        "vmcloud_offers",
        "vmcloud_images",
        "vmcloud_datacentres",
        "vmcloud_servers",
        "vmcloud_ssh_keys",
        "vmcloud_volumes",
        "vmcloud_networks",
        "vmcloud_firewalls",
        "vmcloud_floating_ips",
        "vmcloud_services",
        "vmcloud_load_balancer",
    }
    sensitive = {a.name for a in resources["vmcloud_server"].block.attributes if a.sensitive}
    assert sensitive == {"user_data"}
    # A managed service's config may hold secrets (a PaaS env's values).
    assert {a.name for a in resources["vmcloud_service"].block.attributes if a.sensitive} == {"config"}
    assert {a.name for a in resources["vmcloud_alert_policy"].block.attributes if a.sensitive} == {"webhook_secret"}
    lb = resources["vmcloud_load_balancer"].block
    assert {a.name for a in lb.attributes if a.sensitive} == {"certificate", "private_key"}
    assert {b.type_name for b in lb.block_types} == {"rule", "target", "health_check", "sticky_sessions", "timeouts"}
    provider = VMCloudProvider().get_provider_schema(None).to_pb()  # type: ignore[arg-type]
    assert {a.name for a in provider.block.attributes if a.sensitive} == {"token"}


def test_a_developer_override_runs_the_installed_provider_without_init(tmp_path):
    """The docs' ``dev_overrides`` recipe: Terraform takes the provider from the virtualenv's ``bin/``."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.clients.terraform import PROVIDER_BLOCK, SOURCE

    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "terraform-provider-vmcloud").exists(), "pip install -e ./clients/terraform-provider-vmcloud"
    config = tmp_path / "dev.tfrc"
    config.write_text(
        f'provider_installation {{\n  dev_overrides {{\n    "{SOURCE}" = "{bin_dir}"\n  }}\n  direct {{}}\n}}\n'
    )
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "VMCLOUD_"))}
    env.update({"HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1"})

    def validate(body: str) -> subprocess.CompletedProcess[str]:
        (work / "main.tf").write_text(PROVIDER_BLOCK + body)
        return subprocess.run(
            [terraform_binary(), "validate", "-no-color"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    good = validate('resource "vmcloud_ssh_key" "k" {\n  name = "k"\n  public_key = "ssh-ed25519 AAAA"\n}\n')
    assert good.returncode == 0, good.stderr
    assert "Provider development overrides are in effect" in good.stderr + good.stdout
    bad = validate('resource "vmcloud_ssh_key" "k" {\n  name = "k"\n  colour = "red"\n}\n')
    assert bad.returncode == 1
    assert 'An argument named "colour" is not expected here' in bad.stderr
