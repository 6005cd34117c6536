"""``vmcl network``: private networks, their subnets and the servers attached to them.

Creating, deleting, adding a subnet, attaching and detaching answer with an
Action; ``--wait`` follows it with a progress bar (``/api/v1/actions/{id}/``).
"""

from typing import Annotated

import typer

from ..common import (
    UUID,
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
    as_action,
    client,
    emit,
    label_change,
    labels_dict,
    list_items,
    resolve_id,
    usage_error,
    wait_for,
)
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Private networks.", no_args_is_help=True)
COLUMNS = ["id", "name", "ip_range", "datacentre", "status", "subnets", "servers", "labels"]
ACTION_COLUMNS = ["id", "type", "status", "progress", "created_at", "error"]
Network = Annotated[str, typer.Argument(help="Network id or name.")]
ServerOption = Annotated[str, typer.Option("--server", help="Server id or name (same project and datacentre).")]


def _id(reference: str) -> str:
    return resolve_id("networks_list", reference, kind="network")


def _server(reference: str) -> str:
    return resolve_id("instances_list", reference, kind="server")


def _row(network: dict[str, object]) -> dict[str, object]:
    """A list row: subnets as their CIDRs, servers as ``name=address``."""
    row = dict(network)
    row["subnets"] = [s["cidr"] for s in network.get("subnets") or []]  # type: ignore[attr-defined,index]
    row["servers"] = [f"{s['server_name']}={s['address']}" for s in network.get("servers") or []]  # type: ignore[attr-defined,index]
    return row


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
    datacentre: Annotated[str | None, typer.Option(help="Datacentre code, e.g. PAR-1.")] = None,
    server: Annotated[str | None, typer.Option(help="Only networks this server (id) is attached to.")] = None,
) -> None:
    """List networks."""
    rows = list_items(
        "networks_list", label_selector=label_selector, sort=sort, filters=filter, datacentre=datacentre, server=server
    )
    if output == "table":
        rows = [_row(r) for r in rows]
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(network: Network, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """Show one network, its subnets and attached servers."""
    emit(client().networks_retrieve(_id(network)), output=output, columns=columns, no_header=no_header)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A name, unique in the project.")],
    ip_range: Annotated[str, typer.Option("--ip-range", help="Private IPv4 range, e.g. 10.0.0.0/16.")],
    datacentre: Annotated[str, typer.Option(help="Datacentre code, e.g. PAR-1.")],
    subnet: Annotated[
        list[str] | None,
        typer.Option("--subnet", help="Subnet CIDR inside the range (repeatable; default: the range)."),
    ] = None,
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Create a network and show it; with --wait, once it is available."""
    api = client()
    body: dict[str, object] = {
        "organisation_id": organisation_id(organisation),
        "name": name,
        "ip_range": ip_range,
        "datacentre": datacentre,
    }
    project = project if project is not None else State.project
    if project is not None:
        body["project_id"] = project
    if subnet:
        body["subnets"] = subnet
    if label:
        body["labels"] = labels_dict(label)
    created = api.networks_create(body=body)  # type: ignore[arg-type]
    network = dict(created["network"])
    if wait:
        wait_for(as_action(dict(created["action"])), timeout=timeout)
        network = dict(api.networks_retrieve(str(network["id"])))
    emit(network, output=output)


@app.command()
def update(
    network: Network,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    output: Output = "table",
) -> None:
    """Rename or relabel a network."""
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label is not None:
        body["labels"] = labels_dict(label)
    emit(client().networks_update(_id(network), body=body), output=output)  # type: ignore[arg-type]


@app.command("add-label")
def add_label(
    network: Network,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    api = client()
    emit(label_change(api.networks_retrieve, api.networks_update, _id(network), add=label), output=output)


@app.command("remove-label")
def remove_label(
    network: Network, key: Annotated[list[str], typer.Argument(help="Label keys to remove.")], output: Output = "table"
) -> None:
    """Remove labels by key."""
    api = client()
    emit(label_change(api.networks_retrieve, api.networks_update, _id(network), remove=key), output=output)


@app.command()
def delete(network: Network, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Delete a network (refused while servers are attached)."""
    action_result(client().networks_destroy(_id(network)), wait=wait, timeout=timeout, output=output)


@app.command()
def attach(
    network: Network,
    server: ServerOption,
    ip: Annotated[str | None, typer.Option(help="This private address (default: the next free one).")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Attach a server to a network (a running server needs a reboot to see it; `vmcl network describe`)."""
    body: dict[str, object] = {"server_id": _server(server)}
    if ip is not None:
        body["ip"] = ip
    action = client().networks_attach(_id(network), body=body)  # type: ignore[arg-type]
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command()
def detach(
    network: Network, server: ServerOption, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table"
) -> None:
    """Detach a server from a network (its address is freed)."""
    action = client().networks_detach(_id(network), body={"server_id": _server(server)})
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command()
def subnets(network: Network, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """A network's subnets."""
    rows = list_items("networks_subnets_list", _id(network))
    emit(rows, output=output, columns=columns, no_header=no_header, default=["id", "cidr", "capacity", "created_at"])


@app.command("add-subnet")
def add_subnet(
    network: Network,
    cidr: Annotated[str, typer.Argument(help="Subnet CIDR inside the network's range, e.g. 10.0.1.0/24.")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Add a subnet to a network."""
    action = client().networks_subnets_create(_id(network), body={"cidr": cidr})
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command("delete-subnet")
def delete_subnet(
    network: Network,
    subnet: Annotated[str, typer.Argument(help="Subnet id or CIDR (`vmcl network subnets`).")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Delete a subnet no server uses (409 subnet_in_use otherwise: detach the servers first)."""
    network_id = _id(network)
    subnet_id = subnet
    if not UUID.match(subnet):
        found = [s for s in list_items("networks_subnets_list", network_id) if s.get("cidr") == subnet]
        if not found:
            raise usage_error(f"the network has no subnet {subnet!r} (`vmcl network subnets` lists them)")
        subnet_id = str(found[0]["id"])
    action = client().networks_subnets_destroy(network_id, subnet_id)
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command()
def actions(network: Network, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """The network's actions, newest first."""
    rows = list_items("networks_actions_list", _id(network))
    emit(rows, output=output, columns=columns, no_header=no_header, default=ACTION_COLUMNS)
