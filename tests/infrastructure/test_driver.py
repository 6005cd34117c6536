"""The Proxmox driver end to end against the simulator, over HTTPS with the generated CA.

Every request the driver sends is checked against Proxmox's official schema by
the simulator; the happy-path test asserts that none failed.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

import pytest

from apps.infrastructure.proxmox import (
    ProxmoxAuthError,
    ProxmoxDriver,
    ProxmoxNotFound,
    ProxmoxParameterError,
    ProxmoxPermanentError,
    ProxmoxTaskFailed,
    ProxmoxTransientError,
)
from apps.infrastructure.proxmox.driver import encode_sshkeys, ipconfig_spec, net_spec
from apps.infrastructure.proxmox.types import Upid
from tests.pvesim_fixtures import make_driver

SSH_KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx5lRVmW4rqbL7nDYsBoJ3Ka9l0o7N1xg9UoDCdTQfB alice@laptop",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob@workstation",
]


def _clone_gpu_vm(driver: ProxmoxDriver, vmid: int = 100123) -> None:
    upid = driver.clone(
        "pve1", 9001, vmid, "c42-a100-1", target_storage="ceph-nvme", pool="customers", target_node="gpu1"
    )
    driver.wait_task("pve1", upid, timeout=5)


def test_provisioning_sequence_is_schema_valid_end_to_end(pvesim, pve_driver, caplog):
    caplog.set_level(logging.INFO, logger="apps.infrastructure.proxmox")
    driver = pve_driver

    # 1. clone the GPU template into the VMID the platform allocated, on the GPU node
    assert driver.next_free_vmid_check(100123) is True
    upid = driver.clone(
        "pve1", 9001, 100123, "c42-a100-1", target_storage="ceph-nvme", pool="customers", target_node="gpu1"
    )
    assert Upid.parse(upid).type == "qmclone"
    assert driver.wait_task("pve1", upid, timeout=5).exitstatus == "OK"
    assert driver.locate(100123) == "gpu1"
    assert driver.next_free_vmid_check(100123) is False
    assert driver.config("gpu1", 100123).lock is None

    # 2. configure with a GPU mapping, q35 + OVMF, network, cloud-init
    upid = driver.configure(
        "gpu1",
        100123,
        cores=16,
        memory_mb=131072,
        balloon_mb=0,
        gpu_mappings=["a100-80gb"],
        networks=[net_spec("vmbr0", tag=120)],
        ipconfigs=[ipconfig_spec(ip="203.0.113.10/24", gw="203.0.113.1", ip6="2001:db8::10/64", gw6="2001:db8::1")],
        ci_user="ubuntu",
        ssh_keys=SSH_KEYS,
        user_data_snippet="local:snippets/c42-user.yaml",
        nameserver="1.1.1.1",
        searchdomain="vmcloud.eu",
        tags=["customer-42", "gpu"],
        description="customer 42",
        agent=True,
        onboot=True,
    )
    assert upid is not None
    driver.wait_task("gpu1", upid, timeout=5)
    options = driver.config("gpu1", 100123).options
    assert options["hostpci0"] == "mapping=a100-80gb,pcie=1"
    assert options["machine"] == "q35"
    assert options["bios"] == "ovmf"
    assert options["cicustom"] == "user=local:snippets/c42-user.yaml"
    assert unquote(str(options["sshkeys"])) == "\n".join(SSH_KEYS)

    # 3. resize, 4. start (the GPU is picked now), 5. status
    driver.wait_task("gpu1", driver.resize_disk("gpu1", 100123, "scsi0", 200) or "", timeout=5)
    assert "size=200G" in str(driver.config("gpu1", 100123).options["scsi0"])
    driver.wait_task("gpu1", driver.start("gpu1", 100123), timeout=5)
    status = driver.status("gpu1", 100123)
    assert status.running and status.cpus == 16 and status.maxmem == 131072 * 1024 * 1024
    assert pvesim.cluster.pci_usage == {("gpu1", "0000:41:00.0"): 100123}

    # 6. snapshot (no RAM state with a GPU), 7. stop, 8. delete with purge
    driver.wait_task("gpu1", driver.snapshot_create("gpu1", 100123, "before-upgrade", "pre apt upgrade"), timeout=5)
    assert [s.name for s in driver.snapshots("gpu1", 100123)] == ["before-upgrade"]
    driver.wait_task("gpu1", driver.stop("gpu1", 100123), timeout=5)
    assert not driver.status("gpu1", 100123).running
    assert pvesim.cluster.pci_usage == {}
    driver.wait_task("gpu1", driver.delete("gpu1", 100123), timeout=5)
    assert driver.locate(100123) is None

    assert pvesim.validation_failures == []
    validated = [r for r in pvesim.requests if r.validated]
    assert len(validated) == len(pvesim.requests) > 20
    # Each call that started a task is logged with its UPID.
    assert any("qmclone:9001:portal@pve!celery:" in r.getMessage() for r in caplog.records)


def test_booleans_go_over_the_wire_as_one_and_zero(pvesim, pve_driver):
    _clone_gpu_vm(pve_driver)
    pve_driver.wait_task("gpu1", pve_driver.configure("gpu1", 100123, onboot=True, agent=False) or "", timeout=5)
    config_posts = [r for r in pvesim.requests if r.method == "POST" and r.path.endswith("/config")]
    assert config_posts[-1].params["onboot"] == "1"
    assert config_posts[-1].params["agent"] == "0"
    clone = next(r for r in pvesim.requests if r.path.endswith("/clone"))
    assert clone.params["full"] == "1"


def test_sshkeys_are_url_encoded_as_pve_requires(pvesim, pve_driver):
    encoded = encode_sshkeys(SSH_KEYS)
    assert "+" not in encoded and " " not in encoded and "%0A" in encoded and "%40" in encoded
    _clone_gpu_vm(pve_driver)
    pve_driver.wait_task("gpu1", pve_driver.configure("gpu1", 100123, ssh_keys=SSH_KEYS) or "", timeout=5)
    sent = [r for r in pvesim.requests if "sshkeys" in r.params][-1]
    assert sent.params["sshkeys"] == encoded  # requests form-encoded the % once more, the server decoded it once
    assert sent.validation_errors == {}


def test_a_config_post_on_a_locked_vm_is_retried_then_raises_a_transient_error(pvesim):
    # POST config takes the flock in the API process: the lock timeout is an HTTP 500
    # (docs/dev/proxmox-behaviour.md#lock-placement).
    driver = make_driver(pvesim, retries=2)
    _clone_gpu_vm(driver)
    pvesim.hold_lock(100123, seconds=60)
    with pytest.raises(ProxmoxTransientError) as excinfo:
        driver.update_config("gpu1", 100123, {"cores": 2})
    assert "can't lock file '/var/lock/qemu-server/lock-100123.conf' - got timeout" in excinfo.value.message
    assert excinfo.value.status_code == 500
    posts = [r for r in pvesim.requests if r.method == "POST" and r.path.endswith("/config")]
    assert len(posts) == 3  # the first try and two retries


def test_a_start_on_a_locked_vm_answers_a_upid_and_its_task_fails_with_a_transient_lock_error(pvesim):
    # status/start takes the flock in the worker: HTTP 200 with a UPID, the task then fails
    # (docs/dev/proxmox-behaviour.md#lock-placement).
    driver = make_driver(pvesim, retries=2)
    _clone_gpu_vm(driver)
    pvesim.hold_lock(100123, seconds=60)
    upid = driver.start("gpu1", 100123)
    with pytest.raises(ProxmoxTaskFailed) as excinfo:
        driver.wait_task("gpu1", upid, timeout=5)
    assert excinfo.value.exitstatus == "can't lock file '/var/lock/qemu-server/lock-100123.conf' - got timeout"
    assert excinfo.value.is_transient
    assert "trying to acquire lock..." in excinfo.value.log_tail
    assert len([r for r in pvesim.requests if r.path.endswith("/status/start")]) == 1


def test_a_backup_lock_fails_the_task_with_vm_is_locked(pvesim, pve_driver):
    _clone_gpu_vm(pve_driver)
    pvesim.set_vm_lock(100123, "backup", seconds=60)
    upid = pve_driver.start("gpu1", 100123)
    with pytest.raises(ProxmoxTaskFailed) as excinfo:
        pve_driver.wait_task("gpu1", upid, timeout=5)
    assert excinfo.value.exitstatus == "VM is locked (backup)" and excinfo.value.is_transient


def test_a_task_waits_for_the_flock_within_the_lock_wait(pvesim):
    pvesim.cluster.lock_wait_seconds = 2.0
    driver = make_driver(pvesim)
    _clone_gpu_vm(driver)
    pvesim.hold_lock(100123, seconds=0.05)
    upid = driver.start("gpu1", 100123)
    assert driver.wait_task("gpu1", upid, timeout=5).ok
    log = driver.task_log("gpu1", upid)
    assert log[0] == "trying to acquire lock... OK" and log[-1] == "TASK OK"


def test_vm_still_cloning_refuses_config_with_a_lock_timeout(pvesim, pve_driver):
    pvesim.set_task_seconds(30, task_type="qmclone")
    pve_driver.clone("pve1", 9000, 100200, "slow-clone")
    assert pve_driver.config("pve1", 100200).lock == "clone"
    with pytest.raises(ProxmoxTransientError, match="got timeout"):
        pve_driver.configure("pve1", 100200, cores=2)


def test_failed_task_raises_with_its_message_and_log(pvesim, pve_driver):
    _clone_gpu_vm(pve_driver)
    pvesim.fail_next_task("qmstart", "start failed: QEMU exited with code 1")
    upid = pve_driver.start("gpu1", 100123)
    with pytest.raises(ProxmoxTaskFailed) as excinfo:
        pve_driver.wait_task("gpu1", upid, timeout=5)
    assert excinfo.value.exitstatus == "start failed: QEMU exited with code 1"
    assert excinfo.value.upid == upid
    assert excinfo.value.log_tail[-1] == "TASK ERROR: start failed: QEMU exited with code 1"
    assert not excinfo.value.is_transient


def test_start_without_a_free_gpu_fails_the_task(pvesim, pve_driver):
    # gpu2 has a single A100 80GB: the second VM that maps it cannot start.
    for vmid in (100301, 100302):
        pve_driver.wait_task("gpu2", pve_driver.clone("gpu2", 9100, vmid, f"vm{vmid}"), timeout=5)
        upid = pve_driver.configure("gpu2", vmid, gpu_mappings=["a100-80gb"], efidisk_storage="local-lvm")
        pve_driver.wait_task("gpu2", upid or "", timeout=5)
    pve_driver.wait_task("gpu2", pve_driver.start("gpu2", 100301), timeout=5)
    with pytest.raises(ProxmoxTaskFailed) as excinfo:
        pve_driver.wait_task("gpu2", pve_driver.start("gpu2", 100302), timeout=5)
    assert excinfo.value.exitstatus == "could not find a free device for 'hostpci0'"
    # Stopping the first VM frees the device for the second.
    pve_driver.wait_task("gpu2", pve_driver.stop("gpu2", 100301), timeout=5)
    pve_driver.wait_task("gpu2", pve_driver.start("gpu2", 100302), timeout=5)
    assert pvesim.validation_failures == []


def test_offline_node_is_a_transient_595(pvesim):
    driver = make_driver(pvesim, retries=1)
    pvesim.set_node_online("gpu2", False)
    with pytest.raises(ProxmoxTransientError) as excinfo:
        driver.status("gpu2", 9100)
    assert excinfo.value.status_code == 595
    assert "No route to host" in excinfo.value.message
    assert [n.status for n in driver.nodes() if n.node == "gpu2"] == ["offline"]
    assert len([r for r in pvesim.requests if r.path.endswith("/status/current")]) == 2


def test_bad_token_is_an_auth_error_and_is_not_retried(pvesim):
    driver = ProxmoxDriver(pvesim.url, pvesim.token_id, "wrong-secret", verify=str(pvesim.ca_path), retries=3)
    with pytest.raises(ProxmoxAuthError) as excinfo:
        driver.nodes()
    assert excinfo.value.status_code == 401
    assert excinfo.value.message == "Authentication failed!"
    assert len(pvesim.requests) == 0  # refused before routing, and never retried


def test_untrusted_certificate_is_refused(pvesim):
    driver = ProxmoxDriver(pvesim.url, pvesim.token_id, pvesim.token_secret, verify=True, retries=0)
    with pytest.raises(ProxmoxTransientError, match="connection error"):
        driver.version()


def test_missing_vm_is_not_found(pve_driver):
    with pytest.raises(
        ProxmoxNotFound, match=r"Configuration file 'nodes/pve1/qemu-server/424242\.conf' does not exist"
    ):
        pve_driver.status("pve1", 424242)


def test_parameter_errors_carry_pve_errors_dict(pve_driver):
    with pytest.raises(ProxmoxParameterError) as excinfo:
        pve_driver.resize_disk("pve1", 9000, "scsi99", 20)
    assert excinfo.value.status_code == 400
    assert excinfo.value.errors == {
        "disk": "value 'scsi99' does not have a value in the enumeration "
        + "'"
        + ", ".join(
            [f"ide{i}" for i in range(4)]
            + [f"scsi{i}" for i in range(31)]
            + [f"virtio{i}" for i in range(16)]
            + [f"sata{i}" for i in range(6)]
            + ["efidisk0", "tpmstate0"]
        )
        + "'"
    }


def test_clone_into_an_existing_vmid_is_permanent(pve_driver):
    with pytest.raises(ProxmoxPermanentError, match="unable to create VM 9001: config file already exists"):
        pve_driver.clone("pve1", 9000, 9001, "dup")


def test_inventory_reads(pve_driver):
    nodes = {n.node: n for n in pve_driver.nodes()}
    assert set(nodes) == {"pve1", "gpu1", "gpu2"} and nodes["gpu1"].online
    assert pve_driver.node_status("gpu1").cpu_model == "AMD EPYC 7713 64-Core Processor"
    gpus = [d for d in pve_driver.node_pci_devices("gpu1") if d.is_gpu]
    assert {(d.id, d.vendor_device, d.iommugroup) for d in gpus} == {
        ("0000:41:00.0", "10de:20b5", 42),
        ("0000:81:00.0", "10de:20b5", 77),
        ("0000:01:00.0", "10de:2684", 15),
    }
    mappings = {m.id: m for m in pve_driver.pci_mappings()}
    assert [(e.node, e.path) for e in mappings["a100-80gb"].entries_on("gpu1")] == [
        ("gpu1", "0000:41:00.0"),
        ("gpu1", "0000:81:00.0"),
    ]
    assert mappings["rtx-4090"].entries[0].path == "0000:01:00"  # GPU and HDMI audio mapped together
    assert {(t.vmid, t.name) for t in pve_driver.templates()} == {
        (9000, "ubuntu-24.04"),
        (9001, "ubuntu-22.04-gpu"),
        (9100, "debian-12"),
    }
    storages = {(s.storage, s.node): s for s in pve_driver.storages()}
    assert storages[("ceph-nvme", "gpu1")].shared and "images" in storages[("ceph-nvme", "gpu1")].content


def test_removed_gpu_disappears_from_the_node_pci_list(pvesim, pve_driver):
    pvesim.set_gpu_present("gpu1", "0000:81:00.0", False)
    ids = {d.id for d in pve_driver.node_pci_devices("gpu1") if d.is_gpu}
    assert ids == {"0000:41:00.0", "0000:01:00.0"}


def test_console_metrics_and_guest_network(pve_driver):
    _clone_gpu_vm(pve_driver)
    upid = pve_driver.configure(
        "gpu1", 100123, networks=[net_spec("vmbr0")], ipconfigs=[ipconfig_spec(ip="203.0.113.10/24", gw="203.0.113.1")]
    )
    pve_driver.wait_task("gpu1", upid or "", timeout=5)
    pve_driver.wait_task("gpu1", pve_driver.start("gpu1", 100123), timeout=5)
    assert pve_driver.guest_ping("gpu1", 100123)
    eth0 = next(i for i in pve_driver.guest_network("gpu1", 100123) if i.name == "eth0")
    assert ("203.0.113.10", "ipv4", 24) in {(a.address, a.type, a.prefix) for a in eth0.ip_addresses}
    points = pve_driver.rrddata("gpu1", 100123)
    assert len(points) == 70 and points[-1].cpu is not None
    ticket = pve_driver.vncproxy("gpu1", 100123)
    assert ticket.password and ticket.ticket.startswith(ticket.password) and Upid.parse(ticket.upid).type == "vncproxy"


def test_snapshot_rollback_and_delete(pve_driver):
    pve_driver.wait_task("pve1", pve_driver.clone("pve1", 9000, 100400, "snap"), timeout=5)
    pve_driver.wait_task("pve1", pve_driver.snapshot_create("pve1", 100400, "s1"), timeout=5)
    pve_driver.wait_task("pve1", pve_driver.configure("pve1", 100400, cores=8) or "", timeout=5)
    pve_driver.wait_task("pve1", pve_driver.snapshot_rollback("pve1", 100400, "s1"), timeout=5)
    assert pve_driver.config("pve1", 100400).options["cores"] == 2
    pve_driver.wait_task("pve1", pve_driver.snapshot_delete("pve1", 100400, "s1"), timeout=5)
    assert pve_driver.snapshots("pve1", 100400) == []
    with pytest.raises(ProxmoxTaskFailed, match="snapshot 'nope' does not exist"):
        pve_driver.wait_task("pve1", pve_driver.snapshot_delete("pve1", 100400, "nope"), timeout=5)


def test_power_actions(pve_driver):
    pve_driver.wait_task("pve1", pve_driver.clone("pve1", 9000, 100500, "power"), timeout=5)
    with pytest.raises(ProxmoxPermanentError, match="VM 100500 not running"):
        pve_driver.reboot("pve1", 100500)
    for action in (pve_driver.start, pve_driver.reboot, pve_driver.reset, pve_driver.shutdown):
        pve_driver.wait_task("pve1", action("pve1", 100500), timeout=5)
    assert not pve_driver.status("pve1", 100500).running
    pve_driver.wait_task("pve1", pve_driver.start("pve1", 100500), timeout=5)
    with pytest.raises(ProxmoxTaskFailed, match="VM 100500 already running"):
        pve_driver.wait_task("pve1", pve_driver.start("pve1", 100500), timeout=5)


def test_driver_rejects_a_non_https_url():
    with pytest.raises(ValueError, match="HTTPS"):
        ProxmoxDriver("http://127.0.0.1:8006", "portal@pve!celery", "x")
    with pytest.raises(ValueError, match="user@realm!tokenname"):
        ProxmoxDriver("https://127.0.0.1:8006", "portal", "x")


def test_an_ovmf_vm_without_efi_disk_starts_with_warnings_and_configure_adds_a_persistent_one(pvesim, pve_driver):
    _clone_gpu_vm(pve_driver)
    with pvesim.cluster.lock:
        pvesim.cluster.vms[100123].config.pop("efidisk0")
    upid = pve_driver.start("gpu1", 100123)
    status = pve_driver.wait_task("gpu1", upid, timeout=5)
    assert status.exitstatus == "WARNINGS: 1" and status.ok
    log = pve_driver.task_log("gpu1", upid)
    assert "WARN: no efidisk configured! Using temporary efivars disk." in log and log[-1] == "TASK WARNINGS: 1"
    pve_driver.wait_task("gpu1", pve_driver.stop("gpu1", 100123), timeout=5)

    upid = pve_driver.configure("gpu1", 100123, gpu_mappings=["a100-80gb"], efidisk_storage="ceph-nvme")
    pve_driver.wait_task("gpu1", upid or "", timeout=5)
    efidisk = pve_driver.config("gpu1", 100123).options["efidisk0"]
    assert efidisk.startswith("ceph-nvme:vm-100123-disk-") and "efitype=4m,pre-enrolled-keys=0" in efidisk
    assert pve_driver.wait_task("gpu1", pve_driver.start("gpu1", 100123), timeout=5).exitstatus == "OK"
    assert pvesim.validation_failures == []


def test_storage_content_lists_a_vm_disks_and_the_snippets(pvesim, pve_driver):
    _clone_gpu_vm(pve_driver)
    volumes = pve_driver.storage_content("gpu1", "ceph-nvme", content="images", vmid=100123)
    assert {v.volid for v in volumes} >= {"ceph-nvme:vm-100123-disk-0"}
    disk = next(v for v in volumes if v.volid == "ceph-nvme:vm-100123-disk-0")
    assert (disk.vmid, disk.format, disk.content, disk.size) == (100123, "raw", "images", 20 * 1024**3)
    assert pve_driver.storage_content("gpu1", "local", content="images") == []
    assert pvesim.validation_failures == []
