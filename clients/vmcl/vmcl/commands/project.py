"""``vmcl project``: list, describe, create, update, delete."""

from typing import Annotated

import typer

from ..common import Columns, Filter, LabelSelector, NoHeader, Output, Sort, client, emit, labels_dict, list_items
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Projects of an organisation.", no_args_is_help=True)
COLUMNS = ["id", "name", "slug", "is_default", "labels", "created_at"]
Org = Annotated[int | None, typer.Option("--organisation", help="Organisation id (default: your first).")]


@app.command("list")
def list_(
    organisation: Org = None,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """List projects."""
    rows = list_items(
        "projects_list", organisation_id(organisation), label_selector=label_selector, sort=sort, filters=filter
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(project: int, organisation: Org = None, output: Output = "table") -> None:
    """Show one project."""
    emit(client().projects_retrieve(organisation_id(organisation), project), output=output)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Project name.")],
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    organisation: Org = None,
    output: Output = "table",
) -> None:
    """Create a project."""
    body: dict[str, object] = {"name": name}
    if description is not None:
        body["description"] = description
    if label:
        body["labels"] = labels_dict(label)
    emit(client().projects_create(organisation_id(organisation), body=body), output=output)  # type: ignore[arg-type]


@app.command()
def update(
    project: int,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    organisation: Org = None,
    output: Output = "table",
) -> None:
    """Rename, describe or relabel a project."""
    body: dict[str, object] = {}
    for key, value in (("name", name), ("description", description)):
        if value is not None:
            body[key] = value
    if label is not None:
        body["labels"] = labels_dict(label)
    result = client().projects_partial_update(organisation_id(organisation), project, body=body)  # type: ignore[arg-type]
    emit(result, output=output)


@app.command()
def delete(project: int, organisation: Org = None) -> None:
    """Delete an empty project."""
    client().projects_destroy(organisation_id(organisation), project)
    typer.echo(f"project {project} deleted", err=True)
