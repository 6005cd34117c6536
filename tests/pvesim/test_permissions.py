"""The simulator checks API-token privileges as Proxmox VE does (docs/dev/proxmox-permissions.md): the schema's
``permissions`` and the checks PVE makes in code, ACL inheritance with ``propagate``, pool grants, privilege
separation, filtered listings, and PVE's 403 text; the documented grants let the platform's whole VM flow pass."""

from __future__ import annotations

import ssl
from urllib.parse import quote

import pytest
from proxmoxer import ProxmoxAPI
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from apps.infrastructure.proxmox.errors import ProxmoxAuthError
from apps.pvesim.acl import PLATFORM_ROLES, Acl, schema_major
from apps.pvesim.fleet import Grant, TokenAcl, parse_fleet
from apps.pvesim.schema import load_schema, schema_path
from apps.pvesim.server import PveSimulator
from tests.pvesim.client import clone, connect, exitstatus, refused
from tests.pvesim_fixtures import make_driver

VMID = 100970
OTHER = 100971
ADMIN = ["VM.Audit", "VM.PowerMgmt", "VM.Config.Disk", "VM.Allocate", "VM.Clone", "Sys.Audit"]
OBSERVER = ["VM.Audit", "Sys.Audit"]


def grants(*items: tuple[str, str] | tuple[str, str, bool], user: list[Grant] | None = None) -> TokenAcl:
    return TokenAcl(grants=tuple(Grant(*item) for item in items), user_grants=tuple(user) if user is not None else None)


@pytest.fixture
def pve(pvesim):
    pve = connect(pvesim)
    clone(pve, VMID, pool="customers")  # the documented grants
    clone(pve, OTHER)
    pvesim.set_token_acl(None)
    return pve


def test_a_token_without_power_management_gets_proxmox_403_on_start(pve, pvesim):
    pvesim.set_token_acl(grants(("/", "Observer")), roles={"Observer": OBSERVER})
    error = refused(pve.nodes("pve1").qemu(VMID).status.start.post)
    assert (error.status_code, error.content) == (403, f"Permission check failed (/vms/{VMID}, VM.PowerMgmt)")
    # Reading is allowed: the same token sees the status.
    assert pve.nodes("pve1").qemu(VMID).status.current.get()["status"] == "stopped"
    assert pvesim.cluster.vms[VMID].running is False


def test_the_permission_check_comes_before_parameter_validation(pve, pvesim):
    pvesim.set_token_acl(grants(("/", "Observer")), roles={"Observer": OBSERVER})
    error = refused(pve.nodes("pve1").qemu(VMID).status.stop.post, timeout="soon")
    assert (error.status_code, error.content) == (403, f"Permission check failed (/vms/{VMID}, VM.PowerMgmt)")


def test_a_grant_without_propagate_is_not_inherited(pve, pvesim):
    pvesim.set_token_acl(grants(("/vms", "Admin", False)), roles={"Admin": ADMIN})
    error = refused(pve.nodes("pve1").qemu(VMID).status.start.post)
    assert (error.status_code, error.content) == (403, f"Permission check failed (/vms/{VMID}, VM.PowerMgmt)")
    # The same grant on the VM's own path applies to it.
    pvesim.set_token_acl(grants((f"/vms/{VMID}", "Admin", False)), roles={"Admin": ADMIN})
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).status.start.post()) == "OK"


def test_a_deeper_grant_replaces_the_inherited_one(pve, pvesim):
    pvesim.set_token_acl(
        grants(("/", "Admin"), (f"/vms/{VMID}", "Observer")), roles={"Admin": ADMIN, "Observer": OBSERVER}
    )
    error = refused(pve.nodes("pve1").qemu(VMID).status.start.post)
    assert error.status_code == 403
    assert exitstatus(pve, pve.nodes("pve1").qemu(OTHER).status.start.post()) == "OK"


