"""Services of the browser console: issue and redeem single-use console tickets (docs/dev/proxmox-behaviour.md#console).

The customer's browser never talks to Proxmox. ``console_ticket_issue`` gives it
a random token (only its SHA-256 is stored) valid ``CONSOLE_TICKET_SECONDS``
for one connection to the platform's console proxy
(``apps.instances.consoleproxy``). The proxy calls ``console_ticket_redeem``,
which consumes the ticket with a conditional UPDATE, audits the connection,
asks Proxmox for a ``vncproxy`` ticket and returns where and how to reach the
node's ``vncwebsocket`` — an address, an API token and a VNC password that stay
inside the proxy.
"""

from __future__ import annotations

import hashlib
import secrets
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.actors import Actor, actor_user
from apps.core.errors import Conflict, PermissionDenied
from apps.core.services import audit_record
from apps.instances.choices import InstanceStatus
from apps.instances.models import ConsoleSession, Instance
from apps.instances.services.access import instance_authorise, instance_driver
from apps.teams.access import actor_has_permission
from apps.teams.choices import Permission

CONSOLE_TICKET_SECONDS = 60
# A console needs a VM whose QEMU runs: PVE's vncproxy on a stopped VM has nothing to attach to.
CONSOLE_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.REBOOTING)


@dataclass(frozen=True)
class ConsoleTicket:
    """What the browser gets: the proxy URL with the one-time token, and its expiry."""

    session: ConsoleSession
    token: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class ConsoleUpstream:
    """What only the proxy learns: the node's ``vncwebsocket`` URL, the API token header, TLS trust, VNC password."""

    url: str
    headers: dict[str, str] = field(repr=False)
    ssl_context: ssl.SSLContext = field(repr=False)
    password: str = field(repr=False)
    instance_name: str = ""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def console_url(token: str) -> str:
    """The proxy URL the browser connects to (``CONSOLE_PROXY_PUBLIC_URL``)."""
    base = str(settings.CONSOLE_PROXY_PUBLIC_URL).rstrip("/")
    return f"{base}/console/{token}"


def _check_console_possible(instance: Instance) -> None:
    if instance.status not in CONSOLE_STATUSES or instance.cluster_id is None or instance.vmid is None:
        raise Conflict(_("The console is available while the server is running."), code="instance_not_running")


def console_ticket_issue(*, instance: Instance, actor: Actor) -> ConsoleTicket:
    """Issue a single-use console ticket for ``instance``; needs ``resources.write`` (a console can type)."""
    instance_authorise(actor, instance)
    _check_console_possible(instance)
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(seconds=CONSOLE_TICKET_SECONDS)
    user = actor_user(actor)
    with transaction.atomic():
        session = ConsoleSession.objects.create(
            instance=instance,
            user=user,
            token_hash=_hash(token),
            expires_at=expires_at,  # type: ignore[misc]  # AUTH_USER_MODEL is accounts.User
        )
        audit_record(
            actor=actor,
            action="instances.console.open",
            target=instance,
            organisation_id=instance.organisation_id,
            changes={"session": str(session.public_id), "expires_at": expires_at.isoformat()},
        )
    return ConsoleTicket(session=session, token=token, url=console_url(token), expires_at=expires_at)


def _ssl_context(cluster: Any) -> ssl.SSLContext:
    """Trust the cluster's CA as the driver does (``infrastructure.services.cluster_driver``)."""
    if cluster.tls_ca_pem.strip():
        return ssl.create_default_context(cadata=cluster.tls_ca_pem)
    if cluster.tls_ca_file:
        return ssl.create_default_context(cafile=str(Path(settings.BASE_DIR) / cluster.tls_ca_file))
    return ssl.create_default_context()


def console_ticket_redeem(*, token: str) -> ConsoleUpstream:
    """Consume a ticket (once, before expiry), audit the connection and open a Proxmox VNC proxy.

    Raises ``PermissionDenied`` (``console_ticket_invalid``) for an unknown,
    used or expired ticket, or when the user lost the right to write resources.
    """
    now = timezone.now()
    digest = _hash(token)
    with transaction.atomic():
        # The conditional UPDATE is the single-use guarantee: of two racing connections only one sets used_at.
        claimed = ConsoleSession.objects.filter(token_hash=digest, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        if not claimed:
            raise PermissionDenied(_("This console ticket is invalid, used or expired."), code="console_ticket_invalid")
        session = ConsoleSession.objects.select_related("instance__cluster", "instance__organisation", "user").get(
            token_hash=digest
        )
        instance = session.instance
        user = session.user
        if user is not None and not actor_has_permission(
            user, instance.organisation, Permission.RESOURCES_WRITE, obj=instance
        ):
            raise PermissionDenied(_("This console ticket is invalid, used or expired."), code="console_ticket_invalid")
        _check_console_possible(instance)
        audit_record(
            actor=user,
            action="instances.console.connect",
            target=instance,
            organisation_id=instance.organisation_id,
            changes={"session": str(session.public_id)},
        )
    cluster = instance.cluster
    assert cluster is not None and instance.vmid is not None  # noqa: S101 - checked above
    driver = instance_driver(cluster)
    vnc = driver.vncproxy(instance.node_name, instance.vmid)
    api = urlsplit(cluster.api_url if "://" in cluster.api_url else f"https://{cluster.api_url}")
    host = api.hostname or ""
    netloc = f"{f'[{host}]' if ':' in host else host}:{api.port or 8006}"
    url = (
        f"wss://{netloc}/api2/json/nodes/{quote(vnc.node)}/qemu/{vnc.vmid}/vncwebsocket"
        f"?port={vnc.port}&vncticket={quote(vnc.ticket, safe='')}"
    )
    return ConsoleUpstream(
        url=url,
        headers={"Authorization": f"PVEAPIToken={cluster.token_id}={cluster.get_token_secret()}"},
        ssl_context=_ssl_context(cluster),
        # PVE 8.4 generates a VNC password; older servers use the ticket itself (docs/dev/proxmox-behaviour.md#console).
        password=vnc.password or vnc.ticket,
        instance_name=instance.name,
    )
