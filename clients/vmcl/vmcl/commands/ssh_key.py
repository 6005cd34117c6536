"""``vmcl ssh-key``: list, describe, create, update, delete."""

from pathlib import Path
from typing import Annotated

import typer

from ..common import Columns, Filter, LabelSelector, NoHeader, Output, Sort, client, emit, labels_dict, list_items
from ..common import resolve_id as _resolve
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="SSH keys installed on new servers.", no_args_is_help=True)
COLUMNS = ["id", "name", "key_type", "fingerprint", "labels", "created_at"]
Key = Annotated[str, typer.Argument(help="SSH key id or name.")]


def _id(reference: str) -> str:
    return _resolve("ssh_keys_list", reference, kind="SSH key")


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """List SSH keys."""
    rows = list_items("ssh_keys_list", label_selector=label_selector, sort=sort, filters=filter)
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(key: Key, output: Output = "table", columns: Columns = None) -> None:
    """Show one SSH key."""
    emit(client().ssh_keys_retrieve(_id(key)), output=output, columns=columns)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A name for the key.")],
    public_key_from_file: Annotated[
        Path,
        typer.Option("--public-key-from-file", help="The public key file, e.g. ~/.ssh/id_ed25519.pub.", exists=True),
    ],
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    output: Output = "table",
) -> None:
    """Upload a public key."""
    body = {
        "name": name,
        "public_key": public_key_from_file.read_text().strip(),
        "organisation_id": organisation_id(organisation),
    }
    if label:
        body["labels"] = labels_dict(label)
    emit(client().ssh_keys_create(body=body), output=output)  # type: ignore[arg-type]


@app.command()
def update(
    key: Key,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    output: Output = "table",
) -> None:
    """Rename or relabel an SSH key."""
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label is not None:
        body["labels"] = labels_dict(label)
    emit(client().ssh_keys_update(_id(key), body=body), output=output)  # type: ignore[arg-type]


@app.command()
def delete(key: Key) -> None:
    """Delete an SSH key (servers that have it keep it)."""
    key_id = _id(key)
    client().ssh_keys_destroy(key_id)
    typer.echo(f"SSH key {key_id} deleted", err=True)
