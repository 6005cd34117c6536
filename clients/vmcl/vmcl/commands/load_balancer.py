"""``vmcl load-balancer``: load balancer services and their configuration.

A load balancer is a managed service, ordered with ``vmcl load-balancer create``
(or ``vmcl order create --offer LB-…``), listed with ``vmcl load-balancer list``,
cancelled with ``vmcl service cancel``, and named here by that service's id or
name; the other commands read and set its forwarding rules, targets, health
check, TLS certificate and settings (docs page ``/docs/cli/#load-balancers``). Each change answers the whole load
balancer; the platform applies it to the load balancer's VM.

Rules come from ``--rule PROTOCOL:PORT[:TARGET_PROTOCOL]:TARGET_PORT`` flags
(``https:443:http:8080``, ``tcp:5432:5432``) or ``--rules`` with JSON, YAML
or ``@file`` (a list, or ``{"rules": [...]}``). Targets come from
``--server ID_OR_NAME`` and ``--target-selector SELECTOR`` flags or
``--targets`` (JSON/YAML/``@file``).
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..common import (
    Columns,
    Filter,
    LabelSelector,
    NoHeader,
    Output,
    Sort,
    State,
    Timeout,
    client,
    emit,
    labels_dict,
    list_items,
    resolve_id,
    usage_error,
)

app = typer.Typer(
    rich_markup_mode=None, help="Load balancers (a load balancer service's configuration).", no_args_is_help=True
)
HEALTH_COLUMNS = ["id", "name", "address", "health"]
COLUMNS = ["id", "name", "tier", "state", "datacentre", "price_monthly", "labels"]
Service = Annotated[str, typer.Argument(help="The load balancer service's id or name.")]
Document = Annotated[
    str | None,
    typer.Option(help="JSON or YAML text, or @FILE: a list, or an object with the list under its own key."),
]


def _id(reference: str) -> str:
    return resolve_id("services_list", reference, kind="service")


def load_document(text: str, option: str) -> Any:
    """JSON or YAML from the option's text, or from a file when it starts with ``@``."""
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            raise usage_error(f"{option} {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise usage_error(f"{option}: neither JSON nor YAML ({exc})") from None


def _list_of_objects(data: Any, key: str, option: str) -> list[dict[str, Any]]:
    if isinstance(data, dict) and key in data:
        data = data[key]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise usage_error(f"{option}: expected a list of objects (or {{{key!r}: [...]}})")
    return data


def parse_rule(text: str) -> dict[str, Any]:
    """``https:443:http:8080`` or ``tcp:5432:5432`` (the target protocol defaults to the protocol)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) == 3:
        parts = [parts[0], parts[1], parts[0], parts[2]]
    if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit() or not parts[0] or not parts[2]:
        raise usage_error(
            f"--rule {text!r}: expected PROTOCOL:PORT[:TARGET_PROTOCOL]:TARGET_PORT, e.g. https:443:http:8080"
        )
    return {"protocol": parts[0], "port": int(parts[1]), "target_protocol": parts[2], "target_port": int(parts[3])}


def _pem(path: Path | None, option: str) -> str:
    if path is None:
        return ""
    try:
        return path.read_text()
    except OSError as exc:
        raise usage_error(f"{option} {path}: {exc.strerror}") from None


def _targets(server: list[str] | None, target_selector: list[str] | None) -> list[dict[str, Any]]:
    body = [{"kind": "server", "id": resolve_id("instances_list", s, kind="server")} for s in server or []]
    return body + [{"kind": "label_selector", "label_selector": s} for s in target_selector or []]


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
    state: Annotated[
        list[str] | None,
        typer.Option(help="provisioning, active, changing, suspended, cancelled or terminated (repeatable)."),
    ] = None,
    project: Annotated[int | None, typer.Option(help="Only this project's load balancers.")] = None,
) -> None:
    """List load balancer services, newest first (ended ones included)."""
    rows = list_items(
        "services_list",
        label_selector=label_selector,
        sort=sort,
        filters=filter,
        family=["load_balancer"],
        state=state,
        project=project,
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="The load balancer's name, unique among the project's services.")],
    offer: Annotated[str, typer.Option(help="Tier, e.g. LB-STARTER (`vmcl offer list --family load-balancer`).")],
    datacentre: Annotated[str, typer.Option(help="Datacentre code, e.g. PAR-1 (the one of its targets).")],
    rule: Annotated[
        list[str], typer.Option("--rule", help="PROTOCOL:PORT[:TARGET_PROTOCOL]:TARGET_PORT (repeatable, 1 or more).")
    ],
    server: Annotated[list[str] | None, typer.Option("--server", help="Server id or name (repeatable).")] = None,
    target_selector: Annotated[
        list[str] | None,
        typer.Option("--target-selector", help="Every server whose labels match, now and later (repeatable)."),
    ] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Wait until it is active and runs its configuration.")
    ] = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Order a load balancer with its forwarding rules and targets; print the service."""
    rules = [parse_rule(r) for r in rule]
    labels = labels_dict(label)
    api = client()
    order, service = api.create_load_balancer(
        name=name,
        offer=offer,
        datacentre=datacentre,
        rules=rules,
        targets=_targets(server, target_selector),
        project=project if project is not None else State.project,
    )
    if service is None:
        typer.echo(f"order {order['id']} is {order.get('state')}: the load balancer exists once approved", err=True)
        emit(dict(order), output=output, default=["id", "state", "offer", "datacentre"])
        return
    service_id = str(service["id"])
    if labels:
        service = api.services_update(service_id, body={"labels": labels})  # type: ignore[typeddict-item]
    if wait:
        api.wait_service(service_id, timeout=timeout)
        api.wait_load_balancer_applied(service_id, timeout=timeout)
        service = api.services_retrieve(service_id)
    emit(dict(service), output=output, default=COLUMNS)


@app.command()
def describe(service: Service, output: Output = "table") -> None:
    """Show a load balancer: rules, targets, health check, settings, certificate, applied generation."""
    emit(client().load_balancers_retrieve(_id(service)), output=output)


@app.command("set-rules")
def set_rules(
    service: Service,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="PROTOCOL:PORT[:TARGET_PROTOCOL]:TARGET_PORT (repeatable).")
    ] = None,
    rules: Document = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every rule.")] = False,
    output: Output = "table",
) -> None:
    """Replace the forwarding rules (HTTPS rules that terminate TLS wait for a certificate)."""
    if sum(bool(x) for x in (rule, rules is not None, clear)) != 1:
        raise usage_error("give --rule, --rules or --clear (one of them)")
    if rules is not None:
        body = _list_of_objects(load_document(rules, "--rules"), "rules", "--rules")
    else:
        body = [parse_rule(r) for r in rule or []]
    emit(client().load_balancers_rules_set(_id(service), body={"rules": body}), output=output)


