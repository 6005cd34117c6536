"""``vmcl volume``: list, describe, create, update, labels, attach, detach, resize, delete, actions.

A create answers the volume and its Action; the other operations answer the
shared Action. ``--wait`` follows it with a progress bar: ``/api/v1/actions/{id}/``
serves every resource's Actions, so the SDK's ``Action.wait`` works for volumes
as for servers.
"""

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
    as_action,
    client,
    emit,
    label_change,
    labels_dict,
    list_items,
    wait_for,
)
from ..common import resolve_id as _resolve
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Block storage volumes.", no_args_is_help=True)
COLUMNS = ["id", "name", "tier", "size_gb", "datacentre", "status", "server_id", "labels"]
ACTION_COLUMNS = ["id", "type", "status", "progress"]
Volume = Annotated[str, typer.Argument(help="Volume id or name.")]


def _id(reference: str) -> str:
    return _resolve("volumes_list", reference, kind="volume")


def _server(reference: str) -> str:
    return _resolve("instances_list", reference, kind="server")


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """List volumes."""
    rows = list_items("volumes_list", label_selector=label_selector, sort=sort, filters=filter)
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(volume: Volume, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """Show one volume (with its device path in the guest while attached)."""
    emit(client().volumes_retrieve(_id(volume)), output=output, columns=columns, no_header=no_header)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A name, unique in the project.")],
    tier: Annotated[str, typer.Option(help="Storage offer code, e.g. STORAGE-NVME.")],
    size: Annotated[int, typer.Option("--size", help="Size in GB (10 to 10000).")],
    datacentre: Annotated[str, typer.Option(help="Datacentre code, e.g. PAR-1.")],
    server: Annotated[str | None, typer.Option(help="Attach to this server (id or name) at once.")] = None,
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    protect: Annotated[bool, typer.Option("--protect", help="Turn delete protection on.")] = False,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Create a volume, optionally attached to a server, and show it; with --wait, once it is ready."""
    api = client()
    body: dict[str, object] = {
        "organisation_id": organisation_id(organisation),
        "name": name,
        "tier": tier,
        "size_gb": size,
        "datacentre": datacentre,
        "delete_protection": protect,
    }
    project = project if project is not None else State.project
    if project is not None:
        body["project_id"] = project
    if server is not None:
        body["server_id"] = _server(server)
    if label:
        body["labels"] = labels_dict(label)
    created = api.volumes_create(body=body)  # type: ignore[arg-type]
    volume = dict(created["volume"])
    if wait:
        wait_for(as_action(dict(created["action"])), timeout=timeout)
        volume = dict(api.volumes_retrieve(str(volume["id"])))
    emit(volume, output=output)


@app.command()
def update(
    volume: Volume,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    protect: Annotated[bool | None, typer.Option("--protect/--no-protect", help="Delete protection.")] = None,
    output: Output = "table",
) -> None:
    """Rename, relabel or (un)protect a volume."""
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label is not None:
        body["labels"] = labels_dict(label)
    if protect is not None:
        body["delete_protection"] = protect
    emit(client().volumes_update(_id(volume), body=body), output=output)  # type: ignore[arg-type]


@app.command("add-label")
def add_label(
    volume: Volume,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    api = client()
    emit(label_change(api.volumes_retrieve, api.volumes_update, _id(volume), add=label), output=output)


@app.command("remove-label")
def remove_label(
    volume: Volume, key: Annotated[list[str], typer.Argument(help="Label keys to remove.")], output: Output = "table"
) -> None:
    """Remove labels by key."""
    api = client()
    emit(label_change(api.volumes_retrieve, api.volumes_update, _id(volume), remove=key), output=output)


@app.command()
def attach(
    volume: Volume,
    server: Annotated[str, typer.Option(help="Server id or name (same project and datacentre).")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Attach a volume to a server."""
    action = client().volumes_attach(_id(volume), body={"server_id": _server(server)})  # type: ignore[typeddict-item]
    action_result(as_action(action), wait=wait, timeout=timeout, output=output)


@app.command()
def detach(volume: Volume, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Detach a volume from its server (its data stays on the volume)."""
    action_result(as_action(client().volumes_detach(_id(volume))), wait=wait, timeout=timeout, output=output)


@app.command()
def resize(
    volume: Volume,
    size: Annotated[int, typer.Option("--size", help="The new, larger size in GB.")],
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Grow an attached volume (never shrinks); then grow its file system in the guest."""
    action = client().volumes_resize(_id(volume), body={"size_gb": size})
    action_result(as_action(action), wait=wait, timeout=timeout, output=output)


@app.command()
def delete(volume: Volume, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Delete a detached, unprotected volume and its data."""
    action_result(as_action(client().volumes_destroy(_id(volume))), wait=wait, timeout=timeout, output=output)


@app.command()
def actions(volume: Volume, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """The volume's actions, newest first."""
    rows = list_items("volumes_actions_list", _id(volume))
    emit(rows, output=output, columns=columns, no_header=no_header, default=[*ACTION_COLUMNS, "created_at", "error"])
