"""Snippet files of a cluster's shared snippets storage (cloud-init ``cicustom`` volumes).

PVE reads ``cicustom`` volumes (``vendor=<storage>:snippets/<file>``, docs/dev/proxmox-behaviour.md#vm-config) from a
storage with ``snippets`` content when it builds the cloud-init drive at start, but its API cannot write them: ``POST
/nodes/{node}/storage/{storage}/upload`` takes ``iso``, ``vztmpl`` and
``import`` content only. So each cluster that accepts user-data names a
storage shared by all its nodes (NFS, CephFS: ``Cluster.snippets_storage``)
that the platform's workers also mount (``Cluster.snippets_path``, the
storage's root; PVE keeps snippets in its ``snippets/`` directory), and the
workers write the files there themselves.

Writes are atomic (a temporary file in the same directory, then
``os.replace``), so a node never reads half a file, and idempotent: the same
name and content give the same file, so a retried step just rewrites it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from django.utils.translation import gettext as _

from apps.core.errors import Unavailable
from apps.infrastructure.models import Cluster

# Our own names only: letters, digits, dot, dash, underscore; no path separators.
_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
SNIPPET_MODE = 0o644  # PVE (root) and QEMU read it; nothing in it is secret from the node's admins


def _check(cluster: Cluster, filename: str) -> Path:
    if not cluster.has_snippets:
        raise Unavailable(
            _("Cloud-init user-data is not available in this datacentre yet."), code="user_data_unavailable"
        )
    if not _FILENAME_RE.match(filename):
        raise ValueError(f"not a snippet file name: {filename!r}")
    root = Path(cluster.snippets_path)
    if not root.is_dir():
        # Never create the storage root: an unmounted share would silently become a local directory.
        raise FileNotFoundError(f"snippets storage root {root} of cluster {cluster.name} is not mounted")
    return root / "snippets"


def snippet_volume(*, cluster: Cluster, filename: str) -> str:
    """The PVE volume id of a snippet, as ``cicustom`` takes it: ``<storage>:snippets/<file>``."""
    return f"{cluster.snippets_storage}:snippets/{filename}"


def snippet_write(*, cluster: Cluster, filename: str, content: str) -> str:
    """Write ``content`` (UTF-8) to the snippet ``filename`` atomically, mode 0644; returns its volume id.

    Raises ``Unavailable`` when the cluster has no snippets storage and
    ``OSError`` when the share cannot be written.
    """
    directory = _check(cluster, filename)
    directory.mkdir(mode=0o755, exist_ok=True)  # PVE creates it with the storage; a fresh share may lack it
    fd, temp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, SNIPPET_MODE)
        os.replace(temp, directory / filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return snippet_volume(cluster=cluster, filename=filename)


def snippet_delete(*, cluster: Cluster, filename: str) -> bool:
    """Remove the snippet ``filename``; True if it existed. A cluster without snippets storage has none."""
    if not cluster.has_snippets:
        return False
    directory = _check(cluster, filename)
    try:
        (directory / filename).unlink()
    except FileNotFoundError:
        return False
    return True
