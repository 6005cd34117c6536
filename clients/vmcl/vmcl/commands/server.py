"""``vmcl server``: list, describe, create, delete, power, resize, rebuild, labels, protection, console, metrics."""

from pathlib import Path
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
    labels_dict,
    list_items,
    order_options,
    resolve_id,
    wait_for,
)

app = typer.Typer(
    rich_markup_mode=None, help="Servers: list, create, power, resize, rebuild, delete.", no_args_is_help=True
)

COLUMNS = ["id", "name", "status", "power_state", "ipv4", "offer", "datacentre", "image", "labels"]
Server = Annotated[str, typer.Argument(help="Server id or name.")]


def _id(reference: str) -> str:
    return resolve_id("instances_list", reference)


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
    status: Annotated[list[str] | None, typer.Option(help="provisioning, running, stopped, … (repeatable).")] = None,
    datacentre: Annotated[str | None, typer.Option(help="Datacentre code, e.g. PAR-1.")] = None,
    project: Annotated[int | None, typer.Option(help="Project id.")] = None,
) -> None:
    """List servers."""
    rows = list_items(
        "instances_list",
        label_selector=label_selector,
        sort=sort,
        filters=filter,
        status=status,
        datacentre=datacentre,
        project=project,
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(server: Server, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """Show one server."""
    emit(client().instances_retrieve(_id(server)), output=output, columns=columns, no_header=no_header)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Hostname (RFC 1123 label).")],
    offer: Annotated[str, typer.Option(help="Offer code, e.g. VPS-NANO (`vmcl offer list`).")],
    datacentre: Annotated[str, typer.Option(help="Datacentre code, e.g. PAR-1 (`vmcl datacentre list`).")],
    image: Annotated[str | None, typer.Option(help="Image slug, e.g. ubuntu-24.04 (`vmcl image list`).")] = None,
    ssh_key: Annotated[list[str] | None, typer.Option("--ssh-key", help="SSH key id or name (repeatable).")] = None,
    user_data_from_file: Annotated[
        Path | None, typer.Option("--user-data-from-file", help="cloud-init user-data file.", exists=True)
    ] = None,
    gpu_stack: Annotated[str | None, typer.Option(help="GPU software stack slug (GPU offers).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE label (repeatable).")] = None,
    network: Annotated[
        list[str] | None, typer.Option("--network", help="Private network id or name to attach (repeatable).")
    ] = None,
    firewall: Annotated[
        list[str] | None, typer.Option("--firewall", help="Firewall id or name to apply (repeatable).")
    ] = None,
    volume: Annotated[
        list[str] | None,
        typer.Option("--volume", help="A volume to create and attach: SIZE_GB:TIER, e.g. 50:STORAGE-NVME (up to 3)."),
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Retry-safe key (default: a new UUID).")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Order a server; with --wait, wait until it runs and show it (with its address).

    Labels are set when it is created; networks, firewalls and volumes once it runs.
    """
    api = client()
    keys = [resolve_id("ssh_keys_list", k, kind="SSH key") for k in ssh_key or []]
    options = order_options(network=network, firewall=firewall, volume=volume)
    order, action = api.create_server(
        name=name,
        offer=offer,
        datacentre=datacentre,
        image=image,
        project=project if project is not None else State.project,
        ssh_keys=keys or None,
        user_data=user_data_from_file.read_text() if user_data_from_file else None,
        gpu_stack=gpu_stack,
        labels=labels_dict(label) if label else None,
        idempotency_key=idempotency_key,
        **options,
    )
    if not wait or action is None:
        if wait and action is None:
            typer.echo(f"order {order['id']} is {order.get('state')}: nothing to wait for yet", err=True)
        emit(order, output=output)
        return
    wait_for(action, timeout=timeout)
    emit(api.instances_retrieve(order["instance"]), output=output)


@app.command()
def delete(server: Server, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Delete a server (refused while delete protection is on)."""
    action_result(client().instances_destroy(_id(server)), wait=wait, timeout=timeout, output=output)


def _power(verb: str, doc: str) -> None:
    def command(server: Server, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
        action = client().instances_power_action(_id(server), verb)  # type: ignore[arg-type]
        action_result(action, wait=wait, timeout=timeout, output=output)

    command.__doc__ = doc
    app.command(verb)(command)


_power("start", "Start a stopped server.")
_power("stop", "Stop a server at once (like pulling the plug).")
_power("shutdown", "Shut a server down through ACPI (hard stop after 2 minutes).")
_power("reboot", "Reboot a server through ACPI.")
_power("reset", "Reset a running server at once.")


@app.command()
def resize(
    server: Server,
    offer: Annotated[str, typer.Option(help="The new offer code.")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Move a server to another offer."""
    action = client().instances_resize(_id(server), body={"offer": offer})
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command()
def rebuild(
    server: Server,
    image: Annotated[str, typer.Option(help="The image to reinstall from.")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Reinstall a server from an image (its disk is wiped)."""
    action = client().instances_rebuild(_id(server), body={"image": image})
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command("reset-password")
def reset_password(server: Server, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Set a new root password and print it (shown once)."""
    api = client()
    result = api.instances_reset_password(_id(server))
    action = api.action(result)
    if wait:
        wait_for(action, timeout=timeout)
    emit({"password": result["password"], "action": action.id, "status": action.status}, output=output)


@app.command("console-url")
def console_url(server: Server, output: Output = "table") -> None:
    """A one-time browser-console URL (noVNC WebSocket) for a server."""
    ticket = client().instances_console(_id(server))
    if output == "table":
        typer.echo(ticket["url"])
        return
    emit(ticket, output=output)


@app.command()
def metrics(
    server: Server,
    timeframe: Annotated[str, typer.Option(help="hour, day, week, month or year.")] = "hour",
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
) -> None:
    """CPU, memory, disk and network figures of a server."""
    data = client().instances_metrics(_id(server), timeframe=timeframe)  # type: ignore[arg-type]
    if output == "table":
        emit(data["points"], output=output, columns=columns, no_header=no_header)
        return
    emit(data, output=output)


def _update(server: str, body: dict[str, object], output: str) -> None:
    emit(client().instances_update(_id(server), body=body), output=output)  # type: ignore[arg-type]


@app.command("enable-protection")
def enable_protection(server: Server, output: Output = "table") -> None:
    """Refuse deletion until protection is disabled."""
    _update(server, {"delete_protection": True}, output)


@app.command("disable-protection")
def disable_protection(server: Server, output: Output = "table") -> None:
    """Allow deletion again."""
    _update(server, {"delete_protection": False}, output)


@app.command("add-label")
def add_label(
    server: Server,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    server_id = _id(server)
    labels = dict(client().instances_retrieve(server_id).get("labels") or {})
    labels.update(labels_dict(label))
    _update(server_id, {"labels": labels}, output)


@app.command("remove-label")
def remove_label(
    server: Server,
    key: Annotated[list[str], typer.Argument(help="Label keys to remove.")],
    output: Output = "table",
) -> None:
    """Remove labels by key."""
    server_id = _id(server)
    labels = dict(client().instances_retrieve(server_id).get("labels") or {})
    for name in key:
        labels.pop(name, None)
    _update(server_id, {"labels": labels}, output)


@app.command()
def rename(
    server: Server, name: Annotated[str, typer.Argument(help="The new name.")], output: Output = "table"
) -> None:
    """Rename a server."""
    _update(server, {"name": name}, output)


@app.command()
def actions(
    server: Server,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """A server's Actions, newest first."""
    rows = list_items("instances_actions_list", _id(server), sort=sort, filters=filter)
    emit(
        rows,
        output=output,
        columns=columns,
        no_header=no_header,
        default=["id", "type", "status", "progress", "created_at"],
    )
