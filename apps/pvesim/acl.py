"""API-token privileges in the simulated PVE cluster: ACLs, roles, and the permission checks of each call.

Proxmox VE checks every API call against the caller's privileges before it runs
(docs/dev/proxmox-permissions.md). The simulator does the same, so a call the
platform's token could not make on a real cluster fails here too:

* **ACLs** are (path, role, propagate) grants given to a token, and to its user;
  with privilege separation the token's privileges are intersected with the
  user's. On a path, the grants of the deepest level that has any replace those
  inherited from above (only ``propagate`` grants are inherited), and a VM of a
  pool also gets the privileges granted on ``/pool/<pool>``
  (https://pve.proxmox.com/pve-docs/chapter-pveum.html#pveum_permission_management).
* **Checks** come from the official schema: each method's ``permissions`` object
  (``perm``/``and``/``or``, ``any``, ``require_param``, ``user: all``). Checks
  Proxmox only describes in words, or makes in code (clone's storages, the
  config call's per-option privileges, GPU mappings, bridges, volumes, SDN vnets,
  task ownership), are written out below for the endpoints the platform uses.
* **Listings** leave out what the token may not see (VMs, storages, volumes, PCI
  mappings, SDN objects, pools, other users' tasks).

A denial is PVE's 403 ``Permission check failed (<path>, <privilege>)``.

``PLATFORM_ROLES`` and ``platform_grants`` are the one place holding the grants
the operator docs tell staff to create (apps/docs/content/adding-a-cluster.md):
every simulator starts with them unless its fleet file or its caller says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apps.pvesim.fleet import Grant, TokenAcl
from apps.pvesim.state import PveHttpError, drive_volume, is_disk_key, volume_owner

if TYPE_CHECKING:
    from apps.pvesim.fleet import ClusterSpec
    from apps.pvesim.schema import PveSchema
    from apps.pvesim.state import SimCluster

# The roles of apps/docs/content/adding-a-cluster.md ("A dedicated user and token", and the roles for the
# resources around a server), privilege for privilege.
PLATFORM_ROLES: dict[str, frozenset[str]] = {
    "VMCloudAudit": frozenset(["Sys.Audit", "VM.Audit", "Datastore.Audit", "Mapping.Audit"]),
    "VMCloudPortal": frozenset(
        [
            "VM.Allocate",
            "VM.Clone",
            "VM.Audit",
            "VM.Console",
            "VM.PowerMgmt",
            "VM.Snapshot",
            "VM.Snapshot.Rollback",
            "VM.Monitor",
            "VM.Config.CPU",
            "VM.Config.Memory",
            "VM.Config.Disk",
            "VM.Config.Network",
            "VM.Config.Options",
            "VM.Config.Cloudinit",
            "VM.Config.HWType",
            "Datastore.AllocateSpace",
            "Datastore.Audit",
            "Mapping.Use",
            "SDN.Use",
        ]
    ),
    "VMCloudVolumes": frozenset({"Datastore.Allocate"}),
    "VMCloudFirewall": frozenset({"Sys.Modify"}),
    "VMCloudNetwork": frozenset({"SDN.Allocate", "SDN.Audit", "SDN.Use"}),
}
# PVE 9 removed VM.Monitor: the guest-agent calls need the VM.GuestAgent.* privileges instead
# (apps/docs/content/adding-a-cluster.md, apps/docs/content/load-balancer-engine.md).
PVE9_AGENT_PRIVILEGES = frozenset({"VM.GuestAgent.Audit", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted"})
# The storage's holder VMID of the docs' example (apps/docs/content/volumes.md, "For staff").
DOCS_HOLDER_VMID = 899_999


def platform_grants(spec: ClusterSpec) -> tuple[Grant, ...]:
    """The grants of apps/docs/content/adding-a-cluster.md for a cluster: ``VMCloudPortal`` on every storage that
    holds VM disks (the docs' ``/storage/ceph-nvme`` for new VMs and ``/storage/ceph-ssd`` for a volume tier), and
    ``VMCloudVolumes`` on each storage a volume tier may live on (here: every one that holds images)."""
    grants = [
        Grant("/", "VMCloudAudit"),
        Grant("/pool/customers", "VMCloudPortal"),
        Grant("/vms", "VMCloudPortal"),
    ]
    for storage in spec.storages:
        if "images" in storage.content:
            grants.append(Grant(f"/storage/{storage.name}", "VMCloudPortal"))
            # Deleting a volume needs Datastore.Allocate (``DELETE …/storage/{s}/content/{volume}``).
            grants.append(Grant(f"/storage/{storage.name}", "VMCloudVolumes"))
    grants += [
        Grant("/mapping/pci", "VMCloudPortal"),
        Grant("/sdn/zones/localnetwork", "VMCloudPortal"),
        Grant("/", "VMCloudFirewall"),
        Grant("/sdn", "VMCloudNetwork"),
        Grant(f"/vms/{DOCS_HOLDER_VMID}", "VMCloudPortal"),
    ]
    return tuple(grants)


def normalize_path(path: str) -> str:
    """``PVE::AccessControl::normalize_path``: one slash between segments, none at the end."""
    path = "/" + "/".join(part for part in path.split("/") if part)
    return path


def _levels(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


class Acl:
    """The ACLs of one simulated cluster: roles, and each token's grants."""

    def __init__(
        self,
        roles: Mapping[str, Iterable[str]],
        tokens: Mapping[str, TokenAcl],
        *,
        default: TokenAcl | None = None,
    ) -> None:
        self.roles = {name: frozenset(privs) for name, privs in roles.items()}
        self.tokens = dict(tokens)
        self.default = default  # for a token with no entry (None: it has no privileges)

    @classmethod
    def platform(cls, spec: ClusterSpec, *, pve_major: int = 8) -> Acl:
        """The cluster's ACLs: the documented setup for every token, unless the fleet file gives an ``acl``
        (its roles are added to the platform's, and only its tokens have grants)."""
        roles: dict[str, frozenset[str]] = dict(PLATFORM_ROLES)
        if pve_major >= 9:
            roles["VMCloudPortal"] = (roles["VMCloudPortal"] - {"VM.Monitor"}) | PVE9_AGENT_PRIVILEGES
        if spec.acl_tokens is not None:
            roles.update({name: frozenset(privs) for name, privs in spec.acl_roles.items()})
            return cls(roles, spec.acl_tokens)
        return cls(roles, {}, default=TokenAcl(grants=platform_grants(spec)))

    def token_acl(self, token: str) -> TokenAcl | None:
        return self.tokens.get(token, self.default)

    def _privileges(self, grants: Iterable[Grant], path: str, pool: str | None) -> set[str]:
        grants = tuple(grants)
        current: set[str] = set()
        for level in _levels(path):
            final = level == path
            here = [g for g in grants if g.path == level and (final or g.propagate)]
            if here:
                current = set().union(*(self.roles.get(g.role, frozenset()) for g in here))
        if pool:
            for grant in grants:
                if grant.path == f"/pool/{pool}" and grant.propagate:
                    current |= self.roles.get(grant.role, frozenset())
        return current

    def privileges(self, token: str, path: str, cluster: SimCluster | None = None) -> set[str]:
        """The privileges ``token`` has on ``path`` (a VM's pool counts)."""
        acl = self.token_acl(token)
        if acl is None:
            return set()
        path = normalize_path(path)
        pool = None
        match = re.fullmatch(r"/vms/(\d+)", path)
        if match and cluster is not None:
            vm = cluster.vms.get(int(match.group(1)))
            pool = vm.pool if vm is not None else None
        own = self._privileges(acl.grants, path, pool)
        if not acl.privsep:
            return self._privileges(acl.user_grants or acl.grants, path, pool)
        user = own if acl.user_grants is None else self._privileges(acl.user_grants, path, pool)
        return own & user


def permission_denied(what: str = "") -> PveHttpError:
    """``raise_perm_exc``: 403 ``Permission check failed (<what>)``."""
    return PveHttpError(403, f"Permission check failed ({what})" if what else "Permission check failed")


@dataclass
class Checker:
    """The permission checks of one request (``PVE::RPCEnvironment``'s ``check``/``check_any``)."""

    acl: Acl
    token: str
    cluster: SimCluster
    params: dict[str, Any] = field(default_factory=dict)

    def has(self, path: str, privs: Iterable[str], *, any_of: bool = False) -> bool:
        owned = self.acl.privileges(self.token, path, self.cluster)
        privs = list(privs)
        return any(p in owned for p in privs) if any_of else all(p in owned for p in privs)

    def check(self, path: str, privs: Iterable[str], *, any_of: bool = False) -> None:
        path = normalize_path(path)
        privs = list(privs)
        owned = self.acl.privileges(self.token, path, self.cluster)
        if any_of:
            if not any(p in owned for p in privs):
                raise permission_denied(f"{path}, {'|'.join(privs)}")
            return
        for priv in privs:
            if priv not in owned:
                raise permission_denied(f"{path}, {priv}")

    # ------------------------------------------------------------- schema checks

    def api2(self, permissions: Mapping[str, Any] | None) -> None:
        """``check_api2_permissions``: the method's ``permissions`` object from the schema."""
        if not permissions:
            raise permission_denied("user != root@pam")  # a method without permissions is root's alone
        if permissions.get("user") == "all":
            return
        check = permissions.get("check")
        if check:
            self._exec(check, noerr=False)
            return
        raise permission_denied()

    def _exec(self, check: list[Any], *, noerr: bool) -> bool:
        test = check[0]
        if test == "or":
            if any(self._exec(sub, noerr=True) for sub in check[1:]):
                return True
            if noerr:
                return False
            raise permission_denied()
        if test == "and":
            return all(self._exec(sub, noerr=noerr) for sub in check[1:])
        if test == "perm":
            template, privs = check[1], check[2]
            options = dict(zip(check[3::2], check[4::2], strict=False))
            required = options.get("require_param")
            if required and self.params.get(required) is None:
                if noerr:
                    return False
                raise permission_denied()
            path = re.sub(r"\{([^}]+)\}", lambda m: str(self.params.get(m.group(1), "")), template)
            if noerr:
                return self.has(path, privs, any_of=bool(options.get("any")))
            self.check(path, privs, any_of=bool(options.get("any")))
            return True
        # userid-param, userid-group: checks on /access/ paths the simulator does not serve.
        raise PveHttpError(500, f"unknown permission test '{test}'")


# ----------------------------------------------------------------------------- code checks

CodeCheck = Callable[[Checker, dict[str, str]], None]
CODE_CHECKS: dict[tuple[str, str], CodeCheck] = {}


def code_check(method: str, template: str) -> Callable[[CodeCheck], CodeCheck]:
    def register(func: CodeCheck) -> CodeCheck:
        CODE_CHECKS[(method, template)] = func
        return func

    return register


def _storage_of(volid: str) -> str:
    return volid.partition(":")[0]


def _is_cdrom(value: str) -> bool:
    return "media=cdrom" in value or value.split(",")[0] in ("cdrom", "none")


def _is_cloudinit(value: str) -> bool:
    return "cloudinit" in drive_volume(value).partition(":")[2]


def _volume_access(ck: Checker, volid: str, vmid: int | None) -> None:
    """``PVE::Storage::check_volume_access`` for an image: the owner VM may, a ``Datastore.Allocate`` holder may,
    else ``Datastore.Audit`` on the storage and ``VM.Config.Disk`` on the owner VM
    (docs/dev/proxmox-permissions.md#volumes)."""
    storage = _storage_of(volid)
    if ck.has(f"/storage/{storage}", ["Datastore.Allocate"]):
        return
    owner = volume_owner(volid)
    if owner is not None and vmid is not None and owner == vmid:
        return
    if owner is None:
        ck.check(f"/storage/{storage}", ["Datastore.AllocateSpace", "Datastore.Audit"], any_of=True)
        return
    ck.check(f"/storage/{storage}", ["Datastore.Audit"])
    ck.check(f"/vms/{owner}", ["VM.Config.Disk"])


def volume_visible(ck: Checker, volid: str) -> bool:
    try:
        _volume_access(ck, volid, None)
    except PveHttpError:
        return False
    return True


_NEW_DRIVE_RE = re.compile(r"^([^/:\s]+):(\d+(\.\d+)?|cloudinit)$")


def _drive(ck: Checker, vmid: int, key: str, value: str, *, storage: bool = True) -> None:
    """A drive option: ``$check_drive_perms`` and (for a value being set) ``check_storage_access`` of
    qemu-server's update path."""
    if _is_cloudinit(value):
        ck.check(f"/vms/{vmid}", ["VM.Config.Cloudinit", "VM.Config.CDROM"])
    elif _is_cdrom(value):
        ck.check(f"/vms/{vmid}", ["VM.Config.CDROM"])
    else:
        ck.check(f"/vms/{vmid}", ["VM.Config.Disk"])
    volume = drive_volume(value)
    if not storage or volume in ("", "none", "cdrom"):
        return
    new = _NEW_DRIVE_RE.match(volume)
    if new:
        ck.check(f"/storage/{new.group(1)}", ["Datastore.AllocateSpace"])
    elif ":" in volume:
        if "/iso/" in volume or ":iso/" in volume:
            ck.check(f"/storage/{_storage_of(volume)}", ["Datastore.AllocateSpace", "Datastore.Audit"], any_of=True)
        else:
            _volume_access(ck, volume, vmid)


def _net_bridges(value: str) -> list[str]:
    """The SDN paths a NIC uses (``check_bridge_access``): ``/sdn/zones/<zone>/<bridge>[/<tag>]``."""
    options = dict(part.partition("=")[::2] for part in value.split(",") if "=" in part)
    bridge = options.get("bridge")
    if not bridge:
        return []
    return [bridge] + ([f"{bridge}/{options['tag']}"] if options.get("tag") else [])


def _bridge_access(ck: Checker, value: str) -> None:
    from apps.pvesim.netstate import sdn_state

    for item in _net_bridges(value):
        bridge = item.split("/")[0]
        vnet = sdn_state(ck.cluster).running["vnets"].get(bridge) or sdn_state(ck.cluster).pending["vnets"].get(bridge)
        zone = str(vnet.get("zone")) if vnet else "localnetwork"
        ck.check(f"/sdn/zones/{zone}/{item}", ["SDN.Use"])


def _hostpci(ck: Checker, vmid: int, value: str) -> None:
    """``check_hostpci_perm``: a mapped device needs ``Mapping.Use`` on the mapping and ``VM.Config.HWType``
    (a raw address is root's, refused by the handler)."""
    options = dict(part.partition("=")[::2] for part in value.split(",") if "=" in part)
    mapping = options.get("mapping")
    if mapping:
        ck.check(f"/mapping/pci/{mapping}", ["Mapping.Use"])
        ck.check(f"/vms/{vmid}", ["VM.Config.HWType"])


# qemu-server ``API2/Qemu.pm``: the option groups of ``check_vm_modify_config_perm``.
_CPU = {"cores", "cpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus", "affinity"}
_MEMORY = {"memory", "balloon", "shares"}
_HWTYPE = {"acpi", "hotplug", "kvm", "machine", "scsihw", "smbios1", "tablet", "vga", "watchdog", "audio0"}
_GENERAL = {
    "agent", "autostart", "bios", "description", "keyboard", "localtime", "migrate_downtime", "migrate_speed",
    "name", "onboot", "ostype", "protection", "reboot", "startdate", "startup", "tdf", "template", "tags",
}  # fmt: skip
_DISK = {"boot", "bootdisk", "vmstatestorage"}
_CLOUDINIT = {"cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver", "searchdomain", "sshkeys"}
_CONFIG_CONTROL = {"delete", "digest", "revert", "skiplock", "background_delay", "force", "node", "vmid"}


def _option(ck: Checker, vmid: int, key: str, value: str | None) -> None:
    vm_path = f"/vms/{vmid}"
    if is_disk_key(key):
        if value is not None:
            _drive(ck, vmid, key, value)
        return
    if re.fullmatch(r"hostpci\d+", key):
        if value is not None:
            _hostpci(ck, vmid, value)
        return
    if re.fullmatch(r"serial\d+", key):
        if value in (None, "socket"):
            ck.check(vm_path, ["VM.Config.HWType"])
        return  # a host device is root's: refused by the handler
    if re.fullmatch(r"unused\d+", key):
        ck.check(vm_path, ["VM.Config.Disk"])
        return
    if key in _CPU or re.fullmatch(r"numa\d+", key):
        ck.check(vm_path, ["VM.Config.CPU"])
    elif key in _MEMORY:
        ck.check(vm_path, ["VM.Config.Memory"])
    elif key in _HWTYPE:
        ck.check(vm_path, ["VM.Config.HWType"])
    elif key in _GENERAL:
        ck.check(vm_path, ["VM.Config.Options"])
        if key == "startup":
            ck.check("/", ["Sys.Modify"])
    elif key == "freeze":
        ck.check(vm_path, ["VM.PowerMgmt"])
    elif key in _DISK:
        ck.check(vm_path, ["VM.Config.Disk"])
    elif re.fullmatch(r"net\d+", key):
        ck.check(vm_path, ["VM.Config.Network"])
        if value is not None:
            _bridge_access(ck, value)
    elif key in _CLOUDINIT or re.fullmatch(r"ipconfig\d+", key):
        ck.check(vm_path, ["VM.Config.Cloudinit", "VM.Config.Network"], any_of=True)
    elif key == "vmstate":
        ck.check(vm_path, ["VM.Config.Disk", "VM.PowerMgmt"])
    # anything else (args, lock, hookscript, …) is root's: the handler refuses it


def _config(ck: Checker, path: dict[str, str]) -> None:
    vmid = int(path["vmid"])
    vm = ck.cluster.vms.get(vmid)
    current = vm.config if vm is not None else {}
    for key, value in ck.params.items():
        if key in _CONFIG_CONTROL or value is None:
            continue
        _option(ck, vmid, key, str(value))
        if re.fullmatch(r"net\d+", key) and key in current:
            _bridge_access(ck, str(current[key]))  # the NIC's old bridge too
    for key in re.split(r"[,;\s]+", str(ck.params.get("delete") or "")):
        if not key:
            continue
        old = current.get(key)
        if is_disk_key(key) and old is not None:
            _drive(ck, vmid, key, str(old), storage=False)
        elif re.fullmatch(r"hostpci\d+", key):
            if old is not None:
                _hostpci(ck, vmid, str(old))
        elif re.fullmatch(r"net\d+", key):
            ck.check(f"/vms/{vmid}", ["VM.Config.Network"])
        else:
            _option(ck, vmid, key, None)


code_check("POST", "/nodes/{node}/qemu/{vmid}/config")(_config)
code_check("PUT", "/nodes/{node}/qemu/{vmid}/config")(_config)


@code_check("POST", "/nodes/{node}/qemu/{vmid}/clone")
def _clone(ck: Checker, path: dict[str, str]) -> None:
    """``$check_storage_access_clone`` (``Datastore.AllocateSpace`` on each disk's target storage),
    ``check_bridge_access`` and ``check_mapping_access`` on the source config."""
    vm = ck.cluster.vms.get(int(path["vmid"]))
    if vm is None:
        return
    storage = ck.params.get("storage")
    for key, value in vm.config.items():
        value = str(value)
        if is_disk_key(key) and not _is_cdrom(value) and not _is_cloudinit(value):
            ck.check(f"/storage/{storage or _storage_of(drive_volume(value))}", ["Datastore.AllocateSpace"])
        elif re.fullmatch(r"net\d+", key):
            _bridge_access(ck, value)
        elif re.fullmatch(r"hostpci\d+", key):
            mapping = dict(p.partition("=")[::2] for p in value.split(",") if "=" in p).get("mapping")
            if mapping:
                ck.check(f"/mapping/pci/{mapping}", ["Mapping.Use"])
    if vm.config.get("vmstatestorage"):
        ck.check(f"/storage/{vm.config['vmstatestorage']}", ["Datastore.AllocateSpace"])


@code_check("PUT", "/nodes/{node}/qemu/{vmid}/resize")
def _resize(ck: Checker, path: dict[str, str]) -> None:
    """``resize_vm``: ``Datastore.AllocateSpace`` on the disk's storage."""
    vm = ck.cluster.vms.get(int(path["vmid"]))
    value = vm.config.get(str(ck.params.get("disk"))) if vm is not None else None
    if value is not None and ":" in drive_volume(str(value)):
        ck.check(f"/storage/{_storage_of(drive_volume(str(value)))}", ["Datastore.AllocateSpace"])


@code_check("POST", "/nodes/{node}/qemu/{vmid}/move_disk")
def _move_disk(ck: Checker, path: dict[str, str]) -> None:
    """Schema description: ``Datastore.AllocateSpace`` on the storage, and the same privileges on a target VM."""
    vm = ck.cluster.vms.get(int(path["vmid"]))
    if ck.params.get("storage"):
        ck.check(f"/storage/{ck.params['storage']}", ["Datastore.AllocateSpace"])
    target = ck.params.get("target-vmid")
    if target is not None:
        ck.check(f"/vms/{target}", ["VM.Config.Disk"])
        value = vm.config.get(str(ck.params.get("disk"))) if vm is not None else None
        if value is not None and ":" in drive_volume(str(value)):
            ck.check(f"/storage/{_storage_of(drive_volume(str(value)))}", ["Datastore.AllocateSpace"])


@code_check("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}")
def _volume_free(ck: Checker, path: dict[str, str]) -> None:
    """Schema description: ``Datastore.Allocate`` on the storage (backups aside)."""
    ck.check(f"/storage/{path['storage']}", ["Datastore.Allocate"])


@code_check("GET", "/nodes/{node}/storage/{storage}/content/{volume}")
def _volume_read(ck: Checker, path: dict[str, str]) -> None:
    volume = path["volume"]
    volid = volume if ":" in volume else f"{path['storage']}:{volume}"
    _volume_access(ck, volid, None)


def _vnet_path(ck: Checker, vnet: str) -> str | None:
    from apps.pvesim.netstate import sdn_state

    row = sdn_state(ck.cluster).pending["vnets"].get(vnet)
    return f"/sdn/zones/{row.get('zone')}/{vnet}" if row else None


def _vnet_read(ck: Checker, path: dict[str, str]) -> None:
    target = _vnet_path(ck, path["vnet"])
    if target:
        ck.check(target, ["SDN.Audit", "SDN.Allocate"], any_of=True)


def _vnet_write(ck: Checker, path: dict[str, str]) -> None:
    target = _vnet_path(ck, path["vnet"])
    if target:
        ck.check(target, ["SDN.Allocate"])


for _method, _template in (
    ("GET", "/cluster/sdn/vnets/{vnet}"),
    ("GET", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}"),
):
    code_check(_method, _template)(_vnet_read)
for _method, _template in (
    ("PUT", "/cluster/sdn/vnets/{vnet}"),
    ("DELETE", "/cluster/sdn/vnets/{vnet}"),
    ("POST", "/cluster/sdn/vnets/{vnet}/subnets"),
    ("PUT", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}"),
    ("DELETE", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}"),
):
    code_check(_method, _template)(_vnet_write)


def _task_owner(privilege: str) -> CodeCheck:
    def check(ck: Checker, path: dict[str, str]) -> None:
        task = ck.cluster.tasks.get(path["upid"])
        owner = f"{task.user}!{task.tokenid}" if task is not None and task.tokenid else getattr(task, "user", None)
        if task is not None and owner != ck.token:
            ck.check(f"/nodes/{path['node']}", [privilege])

    return check


code_check("GET", "/nodes/{node}/tasks/{upid}/status")(_task_owner("Sys.Audit"))
code_check("GET", "/nodes/{node}/tasks/{upid}/log")(_task_owner("Sys.Audit"))
code_check("DELETE", "/nodes/{node}/tasks/{upid}")(_task_owner("Sys.Modify"))


# ----------------------------------------------------------------------------- listings

ListFilter = Callable[[Checker, dict[str, Any]], bool]


def _resource_visible(ck: Checker, row: dict[str, Any]) -> bool:
    kind = row.get("type")
    if kind in ("qemu", "lxc"):
        return ck.has(f"/vms/{row.get('vmid')}", ["VM.Audit"])
    if kind == "storage":
        return ck.has(f"/storage/{row.get('storage')}", ["Datastore.Audit", "Datastore.AllocateSpace"], any_of=True)
    if kind == "sdn":
        return ck.has(f"/sdn/zones/{row.get('sdn')}", ["SDN.Audit"])
    if kind == "pool":
        return ck.has(f"/pool/{row.get('pool')}", ["Pool.Audit"])
    return True  # nodes are listed to everyone (their figures need Sys.Audit)


def _task_visible(ck: Checker, row: dict[str, Any]) -> bool:
    owner = f"{row.get('user')}!{row.get('tokenid')}" if row.get("tokenid") else row.get("user")
    return owner == ck.token or ck.has(f"/nodes/{row.get('node')}", ["Sys.Audit"])


def _vnet_row_visible(ck: Checker, row: dict[str, Any]) -> bool:
    zone = row.get("zone")
    vnet = row.get("vnet")
    if zone is None and vnet is not None:
        target = _vnet_path(ck, str(vnet))
        return target is None or ck.has(target, ["SDN.Audit", "SDN.Allocate"], any_of=True)
    return ck.has(f"/sdn/zones/{zone}/{vnet}", ["SDN.Audit", "SDN.Allocate"], any_of=True)


LIST_FILTERS: dict[tuple[str, str], ListFilter] = {
    ("GET", "/cluster/resources"): _resource_visible,
    ("GET", "/nodes/{node}/qemu"): lambda ck, row: ck.has(f"/vms/{row.get('vmid')}", ["VM.Audit"]),
    ("GET", "/nodes/{node}/storage"): lambda ck, row: ck.has(
        f"/storage/{row.get('storage')}", ["Datastore.Audit", "Datastore.AllocateSpace"], any_of=True
    ),
    ("GET", "/nodes/{node}/storage/{storage}/content"): lambda ck, row: (
        row.get("content") not in ("images", "rootdir") or volume_visible(ck, str(row.get("volid")))
    ),
    ("GET", "/cluster/mapping/pci"): lambda ck, row: ck.has(
        f"/mapping/pci/{row.get('id')}", ["Mapping.Audit", "Mapping.Use", "Mapping.Modify"], any_of=True
    ),
    ("GET", "/pools"): lambda ck, row: ck.has(f"/pool/{row.get('poolid')}", ["Pool.Audit"]),
    ("GET", "/cluster/sdn/zones"): lambda ck, row: ck.has(
        f"/sdn/zones/{row.get('zone')}", ["SDN.Audit", "SDN.Allocate"], any_of=True
    ),
    ("GET", "/cluster/sdn/vnets"): _vnet_row_visible,
    ("GET", "/cluster/sdn/vnets/{vnet}/subnets"): _vnet_row_visible,
    ("GET", "/cluster/sdn/ipams"): lambda ck, row: ck.has(
        f"/sdn/ipams/{row.get('ipam')}", ["SDN.Audit", "SDN.Allocate"], any_of=True
    ),
    ("GET", "/cluster/sdn/ipams/{ipam}/status"): _vnet_row_visible,
    ("GET", "/cluster/tasks"): _task_visible,
    ("GET", "/nodes/{node}/tasks"): _task_visible,
}


def filter_rows(ck: Checker, method: str, template: str, path: dict[str, str], rows: Any) -> Any:
    """Leave out of a listing what the token may not see."""
    visible = LIST_FILTERS.get((method, template))
    if visible is None or not isinstance(rows, list):
        return rows
    if template == "/cluster/sdn/vnets/{vnet}/subnets":
        rows = [{**row, "vnet": row.get("vnet", path.get("vnet"))} for row in rows]
    return [row for row in rows if not isinstance(row, dict) or visible(ck, row)]


def schema_major(schema: PveSchema | None) -> int:
    """8 or 9: PVE 9 has no ``VM.Monitor`` (the agent calls check ``VM.GuestAgent.*``)."""
    if schema is None:
        return 8
    route = schema.route("GET", "/nodes/n/qemu/100/agent/network-get-interfaces")
    text = str(route.info.get("permissions") if route is not None and route.info else "")
    return 9 if "VM.GuestAgent" in text else 8