def test_a_pool_grant_covers_the_pools_vms_only(pve, pvesim):
    pvesim.set_token_acl(grants(("/pool/customers", "Admin")), roles={"Admin": ADMIN})
    assert pvesim.cluster.vms[VMID].pool == "customers"
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).status.start.post()) == "OK"
    error = refused(pve.nodes("pve1").qemu(OTHER).status.start.post)
    assert (error.status_code, error.content) == (403, f"Permission check failed (/vms/{OTHER}, VM.PowerMgmt)")


def test_with_privilege_separation_the_token_gets_only_what_its_user_has_too(pve, pvesim):
    pvesim.set_token_acl(
        grants(("/", "Admin"), user=[Grant("/", "Observer")]), roles={"Admin": ADMIN, "Observer": OBSERVER}
    )
    error = refused(pve.nodes("pve1").qemu(VMID).status.start.post)
    assert (error.status_code, error.content) == (403, f"Permission check failed (/vms/{VMID}, VM.PowerMgmt)")
    # Without privilege separation the token has the user's privileges, whatever the token's own grants.
    pvesim.set_token_acl(
        TokenAcl(grants=(Grant("/", "Observer"),), user_grants=(Grant("/", "Admin"),), privsep=False),
        roles={"Admin": ADMIN, "Observer": OBSERVER},
    )
    assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).status.start.post()) == "OK"


def test_clone_needs_allocate_on_the_new_vm_or_its_pool(pve, pvesim):
    pvesim.set_token_acl(
        grants(("/vms/9000", "Cloner"), ("/storage/ceph-nvme", "Space"), ("/sdn/zones/localnetwork", "Bridge")),
        roles={"Cloner": ["VM.Clone", "VM.Audit"], "Space": ["Datastore.AllocateSpace"], "Bridge": ["SDN.Use"]},
    )
    error = refused(pve.nodes("pve1").qemu(9000).clone.post, newid=100972, pool="customers")
    # The schema's ["or", /vms/{newid}, /pool/{pool}] fails as a whole: PVE names no path.
    assert (error.status_code, error.content) == (403, "Permission check failed")
    assert 100972 not in pvesim.cluster.vms


def test_clone_needs_space_on_the_target_storage(pve, pvesim):
    pvesim.set_token_acl(
        grants(("/vms", "Cloner"), ("/sdn/zones/localnetwork", "Bridge")),
        roles={"Cloner": ["VM.Clone", "VM.Allocate", "VM.Audit"], "Bridge": ["SDN.Use"]},
    )
    error = refused(pve.nodes("pve1").qemu(9000).clone.post, newid=100972, full=1, storage="local-lvm")
    assert (error.status_code, error.content) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)",
    )


def test_each_config_option_needs_its_own_privilege(pve, pvesim):
    pvesim.set_token_acl(
        grants(("/vms", "Sizer"), ("/mapping/pci", "Audit")),
        roles={"Sizer": ["VM.Audit", "VM.Config.CPU"], "Audit": ["Mapping.Audit"]},
    )
    pve.nodes("pve1").qemu(VMID).config.put(cores=4)
    error = refused(pve.nodes("pve1").qemu(VMID).config.put, cores=4, memory=4096)
    assert (error.status_code, error.content) == (403, f"Permission check failed (/vms/{VMID}, VM.Config.Memory)")
    error = refused(pve.nodes("pve1").qemu(VMID).config.put, hostpci0="mapping=a100-80gb,pcie=1")
    assert (error.status_code, error.content) == (403, "Permission check failed (/mapping/pci/a100-80gb, Mapping.Use)")
    config = pvesim.cluster.vms[VMID].config
    assert str(config["cores"]) == "4"
    assert str(config.get("memory")) != "4096"
    assert "hostpci0" not in config


def test_a_nic_needs_sdn_use_on_its_bridge(pve, pvesim):
    pvesim.set_token_acl(grants(("/vms", "Net")), roles={"Net": ["VM.Audit", "VM.Config.Network"]})
    error = refused(pve.nodes("pve1").qemu(VMID).config.put, net1="virtio,bridge=vmbr0")
    assert (error.status_code, error.content) == (
        403,
        "Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)",
    )


