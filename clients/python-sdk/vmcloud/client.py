"""``vmcloud.Client``: the transport under the generated operations.

Every operation of ``/api/v1/`` is a typed method generated from the OpenAPI
schema (``vmcloud/_generated/operations.py``); this module sends them:

- authentication by personal access token (``Authorization: Bearer``; docs
  page ``/docs/api-tokens/``);
- the error body mapped to exceptions (``vmcloud.errors``);
- retries: a ``429`` is retried after its ``Retry-After`` for every call (the
  platform refused it before doing anything), a connection failure is retried
  with backoff for idempotent calls (GET, PUT, DELETE, and POSTs that honour
  ``Idempotency-Key``), and a connection that could not even be opened is
  retried for every call since nothing was sent;
- an ``Idempotency-Key`` (a fresh UUID unless you pass one) on every POST, so
  that a retried create never creates twice where the API honours the key;
- pagination: ``<operation>_iter`` methods walk every page lazily.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests

from . import __version__
from ._generated.operations import OPERATIONS, Operation, Operations
from .actions import Action
from .errors import APIConnectionError, APIError, ConfigurationError, error_class

if TYPE_CHECKING:
    from pathlib import Path

    from ._generated.models import AlertPolicyCreateOutput, LoadBalancerOutput, OrderOutput, ServiceOutput

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (RFC 9110 §10.2.3: seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _wire(value: Any) -> Any:
    """A query value as the API reads it: booleans as true/false, lists as repeated keys."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


