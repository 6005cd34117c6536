"""``vmcl token``: personal access tokens."""

from typing import Annotated

import typer

from ..common import Columns, Filter, NoHeader, Output, Sort, client, emit, list_items
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Personal access tokens.", no_args_is_help=True)
COLUMNS = ["id", "name", "prefix", "scope", "active", "expires_at", "last_used_at"]


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """List tokens (never their secrets)."""
    emit(
        list_items("tokens_list", sort=sort, filters=filter),
        output=output,
        columns=columns,
        no_header=no_header,
        default=COLUMNS,
    )


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Token name.")],
    scope: Annotated[str | None, typer.Option(help="read or read_write.")] = None,
    expires_at: Annotated[str | None, typer.Option(help="ISO date and time.")] = None,
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    output: Output = "table",
) -> None:
    """Create a token; its secret is shown once."""
    body: dict[str, object] = {"name": name, "organisation": organisation_id(organisation)}
    if scope is not None:
        body["scope"] = scope
    if expires_at is not None:
        body["expires_at"] = expires_at
    emit(client().tokens_create(body=body), output=output)  # type: ignore[arg-type]


@app.command()
def revoke(token_id: Annotated[str, typer.Argument(metavar="TOKEN")]) -> None:
    """Revoke a token."""
    client().tokens_revoke(token_id)
    typer.echo(f"token {token_id} revoked", err=True)
