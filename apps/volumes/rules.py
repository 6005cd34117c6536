"""Pure rules of block storage volumes: size bounds and the I/O throttles of a tier (no database).

Throttles (docs/dev/proxmox-behaviour.md#io-limits): the catalogue sells IOPS
per TB (STORAGE-SSD 10K, -NVME 50K, -EXTREME 200K, -DEDICATED 500K+), so a
volume gets ``iops_per_tb × size_gb / 1000`` IOPS, at least ``MIN_IOPS``.

* Read/write split: each direction gets the full figure (``iops_rd`` and
  ``iops_wr`` equal). PVE refuses a total limit next to per-direction ones, so
  a combined budget cannot be expressed; giving each direction the sold figure
  means a read-only or write-only workload sees what the catalogue promised.
* Throughput: the IOPS figure at a 16 KiB block (``iops / 64`` MiB/s per
  direction), at least ``MIN_MBPS`` and at most ``MAX_MBPS``, so large
  sequential I/O is not held below what the IOPS allow at a usual block size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

# Issue 13: "from 10 GB to 10 TB".
SIZE_MIN_GB = 10
SIZE_MAX_GB = 10_000
MIN_IOPS = 100
MIN_MBPS = 50
MAX_MBPS = 10_000
BLOCK_KIB = 16


@dataclass(frozen=True)
class Throttle:
    """Per-direction limits of one volume (operations per second, MiB/s)."""

    iops_rd: int
    iops_wr: int
    mbps_rd: int
    mbps_wr: int


def size_error(size_gb: int) -> str | None:
    """The customer's message saying why ``size_gb`` is not a valid volume size, or None when it is valid."""
    if SIZE_MIN_GB <= size_gb <= SIZE_MAX_GB:
        return None
    return _("A volume is between %(min)s and %(max)s GB.") % {"min": SIZE_MIN_GB, "max": SIZE_MAX_GB}


def throttle(*, iops_per_tb: int, size_gb: int) -> Throttle:
    """The throttle of a ``size_gb`` volume of a tier selling ``iops_per_tb``."""
    iops = max(MIN_IOPS, iops_per_tb * size_gb // 1000)
    mbps = min(MAX_MBPS, max(MIN_MBPS, iops * BLOCK_KIB // 1024))
    return Throttle(iops_rd=iops, iops_wr=iops, mbps_rd=mbps, mbps_wr=mbps)


def monthly_price(*, price_per_gb: Decimal, size_gb: int) -> Decimal:
    """Per-GB monthly price × size (the tier's ``billing_unit`` is ``gb_month``)."""
    return price_per_gb * size_gb


def device_serial(public_id_hex: str) -> str:
    """The disk serial the guest sees (PVE allows 20 characters): ``vol-`` and 16 hex digits of the id."""
    return f"vol-{public_id_hex[:16]}"


def guest_device_path(serial: str) -> str:
    """The stable path of a SCSI volume in a Linux guest (udev names QEMU disks by serial)."""
    return f"/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_{serial}"


def mount_point(name: str) -> str:
    """A mount directory for a volume named ``name``: ``/mnt/`` and its name in lower-case letters, digits, ``-``."""
    clean = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower()).strip("-")
    return f"/mnt/{clean or 'volume'}"


def mount_commands(*, device_path: str, mount_dir: str) -> dict[str, str]:
    """Shell lines to format, mount, remount at boot and grow an ext4 file system on the volume.

    The ``/etc/fstab`` line names the stable ``/dev/disk/by-id`` path (it survives
    reboots and a changed disk order, like a UUID) with ``nofail`` so a detached volume
    never stops the boot; ``resize2fs`` grows a mounted ext4 on line after the volume grew.
    """
    return {
        "format": f"sudo mkfs.ext4 -L data {device_path}",
        "mount": f"sudo mkdir -p {mount_dir}\nsudo mount -o defaults,discard {device_path} {mount_dir}",
        "fstab": f"echo '{device_path} {mount_dir} ext4 defaults,nofail,discard 0 2' | sudo tee -a /etc/fstab",
        "uuid": f"sudo blkid -s UUID -o value {device_path}",
        "grow": f"sudo resize2fs {device_path}",
    }