def test_a_mapping_the_token_cannot_see_is_not_listed(pve, pvesim):
    pvesim.set_token_acl(grants(("/mapping/pci/a100-80gb", "User")), roles={"User": ["Mapping.Use"]})
    assert [row["id"] for row in pve.cluster.mapping.pci.get()] == ["a100-80gb"]
    error = refused(pve.cluster.mapping.pci("rtx-4090").get)
    assert (error.status_code, error.content) == (403, "Permission check failed")
    pvesim.set_token_acl(None)
    assert sorted(row["id"] for row in pve.cluster.mapping.pci.get()) == ["a100-80gb", "rtx-4090"]


def test_listings_show_only_what_the_token_may_audit(pve, pvesim):
    pvesim.set_token_acl(grants((f"/vms/{VMID}", "Observer")), roles={"Observer": OBSERVER})
    vms = [row["vmid"] for row in pve.cluster.resources.get(type="vm")]
    assert vms == [VMID]
    assert [row["vmid"] for row in pve.nodes("pve1").qemu.get()] == [VMID]
    assert pve.cluster.resources.get(type="storage") == []
    assert pve.nodes("pve1").storage.get() == []
    # Nodes are listed to everyone.
    assert {row["node"] for row in pve.cluster.resources.get(type="node")} == {"pve1", "gpu1", "gpu2"}


def test_storage_content_lists_only_volumes_the_token_may_access(pve, pvesim):
    pvesim.set_token_acl(
        grants(("/storage/ceph-nvme", "Reader"), (f"/vms/{VMID}", "Disk")),
        roles={"Reader": ["Datastore.Audit"], "Disk": ["VM.Config.Disk"]},
    )
    owners = {row["vmid"] for row in pve.nodes("pve1").storage("ceph-nvme").content.get(content="images")}
    assert VMID in owners and OTHER not in owners


def test_deleting_a_volume_needs_datastore_allocate(pve, pvesim):
    pvesim.set_token_acl(grants(("/storage/ceph-nvme", "Space")), roles={"Space": ["Datastore.AllocateSpace"]})
    storage = pve.nodes("pve1").storage("ceph-nvme")
    volid = storage.content.post(vmid=899999, filename="vm-899999-disk-0", size="1G")
    error = refused(storage.content(volid).delete)
    assert (error.status_code, error.content) == (
        403,
        "Permission check failed (/storage/ceph-nvme, Datastore.Allocate)",
    )


def test_tasks_of_another_token_need_sys_audit_on_the_node(pve, pvesim):
    upid = pve.nodes("pve1").qemu(VMID).status.start.post()
    pvesim.tokens["ops@pve!other"] = "secret"
    pvesim.set_token_acl(grants(("/vms", "Observer")), token="ops@pve!other", roles={"Observer": ["VM.Audit"]})
    other = ProxmoxAPI(
        "127.0.0.1",
        port=pvesim.port,
        user="ops@pve",
        token_name="other",
        token_value="secret",
        verify_ssl=str(pvesim.ca_path),
        backend="https",
    )
    error = refused(other.nodes("pve1").tasks(upid).status.get)
    assert (error.status_code, error.content) == (403, "Permission check failed (/nodes/pve1, Sys.Audit)")
    assert other.cluster.tasks.get() == []
    assert exitstatus(pve, upid) == "OK"  # its own token reads it


def test_the_driver_reports_a_403_once_as_a_permanent_auth_error(pve, pvesim):
    pvesim.set_token_acl(grants(("/", "Observer")), roles={"Observer": OBSERVER})
    driver = make_driver(pvesim, retries=3)
    pvesim.clear_requests()
    with pytest.raises(ProxmoxAuthError) as info:
        driver.start("pve1", VMID)
    assert info.value.status_code == 403
    assert info.value.is_transient is False
    assert info.value.message == f"Permission check failed (/vms/{VMID}, VM.PowerMgmt)"
    starts = [r for r in pvesim.requests if r.path.endswith("/status/start")]
    assert len(starts) == 1  # not retried


def test_the_documented_grants_let_the_whole_vm_flow_pass(pvesim):
    """Create with a GPU, configure, resize, power, guest agent, snapshot, console, volumes, firewall, delete."""
    _whole_vm_flow(pvesim)


