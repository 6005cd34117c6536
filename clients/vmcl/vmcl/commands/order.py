"""``vmcl order``: place, list, describe, cancel.

``vmcl order create`` places any order: a server (``--image``, ``--ssh-key``,
``--user-data-from-file``; ``vmcl server create`` does the same and waits for
it) or a managed service, whose family's fields go in the order's ``service``
object: ``--service-json`` (JSON text, or ``@file`` with JSON or YAML) and/or
``--service KEY=VALUE`` (VALUE is text; a JSON list, object, true, false or
null is sent as such).
See the docs page ``/docs/cli/#managed-services``.
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..common import (
    Columns,
    Filter,
    NoHeader,
    Output,
    Sort,
    State,
    Timeout,
    Wait,
    client,
    emit,
    list_items,
    parse_pairs,
    resolve_id,
    usage_error,
    wait_for,
)

app = typer.Typer(
    rich_markup_mode=None, help="Orders: place (servers and managed services), follow, cancel.", no_args_is_help=True
)
COLUMNS = ["id", "name", "state", "offer", "datacentre", "price_monthly", "instance", "service", "created_at"]


def service_object(service_json: str | None, service: list[str] | None) -> dict[str, Any] | None:
    """The order's ``service`` object from ``--service-json`` (text or @file) and ``--service KEY=VALUE``."""
    result: dict[str, Any] = {}
    if service_json is not None:
        text = service_json
        if text.startswith("@"):
            path = Path(text[1:])
            if not path.is_file():
                raise usage_error(f"--service-json: no file {str(path)!r}")
            text = path.read_text()
        try:
            loaded = json.loads(text)
        except ValueError:
            import yaml

            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise usage_error(f"--service-json is neither JSON nor YAML: {exc}".splitlines()[0]) from None
        if not isinstance(loaded, dict):
            raise usage_error('--service-json must be an object, e.g. \'{"domain": "example.com"}\'')
        result.update(loaded)
    for key, value in parse_pairs(service, "--service").items():
        # Text stays text (``version=8.3`` is the string the API wants; numbers are read from text too);
        # a list, an object or true/false/null is JSON.
        if value[:1] in ("[", "{") or value in ("true", "false", "null"):
            try:
                result[key] = json.loads(value)
            except ValueError:
                raise usage_error(f"--service {key}: {value!r} is not valid JSON") from None
        else:
            result[key] = value
    return result if (service_json is not None or service) else None


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Hostname of a server, or the service's name.")],
    offer: Annotated[str, typer.Option(help="Offer code, e.g. VPS-NANO or WEB-START (`vmcl offer list`).")],
    datacentre: Annotated[str, typer.Option(help="Datacentre code, e.g. PAR-1.")],
    service_json: Annotated[
        str | None,
        typer.Option(
            "--service-json", help="A managed service's fields: JSON text, or @FILE (JSON or YAML).", metavar="JSON"
        ),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service", help="One field of the service object, KEY=VALUE (repeatable; [..], {..}, true, false: JSON)."
        ),
    ] = None,
    image: Annotated[str | None, typer.Option(help="Image slug (servers only).")] = None,
    ssh_key: Annotated[list[str] | None, typer.Option("--ssh-key", help="SSH key id or name (servers only).")] = None,
    user_data_from_file: Annotated[
        Path | None, typer.Option("--user-data-from-file", help="cloud-init user-data (servers only).", exists=True)
    ] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Retry-safe key (default: a new UUID).")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Place an order: a server, or a managed service with its --service-json / --service fields."""
    api = client()
    body: dict[str, Any] = {"name": name, "offer": offer, "datacentre": datacentre}
    chosen = project if project is not None else State.project
    body["project"] = chosen if chosen is not None else api.default_project()["id"]
    fields = service_object(service_json, service)
    if fields is not None:
        body["service"] = fields
    if image is not None:
        body["image"] = image
    if ssh_key:
        body["ssh_keys"] = [resolve_id("ssh_keys_list", k, kind="SSH key") for k in ssh_key]
    if user_data_from_file is not None:
        body["user_data"] = user_data_from_file.read_text()
    order = dict(api.orders_create(body=body, idempotency_key=idempotency_key))  # type: ignore[arg-type]
    action = order.get("action")
    if wait and isinstance(action, dict):
        wait_for(api.action(dict(action)), timeout=timeout)
        order = dict(api.orders_retrieve(str(order["id"])))
    elif wait and order.get("service"):
        typer.echo(
            f"service {order['service']} is queued for our staff: follow it with `vmcl service describe`", err=True
        )
    emit(order, output=output)


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    sort: Sort = None,
    filter: Filter = None,
    state: Annotated[list[str] | None, typer.Option(help="Order state (repeatable).")] = None,
) -> None:
    """List orders."""
    rows = list_items("orders_list", sort=sort, filters=filter, state=state)
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(order: str, output: Output = "table") -> None:
    """Show one order."""
    emit(client().orders_retrieve(order), output=output)


@app.command()
def cancel(
    order: str,
    reason: Annotated[str, typer.Option(help="Why (kept with the order).")] = "",
    output: Output = "table",
) -> None:
    """Cancel an order that has not been delivered yet (a queued service's order too)."""
    emit(client().orders_cancel(order, body={"reason": reason}), output=output)
