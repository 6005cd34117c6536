"""``vmcl snapshot`` and ``vmcl schedule``: a server's snapshots and its snapshot schedule."""

from typing import Annotated

import typer

from ..common import (
    Columns,
    Filter,
    LabelSelector,
    NoHeader,
    Output,
    Sort,
    Timeout,
    Wait,
    client,
    emit,
    labels_dict,
    list_items,
    resolve_id,
    wait_for,
)

app = typer.Typer(rich_markup_mode=None, help="Snapshots of a server.", no_args_is_help=True)
schedule = typer.Typer(rich_markup_mode=None, help="Snapshot schedules of a server.", no_args_is_help=True)
COLUMNS = ["id", "name", "status", "size_gb", "scheduled", "labels", "created_at"]
Server = Annotated[str, typer.Argument(help="Server id or name.")]
Snapshot = Annotated[str, typer.Argument(help="Snapshot id or name.")]


def _server(reference: str) -> str:
    return resolve_id("instances_list", reference)


def _snapshot(server_id: str, reference: str) -> str:
    return resolve_id("snapshots_list", reference, kind="snapshot", instance_id=server_id)


@app.command("list")
def list_(
    server: Server,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """List a server's snapshots."""
    rows = list_items("snapshots_list", _server(server), label_selector=label_selector, sort=sort, filters=filter)
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(server: Server, snapshot: Snapshot, output: Output = "table") -> None:
    """Show one snapshot."""
    server_id = _server(server)
    emit(client().snapshots_retrieve(server_id, _snapshot(server_id, snapshot)), output=output)


@app.command()
def create(
    server: Server,
    name: Annotated[str | None, typer.Option(help="Snapshot name (default: a dated one).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Take a snapshot of a server."""
    api = client()
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label:
        body["labels"] = labels_dict(label)
    server_id = _server(server)
    result = api.snapshots_create(server_id, body=body)  # type: ignore[arg-type]
    action = api.action(result)
    if wait:
        wait_for(action, timeout=timeout)
        emit(api.snapshots_retrieve(server_id, result["snapshot"]["id"]), output=output)
        return
    emit({**result["snapshot"], "action": action.id}, output=output)


@app.command()
def delete(
    server: Server, snapshot: Snapshot, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table"
) -> None:
    """Delete a snapshot."""
    api = client()
    server_id = _server(server)
    action = api.action(api.snapshots_destroy(server_id, _snapshot(server_id, snapshot)))
    if wait:
        wait_for(action, timeout=timeout)
    emit(dict(action), output=output, default=["id", "type", "status", "progress"])


@app.command()
def rollback(
    server: Server, snapshot: Snapshot, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table"
) -> None:
    """Roll a server back to a snapshot (later changes are lost)."""
    api = client()
    server_id = _server(server)
    action = api.action(api.snapshots_rollback(server_id, _snapshot(server_id, snapshot)))
    if wait:
        wait_for(action, timeout=timeout)
    emit(dict(action), output=output)


@app.command()
def rename(
    server: Server, snapshot: Snapshot, name: Annotated[str, typer.Argument(help="New name.")], output: Output = "table"
) -> None:
    """Rename a snapshot."""
    server_id = _server(server)
    result = client().snapshots_partial_update(server_id, _snapshot(server_id, snapshot), body={"name": name})
    emit(result, output=output)


@schedule.command("describe")
def schedule_describe(server: Server, output: Output = "table") -> None:
    """Show a server's snapshot schedule."""
    emit(client().snapshot_schedule_retrieve(_server(server)), output=output)


@schedule.command("set")
def schedule_set(
    server: Server,
    frequency: Annotated[str, typer.Option(help="daily or weekly.")],
    hour: Annotated[int, typer.Option(help="Hour of the day, UTC.")] = 3,
    weekday: Annotated[int, typer.Option(help="Weekly: 0 = Sunday … 6 = Saturday.")] = 0,
    retention: Annotated[int, typer.Option(help="Scheduled snapshots kept.")] = 7,
    enabled: Annotated[bool, typer.Option(help="Run the schedule.")] = True,
    output: Output = "table",
) -> None:
    """Create or replace a server's snapshot schedule."""
    body = {"frequency": frequency, "hour": hour, "weekday": weekday, "retention": retention, "enabled": enabled}
    emit(client().snapshot_schedule_set(_server(server), body=body), output=output)  # type: ignore[arg-type]


@schedule.command("delete")
def schedule_delete(server: Server) -> None:
    """Remove a server's snapshot schedule (its snapshots are kept)."""
    client().snapshot_schedule_destroy(_server(server))
    typer.echo("schedule deleted", err=True)