def test_on_pve_9_the_documented_grants_let_the_whole_vm_flow_pass(pvesim_fleet, pvesim_ca):
    """The same under the 9.1 schema, where the guest-agent calls check VM.GuestAgent.* instead of VM.Monitor."""
    nine_schema = (
        schema_path().parent / "pve-apidata-9.1.json"
    )  # beside the 8.4 one (docs/dev/proxmox-behaviour.md#schema-source)
    if not nine_schema.is_file():
        pytest.skip("the PVE 9.1 schema is not installed")
    simulator = PveSimulator(
        pvesim_fleet.cluster(), schema=load_schema(nine_schema), ca=pvesim_ca[0], ca_path=pvesim_ca[1]
    ).start()
    try:
        _whole_vm_flow(simulator)
    finally:
        simulator.stop()


def test_on_pve_9_vm_monitor_no_longer_opens_the_guest_agent(pvesim_fleet, pvesim_ca):
    nine_schema = schema_path().parent / "pve-apidata-9.1.json"
    if not nine_schema.is_file():
        pytest.skip("the PVE 9.1 schema is not installed")
    spec = pvesim_fleet.cluster()
    simulator = PveSimulator(
        spec,
        schema=load_schema(nine_schema),
        acl=Acl.platform(spec, pve_major=8),  # the 8.4 roles: VM.Monitor, no VM.GuestAgent.*
        ca=pvesim_ca[0],
        ca_path=pvesim_ca[1],
    ).start()
    try:
        pve = connect(simulator)
        clone(pve, VMID)
        assert exitstatus(pve, pve.nodes("pve1").qemu(VMID).status.start.post()) == "OK"
        error = refused(pve.nodes("pve1").qemu(VMID).agent.exec.post, command=["/bin/true"])
        assert (error.status_code, error.content) == (
            403,
            f"Permission check failed (/vms/{VMID}, VM.GuestAgent.Unrestricted)",
        )
        error = refused(pve.nodes("pve1").qemu(VMID).agent.ping.post)
        assert error.content == (
            f"Permission check failed (/vms/{VMID}, VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted)"
        )
    finally:
        simulator.stop()


def _whole_vm_flow(pvesim: PveSimulator) -> None:
    driver = make_driver(pvesim)
    node, vmid = "gpu1", 100975
    upid = driver.clone("pve1", 9001, vmid, "c42-gpu", pool="customers", target_storage="ceph-nvme", target_node=node)
    driver.wait_task("pve1", upid)
    upid = driver.configure(
        node,
        vmid,
        cores=4,
        memory_mb=8192,
        gpu_mappings=["a100-80gb"],
        efidisk_storage="ceph-nvme",
        networks=["virtio,bridge=vmbr0,firewall=1"],
        ipconfigs=["ip=192.0.2.10/24,gw=192.0.2.1"],
        ci_user="ubuntu",
        ssh_keys=["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host"],
        nameserver="192.0.2.53",
        tags=["vmcloud"],
        description="order 42",
        onboot=True,
        agent=True,
    )
    assert upid is not None
    driver.wait_task(node, upid)
    resized = driver.resize_disk(node, vmid, "scsi0", 40)
    assert resized is not None
    driver.wait_task(node, resized)
    driver.wait_task(node, driver.start(node, vmid))
    assert driver.status(node, vmid).status == "running"
    assert driver.guest_ping(node, vmid)
    driver.guest_network(node, vmid)
    driver.agent_file_write(node, vmid, "/tmp/probe", b"ok\n")
    pid = driver.agent_exec(node, vmid, ["/bin/true"])
    assert driver.agent_exec_wait(node, vmid, pid).exited
    driver.rrddata(node, vmid)
    driver.wait_task(node, driver.snapshot_create(node, vmid, "before"))
    driver.wait_task(node, driver.snapshot_rollback(node, vmid, "before"))
    driver.wait_task(node, driver.snapshot_delete(node, vmid, "before"))
    assert driver.vncproxy(node, vmid).ticket
    volid = driver.volume_allocate(node, "ceph-nvme", vmid=899999, size_gb=10)
    driver.volume_attach(node, vmid, volid=volid, slot="scsi5")
    driver.volume_detach(node, vmid, slot="scsi5")
    driver.wait_task(node, driver.volume_delete(node, "ceph-nvme", volid=volid))
    driver.vm_firewall_ipset_put(node, vmid, name="ipfilter-net0", cidrs=["192.0.2.10"])
    driver.vm_firewall_state(node, vmid)
    driver.cluster_firewall_enabled()
    assert {m.id for m in driver.pci_mappings()} == {"a100-80gb", "rtx-4090"}
    assert driver.node_pci_devices(node)
    driver.storages()
    driver.templates()
    driver.wait_task(node, driver.stop(node, vmid))
    driver.wait_task(node, driver.delete(node, vmid))
    denied = [(r.method, r.path, r.reason) for r in pvesim.requests if r.status == 403]
    assert denied == []
    assert vmid not in pvesim.cluster.vms