class Client(Operations):
    """A VMCloud API client.

    ``url`` is the platform's address (``https://api.vmcloud.example``) and
    ``token`` a personal access token; both default to the ``VMCLOUD_URL``
    and ``VMCLOUD_TOKEN`` environment variables.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 120.0,
        page_size: int = 200,
        verify: bool | str = True,
        user_agent: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        url = url or os.environ.get("VMCLOUD_URL", "")
        if not url:
            raise ConfigurationError("no API URL: pass url= or set VMCLOUD_URL")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"invalid API URL {url!r}: expected http(s)://host[:port]")
        self.url = url.rstrip("/") + "/"
        self.token = token if token is not None else os.environ.get("VMCLOUD_TOKEN", "")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.page_size = page_size
        self.session = session or requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = user_agent or f"vmcloud-python/{__version__}"
        self.session.headers["Accept"] = "application/json"
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.last_response: requests.Response | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    # The three hooks of the generated ``Operations``.

    def _request(
        self, operation: str, path: str, *, query: dict[str, Any], body: Any, headers: dict[str, str | None]
    ) -> Any:
        op = OPERATIONS[operation]
        response = self._send(op, path, query=query, body=body, headers=headers)
        if op.response == "bytes":
            return response.content
        if op.response == "none" or not response.content:
            return None
        return response.json()

    def _paginate(self, operation: str, path: str, *, query: dict[str, Any]) -> Iterator[Any]:
        op = OPERATIONS[operation]
        page = 1
        while True:
            params = dict(query)
            if "page" in op.query:
                params["page"] = page
            if "per_page" in op.query:
                params["per_page"] = self.page_size
            data = self._send(op, path, query=params, body=None, headers={}).json()
            yield from data.get("results", [])
            if not data.get("next") or "page" not in op.query:
                return
            page += 1

    def _action(self, data: Any) -> Action:
        return Action(self, data)

    # Helpers.

    def action(self, value: Any) -> Action:
        """An ``Action`` from an Action id, an Action object, or a response that carries one under ``action``."""
        if isinstance(value, Action):
            return value
        if isinstance(value, str):
            return self.actions_retrieve(value)
        if isinstance(value, dict) and isinstance(value.get("action"), dict):
            return Action(self, value["action"])
        if isinstance(value, dict) and "id" in value and "status" in value:
            return Action(self, value)
        raise ValueError("no Action in this value")

    def default_project(self, organisation: int | None = None) -> dict[str, Any]:
        """The default project of ``organisation`` (or of your first organisation)."""
        if organisation is None:
            organisations = list(self.organisations_list_iter())
            if not organisations:
                raise ConfigurationError("this token sees no organisation")
            organisation = int(organisations[0]["id"])
        projects = list(self.projects_list_iter(organisation))
        for project in projects:
            if project.get("is_default"):
                return dict(project)
        if projects:
            return dict(projects[0])
        raise ConfigurationError(f"organisation {organisation} has no project")

    def create_server(
        self,
        *,
        name: str,
        offer: str,
        datacentre: str,
        image: str | None = None,
        project: int | None = None,
        ssh_keys: list[str] | None = None,
        user_data: str | None = None,
        gpu_stack: str | None = None,
        labels: dict[str, str] | None = None,
        network_ids: list[str] | None = None,
        firewall_ids: list[str] | None = None,
        volumes: list[dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[dict[str, Any], Action | None]:
        """Order a server; return the order and the Action that builds it (None while it awaits approval).

        ``labels`` are set when the server is created; ``network_ids``, ``firewall_ids`` and ``volumes``
        (``[{"size_gb": 50, "tier": "ssd"}]``, at most 3) are applied once it runs: follow the order's
        ``options_status`` (apps/docs/content/ordering.md, "Options").
        """
        body: dict[str, Any] = {"name": name, "offer": offer, "datacentre": datacentre}
        body["project"] = project if project is not None else self.default_project()["id"]
        for key, value in (
            ("image", image),
            ("ssh_keys", ssh_keys),
            ("user_data", user_data),
            ("labels", labels),
            ("network_ids", network_ids),
            ("firewall_ids", firewall_ids),
            ("volumes", volumes),
        ):
            if value is not None:
                body[key] = value
        if gpu_stack is not None:
            body["gpu_stack"] = gpu_stack
        order = self.orders_create(body=body, idempotency_key=idempotency_key)  # type: ignore[arg-type]
        action = order.get("action")
        return dict(order), (Action(self, dict(action)) if isinstance(action, dict) else None)

    # Volumes, networks, firewalls and floating IPs (issue 13): every long operation answers an
    # Action served by ``/api/v1/actions/{id}/``, so ``Action.wait()`` follows all of them.

    def organisation_id(self, organisation: int | None = None) -> int:
        """``organisation``, else the id of your first organisation."""
        if organisation is not None:
            return int(organisation)
        organisations = list(self.organisations_list_iter())
        if not organisations:
            raise ConfigurationError("this token sees no organisation")
        return int(organisations[0]["id"])

    def create_volume(
        self,
        *,
        name: str,
        tier: str,
        size_gb: int,
        datacentre: str,
        organisation: int | None = None,
        project: int | None = None,
        server: str | None = None,
        labels: dict[str, str] | None = None,
        delete_protection: bool = False,
    ) -> tuple[dict[str, Any], Action]:
        """Create a volume (attached to ``server`` at once when given); return it and its ``create`` Action."""
        body: dict[str, Any] = {
            "organisation_id": self.organisation_id(organisation),
            "name": name,
            "tier": tier,
            "size_gb": size_gb,
            "datacentre": datacentre,
            "delete_protection": delete_protection,
        }
        _put(body, project_id=project, server_id=server, labels=labels)
        created = self.volumes_create(body=body)  # type: ignore[arg-type]
        return dict(created["volume"]), self.action(dict(created["action"]))

    def create_network(
        self,
        *,
        name: str,
        ip_range: str,
        datacentre: str,
        subnets: list[str] | None = None,
        organisation: int | None = None,
        project: int | None = None,
        labels: dict[str, str] | None = None,
    ) -> tuple[dict[str, Any], Action]:
        """Create a private network; return it and its ``create`` Action."""
        body: dict[str, Any] = {
            "organisation_id": self.organisation_id(organisation),
            "name": name,
            "ip_range": ip_range,
            "datacentre": datacentre,
        }
        _put(body, project_id=project, subnets=subnets, labels=labels)
        created = self.networks_create(body=body)  # type: ignore[arg-type]
        return dict(created["network"]), self.action(dict(created["action"]))

    def create_firewall(
        self,
        *,
        name: str,
        rules: list[dict[str, Any]] | None = None,
        apply_to: list[dict[str, Any]] | None = None,
        organisation: int | None = None,
        project: int | None = None,
        labels: dict[str, str] | None = None,
    ) -> tuple[dict[str, Any], list[Action]]:
        """Create a firewall; return it and the Actions applying it (one per server it reaches)."""
        body: dict[str, Any] = {"organisation_id": self.organisation_id(organisation), "name": name}
        _put(body, project_id=project, rules=rules, apply_to=apply_to, labels=labels)
        created = self.firewalls_create(body=body)  # type: ignore[arg-type]
        return dict(created["firewall"]), [Action(self, dict(a)) for a in created.get("actions") or []]

    def create_floating_ip(
        self,
        *,
        name: str,
        datacentre: str | None = None,
        server: str | None = None,
        organisation: int | None = None,
        project: int | None = None,
        labels: dict[str, str] | None = None,
        delete_protection: bool = False,
    ) -> tuple[dict[str, Any], Action | None]:
        """Reserve a floating IP (in ``server``'s datacentre when given, and assigned to it).

        Returns it and the ``assign`` Action (``None`` when no server was given).
        """
        body: dict[str, Any] = {
            "organisation_id": self.organisation_id(organisation),
            "name": name,
            "delete_protection": delete_protection,
        }
        _put(body, project_id=project, datacentre=datacentre, server_id=server, labels=labels)
        created = self.floating_ips_create(body=body)  # type: ignore[arg-type]
        action = created.get("action")
        return dict(created["floating_ip"]), (Action(self, dict(action)) if isinstance(action, dict) else None)

    # Managed services (web hosting, PaaS, load balancer, CDN): ordered like a server with
    # ``POST /api/v1/orders/`` and a ``service`` object (docs page ``/docs/sdk/#managed-services``),
    # then read, changed and cancelled under ``/api/v1/services/``.

    def create_service(
        self,
        *,
        name: str,
        offer: str,
        datacentre: str,
        service: dict[str, Any] | None = None,
        project: int | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[OrderOutput, ServiceOutput | None]:
        """Order a managed service; return the order and the service it created.

        ``service`` holds the family's fields (a ``domain``, a ``source``, an ``origin``,
        forwarding ``rules``…). The service is ``None`` while the order awaits staff approval;
        otherwise it is ``provisioning`` until our staff (or its backend) deliver it.
        """
        body: dict[str, Any] = {"name": name, "offer": offer, "datacentre": datacentre}
        body["project"] = project if project is not None else self.default_project()["id"]
        if service is not None:
            body["service"] = service
        order = self.orders_create(body=body, idempotency_key=idempotency_key)  # type: ignore[arg-type]
        service_id = order.get("service")
        return order, (self.services_retrieve(str(service_id)) if service_id else None)

    def cancel_service(self, service_id: str, *, reason: str = "", confirm: str | None = None) -> ServiceOutput:
        """Cancel a managed service for good (billing stops now); return it, ``cancelled``.

        The API wants the service's name typed again: ``confirm`` defaults to the name it has now.
        """
        if confirm is None:
            confirm = self.services_retrieve(service_id)["name"]
        return self.services_destroy(service_id, confirm=confirm, reason=reason or None)

    def wait_service(
        self,
        service_id: str,
        *,
        states: tuple[str, ...] = ("active",),
        timeout: float = 900.0,
        interval: float = 2.0,
    ) -> ServiceOutput:
        """Poll a service until its state is one of ``states`` (a managed service has no Action).

        Raises ``ActionTimeout`` after ``timeout`` seconds, and ``ActionFailed`` when the
        service ended (``cancelled``, ``terminated``) while another state was awaited.
        """
        from .errors import ActionFailed, ActionTimeout

        deadline = time.monotonic() + timeout
        while True:
            current = self.services_retrieve(service_id)
            if current["state"] in states:
                return current
            # The errors of ``Action.wait()``, given the service in an Action's shape.
            seen = {"id": service_id, "type": "service", "status": current["state"]}
            if current["state"] in ("cancelled", "terminated"):
                reason = current.get("state_reason") or f"the service is {current['state']}"
                raise ActionFailed({**seen, "error": {"code": f"service_{current['state']}", "message": reason}})
            if time.monotonic() >= deadline:
                raise ActionTimeout(seen, timeout)
            time.sleep(interval)

    # Load balancers: a load balancer service's configuration under
    # ``/api/v1/services/{id}/load-balancer/`` (docs page ``/docs/sdk/#load-balancers``). Every change
    # answers the whole load balancer at once; the platform applies it to the load balancer's VM
    # afterwards, and ``applied_generation`` catches up with ``config_generation``.

    def upload_load_balancer_certificate(
        self, service_id: str, *, certificate: str | Path, private_key: str | Path, chain: str | Path = ""
    ) -> LoadBalancerOutput:
        """Upload a TLS certificate, its key and chain: PEM text, or a ``pathlib.Path`` to read it from."""
        return self.load_balancers_certificate_upload(
            service_id,
            body={"certificate": _pem(certificate), "private_key": _pem(private_key), "chain": _pem(chain)},
        )

    def wait_load_balancer_applied(
        self, service_id: str, *, timeout: float = 300.0, interval: float = 2.0
    ) -> LoadBalancerOutput:
        """Poll a load balancer until its VM runs its latest configuration (a change has no Action).

        Raises ``ActionFailed`` when the platform reports the apply failed (``apply_status``), and
        ``ActionTimeout`` after ``timeout`` seconds.
        """
        from .errors import ActionFailed, ActionTimeout

        deadline = time.monotonic() + timeout
        while True:
            current = self.load_balancers_retrieve(service_id)
            if current["applied_generation"] >= current["config_generation"]:
                return current
            if current.get("apply_status") == "failed":
                code = current.get("apply_error_code") or "apply_failed"
                message = "the load balancer's VM refused the new configuration; it still runs the previous one"
                raise ActionFailed(
                    {
                        "id": service_id,
                        "type": "load_balancer_apply",
                        "status": "error",
                        "error": {"code": code, "message": message},
                    }
                )
            if time.monotonic() >= deadline:
                seen = {"id": service_id, "type": "load_balancer_apply", "status": "pending"}
                raise ActionTimeout(seen, timeout)
            time.sleep(interval)

    def create_load_balancer(
        self,
        *,
        name: str,
        offer: str,
        datacentre: str,
        rules: list[dict[str, Any]],
        targets: list[dict[str, Any]] | None = None,
        project: int | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[OrderOutput, ServiceOutput | None]:
        """Order a load balancer with its forwarding ``rules`` and ``targets`` (``create_service``'s answer).

        A rule is ``{protocol, port, target_protocol, target_port}``; a target ``{"kind": "server", "id": …}``
        or ``{"kind": "label_selector", "label_selector": "role=web"}`` (docs page ``/docs/load-balancers/``).
        """
        service: dict[str, Any] = {"rules": rules}
        if targets:
            service["targets"] = targets
        return self.create_service(
            name=name,
            offer=offer,
            datacentre=datacentre,
            service=service,
            project=project,
            idempotency_key=idempotency_key,
        )

    def configure_load_balancer(
        self,
        service_id: str,
        *,
        rules: list[dict[str, Any]] | None = None,
        targets: list[dict[str, Any]] | None = None,
        health_check: dict[str, Any] | None = None,
        certificate: str | Path | None = None,
        private_key: str | Path | None = None,
        chain: str | Path = "",
        settings: dict[str, Any] | None = None,
    ) -> LoadBalancerOutput:
        """Make only the changes given, in the order the API needs them, and return the load balancer.

        Rules, then targets, health check, certificate (it turns TLS termination on), and last the
        ``settings`` (``sticky_sessions`` (``None``: off), ``redirect_http_to_https``, ``proxy_protocol``,
        ``tls_mode``), so that an explicit ``tls_mode`` wins over what the rules or certificate imply.
        """
        current: LoadBalancerOutput | None = None
        if rules is not None:
            current = self.load_balancers_rules_set(service_id, body={"rules": rules})  # type: ignore[typeddict-item]
        if targets is not None:
            current = self.load_balancers_targets_set(service_id, body={"targets": targets})  # type: ignore[typeddict-item]
        if health_check is not None:
            current = self.load_balancers_health_check_set(service_id, body=health_check)  # type: ignore[arg-type]
        if certificate is not None:
            if private_key is None:
                raise ConfigurationError("a certificate needs its private_key")
            current = self.upload_load_balancer_certificate(
                service_id, certificate=certificate, private_key=private_key, chain=chain
            )
        if settings:
            current = self.load_balancers_settings_update(service_id, body=settings)  # type: ignore[arg-type]
        return current if current is not None else self.load_balancers_retrieve(service_id)

    # Alert policies (docs page ``/docs/sdk/#alert-policies``).

    def create_alert_policy(
        self,
        *,
        name: str,
        metric: str,
        threshold: str | float,
        comparison: str = "gt",
        server: str | None = None,
        label_selector: str | None = None,
        duration_minutes: int = 5,
        organisation: int | None = None,
        project: int | None = None,
        emails: list[str] | None = None,
        webhook_url: str | None = None,
        labels: dict[str, str] | None = None,
        enabled: bool = True,
    ) -> AlertPolicyCreateOutput:
        """Create an alert policy on one ``server`` or a ``label_selector`` (exactly one).

        The answer holds ``webhook_secret`` (with a ``webhook_url``): the only time it is shown,
        apart from ``alert_policies_rotate_secret``.
        """
        if (server is None) == (label_selector is None):
            raise ValueError("give server or label_selector (exactly one)")
        body: dict[str, Any] = {
            "organisation_id": self.organisation_id(organisation),
            "name": name,
            "metric": metric,
            "comparison": comparison,
            "threshold": str(threshold),
            "duration_minutes": duration_minutes,
            "enabled": enabled,
        }
        _put(
            body,
            project_id=project,
            server_id=server,
            label_selector=label_selector,
            emails=emails,
            webhook_url=webhook_url,
            labels=labels,
        )
        return self.alert_policies_create(body=body)  # type: ignore[arg-type]

    # The transport.

    def _send(
        self, op: Operation, path: str, *, query: dict[str, Any], body: Any, headers: dict[str, str | None]
    ) -> requests.Response:
        url = path if path.startswith(("http://", "https://")) else urljoin(self.url, path.lstrip("/"))
        params = {key: _wire(value) for key, value in query.items() if value is not None}
        sent_headers = {key: value for key, value in headers.items() if value is not None}
        if op.method == "POST" and not any(key.lower() == "idempotency-key" for key in sent_headers):
            sent_headers["Idempotency-Key"] = str(uuid.uuid4())
        retry_safe = op.method in IDEMPOTENT_METHODS or op.idempotency_key
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    op.method, url, params=params, json=body, headers=sent_headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                if attempt < self.max_retries and (retry_safe or _not_sent(exc)):
                    attempt += 1
                    time.sleep(self._backoff(attempt))
                    continue
                raise APIConnectionError(f"cannot reach {self.url}: {_reason(exc)}") from None
            self.last_response = response
            if response.status_code < 400:
                return response
            wait = _retry_after(response.headers.get("Retry-After"))
            retryable = response.status_code == 429 or (response.status_code in (502, 503, 504) and retry_safe)
            if retryable and attempt < self.max_retries:
                delay = wait if wait is not None else self._backoff(attempt + 1)
                if delay <= self.max_retry_after:
                    attempt += 1
                    time.sleep(delay)
                    continue
            raise _error(response, wait)

    def _backoff(self, attempt: int) -> float:
        # Exponential backoff with full jitter, capped at 8 s.
        return float(random.uniform(0, min(8.0, self.backoff * 2 ** (attempt - 1))))  # noqa: S311


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never opened, so the request cannot have reached the platform."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")


def _reason(exc: requests.RequestException) -> str:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    text = str(reason or exc)
    # urllib3 prefixes its reasons with the connection's repr: keep the readable tail.
    return text.split("): ", 1)[-1] if text.startswith(("<", "HTTP")) else text


def _error(response: requests.Response, retry_after: float | None) -> APIError:
    status = response.status_code
    request_id = response.headers.get("X-Request-ID", "")
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    cls = error_class(status)
    if isinstance(error, dict):
        return cls(
            status,
            str(error.get("code") or f"http_{status}"),
            str(error.get("message") or response.reason),
            error.get("fields") or {},
            str(error.get("request_id") or request_id),
            retry_after=retry_after,
        )
    return cls(status, f"http_{status}", f"HTTP {status} {response.reason}", {}, request_id, retry_after=retry_after)


def _put(body: dict[str, Any], **values: Any) -> None:
    """Add the optional values that were given (``None`` leaves the API's default)."""
    body.update({key: value for key, value in values.items() if value is not None})


def _pem(value: str | Path) -> str:
    """PEM text as given, or read from a path."""
    if isinstance(value, str):
        return value
    return value.read_text()


def certificate_fingerprint(pem: str | None) -> str | None:
    """The SHA-256 fingerprint (lowercase hex of the DER) of the first certificate in ``pem``, as the API shows it.

    ``None`` when ``pem`` holds no certificate block (RFC 7468 textual encoding).
    """
    import base64
    import binascii
    import hashlib
    import re

    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem or "", re.S)
    if match is None:
        return None
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except binascii.Error:
        return None
    return hashlib.sha256(der).hexdigest()