@app.command("set-targets")
def set_targets(
    service: Service,
    server: Annotated[list[str] | None, typer.Option("--server", help="Server id or name (repeatable).")] = None,
    target_selector: Annotated[
        list[str] | None,
        typer.Option("--target-selector", help="Every server whose labels match, now and later (repeatable)."),
    ] = None,
    targets: Document = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every target.")] = False,
    output: Output = "table",
) -> None:
    """Replace the targets: servers, or label selectors whose servers join and leave the pool."""
    flags = bool(server or target_selector)
    if sum((flags, targets is not None, clear)) != 1:
        raise usage_error("give --server/--target-selector, --targets or --clear (one of them)")
    body: list[dict[str, Any]] = []
    if targets is not None:
        body = _list_of_objects(load_document(targets, "--targets"), "targets", "--targets")
    else:
        body = _targets(server, target_selector)
    emit(client().load_balancers_targets_set(_id(service), body={"targets": body}), output=output)


@app.command("set-health-check")
def set_health_check(
    service: Service,
    protocol: Annotated[str | None, typer.Option(help="tcp, http or https.")] = None,
    port: Annotated[int | None, typer.Option(help="Port checked (default: the rule's target port).")] = None,
    target_port: Annotated[
        bool, typer.Option("--target-port", help="Check each rule's target port again (port null).")
    ] = False,
    path: Annotated[str | None, typer.Option(help="Path of an HTTP check, e.g. /healthz.")] = None,
    host: Annotated[str | None, typer.Option(help="Host header of an HTTP check.")] = None,
    interval: Annotated[int | None, typer.Option(help="Seconds between checks.")] = None,
    timeout: Annotated[int | None, typer.Option(help="Seconds a check may take.")] = None,
    rise: Annotated[int | None, typer.Option(help="Successes before a target is up.")] = None,
    fall: Annotated[int | None, typer.Option(help="Failures before a target is down.")] = None,
    output: Output = "table",
) -> None:
    """Change the health check; options left out keep their value."""
    if port is not None and target_port:
        raise usage_error("give --port or --target-port, not both")
    body: dict[str, Any] = {}
    for key, value in (
        ("protocol", protocol),
        ("port", port),
        ("path", path),
        ("host", host),
        ("interval_seconds", interval),
        ("timeout_seconds", timeout),
        ("rise", rise),
        ("fall", fall),
    ):
        if value is not None:
            body[key] = value
    if target_port:
        body["port"] = None
    if not body:
        raise usage_error("nothing to change: give at least one option (see --help)")
    emit(client().load_balancers_health_check_set(_id(service), body=body), output=output)  # type: ignore[arg-type]


