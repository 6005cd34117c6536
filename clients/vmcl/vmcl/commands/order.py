"""``vmcl order``: list, describe, cancel."""

from typing import Annotated

import typer

from ..common import Columns, Filter, NoHeader, Output, Sort, client, emit, list_items

app = typer.Typer(rich_markup_mode=None, help="Orders: follow and cancel.", no_args_is_help=True)
COLUMNS = ["id", "name", "state", "offer", "datacentre", "price_monthly", "instance", "created_at"]


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
    """Cancel an order that has not been delivered yet."""
    emit(client().orders_cancel(order, body={"reason": reason}), output=output)
