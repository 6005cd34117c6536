"""``vmcl organisation``: the organisations your token sees."""

from typing import Annotated

import typer

from ..common import Columns, NoHeader, Output, client, emit, list_items

app = typer.Typer(rich_markup_mode=None, help="Organisations.", no_args_is_help=True)
COLUMNS = ["id", "name", "slug", "role", "suspended"]


def organisation_id(given: int | None) -> int:
    """The organisation to act in: the one given, else the token's first."""
    if given is not None:
        return given
    from vmcloud.errors import ConfigurationError

    rows = list_items("organisations_list")
    if not rows:
        raise ConfigurationError("this token sees no organisation")
    return int(rows[0]["id"])


@app.command("list")
def list_(output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """List organisations."""
    emit(list_items("organisations_list"), output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(
    organisation: Annotated[int | None, typer.Argument(help="Organisation id (default: your first).")] = None,
    output: Output = "table",
) -> None:
    """Show one organisation."""
    emit(client().organisations_retrieve(organisation_id(organisation)), output=output)


@app.command()
def members(
    organisation: Annotated[int | None, typer.Argument(help="Organisation id (default: your first).")] = None,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
) -> None:
    """List an organisation's members and their roles."""
    rows = list_items("members_list", organisation_id(organisation))
    emit(rows, output=output, columns=columns, no_header=no_header)