@app.command("upload-certificate")
def upload_certificate(
    service: Service,
    certificate: Annotated[
        Path, typer.Option(help="PEM file of the certificate.", exists=True, dir_okay=False, readable=True)
    ],
    private_key: Annotated[
        Path, typer.Option(help="PEM file of its private key (not encrypted).", exists=True, dir_okay=False)
    ],
    chain: Annotated[
        Path | None, typer.Option(help="PEM file of the intermediate certificates.", exists=True, dir_okay=False)
    ] = None,
    output: Output = "table",
) -> None:
    """Upload the TLS certificate, its chain and key (the key is never shown again)."""
    body = {
        "certificate": _pem(certificate, "--certificate"),
        "chain": _pem(chain, "--chain"),
        "private_key": _pem(private_key, "--private-key"),
    }
    emit(client().load_balancers_certificate_upload(_id(service), body=body), output=output)  # type: ignore[arg-type]


@app.command("update-settings")
def update_settings(
    service: Service,
    sticky_cookie: Annotated[
        str | None, typer.Option("--sticky-cookie", help="Sticky sessions with this cookie name.")
    ] = None,
    sticky_ttl: Annotated[int | None, typer.Option("--sticky-ttl", help="Seconds a sticky session lasts.")] = None,
    no_sticky: Annotated[bool, typer.Option("--no-sticky", help="Sticky sessions off.")] = False,
    redirect_http_to_https: Annotated[
        bool | None, typer.Option("--redirect-http-to-https/--no-redirect-http-to-https")
    ] = None,
    proxy_protocol: Annotated[
        bool | None,
        typer.Option("--proxy-protocol/--no-proxy-protocol", help="Send the PROXY header to the targets."),
    ] = None,
    tls_mode: Annotated[str | None, typer.Option(help="terminate or passthrough.")] = None,
    output: Output = "table",
) -> None:
    """Change sticky sessions, the HTTP→HTTPS redirect, the PROXY protocol or the TLS mode."""
    sticky = sticky_cookie is not None or sticky_ttl is not None
    if sticky and no_sticky:
        raise usage_error("--no-sticky takes no --sticky-cookie or --sticky-ttl")
    if tls_mode is not None and tls_mode not in ("terminate", "passthrough"):
        raise usage_error(f"--tls-mode must be terminate or passthrough, not {tls_mode!r}")
    body: dict[str, Any] = {}
    if sticky:
        body["sticky_sessions"] = {
            k: v for k, v in (("cookie_name", sticky_cookie), ("ttl_seconds", sticky_ttl)) if v is not None
        }
    if no_sticky:
        body["sticky_sessions"] = None
    if redirect_http_to_https is not None:
        body["redirect_http_to_https"] = redirect_http_to_https
    if proxy_protocol is not None:
        body["proxy_protocol"] = proxy_protocol
    if tls_mode is not None:
        body["tls_mode"] = tls_mode
    if not body:
        raise usage_error("nothing to change: give at least one option (see --help)")
    emit(client().load_balancers_settings_update(_id(service), body=body), output=output)  # type: ignore[arg-type]


@app.command("read-health")
def read_health(service: Service, output: Output = "table") -> None:
    """Ask HAProxy now for each target's health (up, down, maint, or unknown when it cannot be read)."""
    balancer = client().load_balancers_read_health(_id(service))
    if output == "table":
        emit(list(balancer.get("applied_targets") or []), output=output, default=HEALTH_COLUMNS)
    else:
        emit(balancer, output=output)
