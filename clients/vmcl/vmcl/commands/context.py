"""``vmcl context``: named sets of URL, token and default project, kept in a 0600 file."""

import os
import sys
from typing import Annotated

import typer

from ..common import Columns, NoHeader, Output, emit, usage_error
from ..config import Config, Context, as_rows

app = typer.Typer(rich_markup_mode=None, help="Contexts: which platform and token vmcl uses.", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="A name for the context, e.g. prod.")],
    url: Annotated[str, typer.Option(help="The platform's URL, e.g. https://api.vmcloud.example.")],
    token: Annotated[
        str | None, typer.Option(help="Personal access token (default: VMCL_TOKEN, else asked for or read from stdin).")
    ] = None,
    project: Annotated[int | None, typer.Option(help="Default project id for new servers.")] = None,
    verify: Annotated[bool, typer.Option(help="Check the token against the API first.")] = True,
) -> None:
    """Create a context and make it the active one."""
    config = Config.load()
    if name in config.contexts:
        raise usage_error(f"a context named {name!r} exists: delete it first")
    token = token or os.environ.get("VMCL_TOKEN")
    if not token:
        token = typer.prompt("Token", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not token:
        raise usage_error("no token given")
    if verify:
        from vmcloud import Client

        with Client(url, token) as api:
            api.organisations_list()
    config.contexts[name] = Context(name=name, url=url, token=token, project=project)
    config.active = name
    path = config.save()
    typer.echo(f"context {name} created and active ({path})", err=True)


@app.command()
def use(name: Annotated[str, typer.Argument(help="Context name.")]) -> None:
    """Make a context the active one."""
    config = Config.load()
    if name not in config.contexts:
        raise usage_error(f"no context named {name!r} (see `vmcl context list`)")
    config.active = name
    config.save()
    typer.echo(f"context {name} active", err=True)


@app.command("list")
def list_(output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """List contexts (tokens are never shown)."""
    emit(
        as_rows(Config.load()),
        output=output,
        columns=columns,
        no_header=no_header,
        default=["active", "name", "url", "project"],
    )


@app.command()
def active() -> None:
    """Print the active context's name."""
    name = Config.load().active
    if not name:
        raise typer.Exit(1)
    typer.echo(name)


@app.command()
def delete(name: Annotated[str, typer.Argument(help="Context name.")]) -> None:
    """Delete a context (and its token)."""
    config = Config.load()
    if config.contexts.pop(name, None) is None:
        raise usage_error(f"no context named {name!r}")
    if config.active == name:
        config.active = ""
    config.save()
    typer.echo(f"context {name} deleted", err=True)
