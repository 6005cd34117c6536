"""``vmcl action``: the organisation's asynchronous operations."""

from typing import Annotated

import typer

from ..common import Columns, Filter, NoHeader, Output, Sort, Timeout, client, emit, list_items, wait_for

app = typer.Typer(
    rich_markup_mode=None, help="Actions: asynchronous operations and their progress.", no_args_is_help=True
)
COLUMNS = ["id", "type", "status", "progress", "instance_id", "created_at", "finished_at"]


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    sort: Sort = None,
    filter: Filter = None,
    status: Annotated[list[str] | None, typer.Option(help="pending, running, success, error (repeatable).")] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="create, start, … (repeatable).")] = None,
) -> None:
    """List Actions, newest first."""
    rows = list_items("actions_list", sort=sort, filters=filter, status=status, type=type_)
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(action: str, output: Output = "table") -> None:
    """Show one Action."""
    emit(dict(client().actions_retrieve(action)), output=output)


@app.command()
def wait(action: str, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Wait for an Action to finish, with a progress bar."""
    emit(dict(wait_for(client().actions_retrieve(action), timeout=timeout)), output=output)
