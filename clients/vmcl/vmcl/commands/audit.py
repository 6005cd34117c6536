"""``vmcl audit``: the organisation's audit log."""

import sys
from typing import Annotated

import typer

from ..common import Columns, Filter, NoHeader, Output, client, emit, list_items
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="The organisation's audit log.", no_args_is_help=True)
COLUMNS = ["created_at", "actor", "action", "object_type", "object", "ip", "request_id"]
Org = Annotated[int | None, typer.Option("--organisation", help="Organisation id (default: your first).")]


@app.command("list")
def list_(
    organisation: Org = None,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    filter: Filter = None,
    since: Annotated[str | None, typer.Option(help="ISO date or time.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date or time.")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. instance.start.")] = None,
) -> None:
    """List audit events, newest first."""
    rows = list_items(
        "audit_events_list", organisation_id(organisation), filters=filter, since=since, until=until, action=action
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command("export")
def export(
    organisation: Org = None,
    since: Annotated[str | None, typer.Option(help="ISO date or time.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date or time.")] = None,
) -> None:
    """Write the audit log as CSV to stdout."""
    data = client().audit_events_csv(organisation_id(organisation), since=since, until=until)
    sys.stdout.buffer.write(data)
