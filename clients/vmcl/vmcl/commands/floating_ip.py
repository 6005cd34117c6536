"""``vmcl floating-ip``: floating IPs, reserved in a datacentre and assigned to one server at a time.

Assigning (or moving), unassigning and releasing answer with an Action;
``--wait`` follows it with a progress bar (``/api/v1/actions/{id}/``).
A floating IP is named by its id, its name or its address.
"""

import ipaddress
from typing import Annotated

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
    Wait,
    action_result,
    client,
    emit,
    label_change,
    labels_dict,
    list_items,
    resolve_id,
    wait_for,
)
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Floating IPs.", no_args_is_help=True)
COLUMNS = ["id", "name", "address", "datacentre", "status", "server_id", "labels"]
ACTION_COLUMNS = ["id", "type", "status", "progress", "created_at", "error"]
FloatingIp = Annotated[str, typer.Argument(help="Floating IP id, name or address.")]


def _id(reference: str) -> str:
    try:
        ipaddress.ip_address(reference)
    except ValueError:
        return resolve_id("floating_ips_list", reference, kind="floating IP")
    return resolve_id("floating_ips_list", reference, key="address", kind="floating IP")


def _server(reference: str) -> str:
    return resolve_id("instances_list", reference, kind="server")


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
    datacentre: Annotated[str | None, typer.Option(help="Datacentre code, e.g. PAR-1.")] = None,
    server: Annotated[str | None, typer.Option(help="Only the floating IPs of this server (id).")] = None,
) -> None:
    """List floating IPs."""
    rows = list_items(
        "floating_ips_list",
        label_selector=label_selector,
        sort=sort,
        filters=filter,
        datacentre=datacentre,
        server=server,
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(
    floating_ip: FloatingIp, output: Output = "table", columns: Columns = None, no_header: NoHeader = False
) -> None:
    """Show one floating IP."""
    emit(client().floating_ips_retrieve(_id(floating_ip)), output=output, columns=columns, no_header=no_header)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A name, unique in the project.")],
    datacentre: Annotated[str | None, typer.Option(help="Datacentre code, e.g. PAR-1 (default: the server's).")] = None,
    server: Annotated[str | None, typer.Option(help="Assign to this server (id or name) at once.")] = None,
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    protect: Annotated[bool, typer.Option("--protect", help="Turn delete protection on.")] = False,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Reserve a floating IP, optionally assigned to a server; with --wait, wait for the assignment."""
    api = client()
    body: dict[str, object] = {
        "organisation_id": organisation_id(organisation),
        "name": name,
        "delete_protection": protect,
    }
    project = project if project is not None else State.project
    if project is not None:
        body["project_id"] = project
    if datacentre is not None:
        body["datacentre"] = datacentre
    if server is not None:
        body["server_id"] = _server(server)
    if label:
        body["labels"] = labels_dict(label)
    created = api.floating_ips_create(body=body)  # type: ignore[arg-type]
    floating_ip = dict(created["floating_ip"])
    action = created.get("action")
    if wait and isinstance(action, dict):
        wait_for(api.action(dict(action)), timeout=timeout)
        floating_ip = dict(api.floating_ips_retrieve(str(floating_ip["id"])))
    emit(floating_ip, output=output)


@app.command()
def update(
    floating_ip: FloatingIp,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    protect: Annotated[bool | None, typer.Option("--protect/--no-protect", help="Delete protection.")] = None,
    output: Output = "table",
) -> None:
    """Rename, relabel or (un)protect a floating IP."""
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label is not None:
        body["labels"] = labels_dict(label)
    if protect is not None:
        body["delete_protection"] = protect
    emit(client().floating_ips_update(_id(floating_ip), body=body), output=output)  # type: ignore[arg-type]


@app.command("add-label")
def add_label(
    floating_ip: FloatingIp,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    api = client()
    emit(label_change(api.floating_ips_retrieve, api.floating_ips_update, _id(floating_ip), add=label), output=output)


@app.command("remove-label")
def remove_label(
    floating_ip: FloatingIp,
    key: Annotated[list[str], typer.Argument(help="Label keys to remove.")],
    output: Output = "table",
) -> None:
    """Remove labels by key."""
    api = client()
    emit(label_change(api.floating_ips_retrieve, api.floating_ips_update, _id(floating_ip), remove=key), output=output)


@app.command()
def assign(
    floating_ip: FloatingIp,
    server: Annotated[str, typer.Option(help="Server id or name (same project and datacentre).")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Assign a floating IP to a server, or move it from the server it is on."""
    action = client().floating_ips_assign(_id(floating_ip), body={"server_id": _server(server)})
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command()
def unassign(floating_ip: FloatingIp, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Unassign a floating IP from its server (it stays reserved)."""
    action_result(client().floating_ips_unassign(_id(floating_ip)), wait=wait, timeout=timeout, output=output)


@app.command()
def delete(floating_ip: FloatingIp, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Release a floating IP (unassigned first if needed; refused while protected)."""
    action_result(client().floating_ips_destroy(_id(floating_ip)), wait=wait, timeout=timeout, output=output)


@app.command()
def actions(
    floating_ip: FloatingIp, output: Output = "table", columns: Columns = None, no_header: NoHeader = False
) -> None:
    """The floating IP's actions, newest first."""
    rows = list_items("floating_ips_actions_list", _id(floating_ip))
    emit(rows, output=output, columns=columns, no_header=no_header, default=ACTION_COLUMNS)