def test_the_documented_roles_follow_the_pve_version(pvesim_fleet):
    spec = pvesim_fleet.cluster()
    eight, nine = Acl.platform(spec, pve_major=8), Acl.platform(spec, pve_major=9)
    assert "VM.Monitor" in eight.privileges("portal@pve!celery", "/vms/100")
    on_nine = nine.privileges("portal@pve!celery", "/vms/100")
    assert "VM.Monitor" not in on_nine
    assert {"VM.GuestAgent.Audit", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted"} <= on_nine
    assert PLATFORM_ROLES["VMCloudAudit"] == {"Sys.Audit", "VM.Audit", "Datastore.Audit", "Mapping.Audit"}
    assert schema_major(load_schema()) == 8
    nine_schema = (
        schema_path().parent / "pve-apidata-9.1.json"
    )  # beside the 8.4 one (docs/dev/proxmox-behaviour.md#schema-source)
    if nine_schema.is_file():
        assert schema_major(load_schema(nine_schema)) == 9


def test_the_fleet_file_gives_tokens_their_grants():
    fleet = parse_fleet(
        {
            "clusters": [
                {
                    "name": "x",
                    "nodes": [{"name": "pve1"}],
                    "acl": {
                        "roles": {"Viewer": ["VM.Audit"]},
                        "tokens": {
                            "portal@pve!celery": {"grants": [{"path": "/vms/", "role": "Viewer", "propagate": False}]}
                        },
                    },
                }
            ]
        }
    )
    spec = fleet.cluster()
    assert spec.acl_tokens == {"portal@pve!celery": TokenAcl(grants=(Grant("/vms", "Viewer", False),))}
    acl = Acl.platform(spec)
    assert acl.privileges("portal@pve!celery", "/vms") == {"VM.Audit"}
    assert acl.privileges("portal@pve!celery", "/vms/100") == set()
    assert acl.privileges("someone@pve!else", "/") == set()


def test_the_console_websocket_needs_vm_console(pve, pvesim):
    proxy = pve.nodes("pve1").qemu(VMID).vncproxy.post(websocket=1, **{"generate-password": 1})
    pvesim.set_token_acl(grants(("/", "Observer")), roles={"Observer": OBSERVER})
    context = ssl.create_default_context(cafile=str(pvesim.ca_path))
    url = (
        f"wss://127.0.0.1:{pvesim.port}/api2/json/nodes/pve1/qemu/{VMID}/vncwebsocket"
        f"?port={proxy['port']}&vncticket={quote(proxy['ticket'], safe='')}"
    )
    headers = {"Authorization": f"PVEAPIToken={pvesim.token_id}={pvesim.token_secret}"}
    with pytest.raises(InvalidStatus) as info:
        ws_connect(url, ssl=context, additional_headers=headers, subprotocols=["binary"], open_timeout=5)
    assert info.value.response.status_code == 403
    assert info.value.response.reason_phrase == f"Permission check failed (/vms/{VMID}, VM.Console)"
