"""``vmcl service``: managed services (web hosting, PaaS, load balancer, CDN).

A service is ordered like a server, with ``vmcl order create --service-json``
(or ``--service KEY=VALUE``); these commands read it, rename, relabel or
protect it, move it to another tier, reveal its credentials (once) and
cancel it (docs page ``/docs/cli/#managed-services``). A service is named by
its id or its name. Cancelling asks for the service's name, typed again, as
the API does, unless ``--yes`` or ``--confirm NAME`` is given.
"""

import sys
from typing import Annotated

import typer

from ..common import (
    Columns,
    Filter,
    LabelSelector,
    NoHeader,
    Output,
    Sort,
    client,
    emit,
    label_change,
    labels_dict,
    list_items,
    resolve_id,
    usage_error,
)

app = typer.Typer(
    rich_markup_mode=None, help="Managed services: web hosting, PaaS, load balancer, CDN.", no_args_is_help=True
)
COLUMNS = ["id", "name", "family", "tier", "state", "datacentre", "price_monthly", "labels"]
TRANSITION_COLUMNS = ["at", "from_state", "to_state", "by", "reason"]
Service = Annotated[str, typer.Argument(help="Service id or name.")]


def _id(reference: str) -> str:
    return resolve_id("services_list", reference, kind="service")


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
    family: Annotated[
        list[str] | None, typer.Option(help="web_hosting, paas, load_balancer or cdn (repeatable).")
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(help="provisioning, active, changing, suspended, cancelled or terminated (repeatable)."),
    ] = None,
    tier: Annotated[str | None, typer.Option(help="Offer code of the tier, e.g. WEB-START.")] = None,
    project: Annotated[int | None, typer.Option(help="Only this project's services.")] = None,
) -> None:
    """List managed services, newest first (ended ones included)."""
    rows = list_items(
        "services_list",
        label_selector=label_selector,
        sort=sort,
        filters=filter,
        family=family,
        state=state,
        tier=tier,
        project=project,
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(service: Service, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """Show one service: state, tier, endpoints, credential names (never their values)."""
    emit(client().services_retrieve(_id(service)), output=output, columns=columns, no_header=no_header)


@app.command()
def update(
    service: Service,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    protect: Annotated[bool | None, typer.Option("--protect/--no-protect", help="Delete protection.")] = None,
    output: Output = "table",
) -> None:
    """Rename, relabel or (un)protect a service."""
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label is not None:
        body["labels"] = labels_dict(label)
    if protect is not None:
        body["delete_protection"] = protect
    if not body:
        raise usage_error("nothing to change: give --name, --label or --protect/--no-protect")
    emit(client().services_update(_id(service), body=body), output=output)  # type: ignore[arg-type]


@app.command("add-label")
def add_label(
    service: Service,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    api = client()
    emit(label_change(api.services_retrieve, api.services_update, _id(service), add=label), output=output)


@app.command("remove-label")
def remove_label(
    service: Service,
    key: Annotated[list[str], typer.Argument(help="Label keys to remove.")],
    output: Output = "table",
) -> None:
    """Remove labels by key."""
    api = client()
    emit(label_change(api.services_retrieve, api.services_update, _id(service), remove=key), output=output)


@app.command()
def cancel(
    service: Service,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for the name: cancel at once.")] = False,
    confirm: Annotated[
        str | None, typer.Option("--confirm", metavar="NAME", help="The service's name, typed again (for scripts).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (kept with the service).")] = "",
    output: Output = "table",
) -> None:
    """Cancel a service for good: it is removed and billing stops now (refused while protected)."""
    api = client()
    service_id = _id(service)
    if confirm is None:
        name = api.services_retrieve(service_id)["name"]
        if yes:
            confirm = name
        elif sys.stdin.isatty():
            confirm = typer.prompt(f"This cancels {name} for good. Type its name to confirm", err=True)
        else:
            confirm = sys.stdin.readline().strip()
            if not confirm:
                raise usage_error(f"type the service's name ({name}) on stdin, or pass --confirm NAME or --yes")
    emit(api.services_destroy(service_id, confirm=confirm, reason=reason or None), output=output)


@app.command("change-tier")
def change_tier(
    service: Service,
    tier: Annotated[str, typer.Option(help="Offer code of another tier of the same family.")],
    output: Output = "table",
) -> None:
    """Move an active service to another tier (billed at the new price from now)."""
    emit(client().services_change_tier(_id(service), body={"tier": tier}), output=output)


@app.command()
def credentials(service: Service, output: Output = "table") -> None:
    """Reveal the delivered credentials in clear: possible ONCE (the request is audited)."""
    revealed = client().services_reveal_credentials(_id(service))
    typer.echo("These credentials are shown once: keep them now.", err=True)
    emit(dict(revealed["credentials"]), output=output)


@app.command()
def transitions(
    service: Service, output: Output = "table", columns: Columns = None, no_header: NoHeader = False
) -> None:
    """The service's state changes, oldest first, with who made them and why."""
    rows = list_items("services_transitions_list", _id(service))
    emit(rows, output=output, columns=columns, no_header=no_header, default=TRANSITION_COLUMNS)
