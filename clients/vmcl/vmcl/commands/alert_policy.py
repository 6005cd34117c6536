"""``vmcl alert-policy``: alert policies on a server's metrics, and their incidents.

A policy watches one metric (cpu, memory, disk, network_in, network_out) of one
server (``--server``) or of the project's servers whose labels match
(``--target-selector``), and fires when its average over ``--duration``
minutes is above (``gt``) or below (``lt``) the threshold (docs page
``/docs/cli/#alert-policies``). Its webhook signing secret is shown once, by
``create`` and ``rotate-secret``. A policy is named by its id or its name.
"""

from typing import Annotated

import typer

from ..common import (
    Columns,
    Filter,
    LabelSelector,
    NoHeader,
    Output,
    Sort,
    State,
    client,
    emit,
    label_change,
    labels_dict,
    list_items,
    resolve_id,
    usage_error,
)
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Alert policies on server metrics.", no_args_is_help=True)
COLUMNS = ["id", "name", "metric", "comparison", "threshold", "unit", "duration_minutes", "enabled", "labels"]
INCIDENT_COLUMNS = ["id", "server_name", "state", "opened_at", "resolved_at", "value", "peak_value"]
Policy = Annotated[str, typer.Argument(help="Alert policy id or name.")]
METRICS = ("cpu", "memory", "disk", "network_in", "network_out")
DURATIONS = (5, 10, 30, 60)


def _id(reference: str) -> str:
    return resolve_id("alert_policies_list", reference, kind="alert policy")


def _server(reference: str) -> str:
    return resolve_id("instances_list", reference, kind="server")


def _check(metric: str | None, comparison: str | None, duration: int | None) -> None:
    if metric is not None and metric not in METRICS:
        raise usage_error(f"--metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if comparison is not None and comparison not in ("gt", "lt"):
        raise usage_error(f"--comparison must be gt (above) or lt (below), not {comparison!r}")
    if duration is not None and duration not in DURATIONS:
        raise usage_error(f"--duration must be one of {', '.join(map(str, DURATIONS))} minutes, not {duration}")


def _shown_once(policy: dict[str, object], output: str) -> None:
    typer.echo("The webhook secret is shown once: keep it now.", err=True)
    emit(policy, output=output)


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
    metric: Annotated[list[str] | None, typer.Option(help="cpu, memory, disk, network_in, network_out.")] = None,
    server: Annotated[str | None, typer.Option(help="Only policies naming this server (id or name).")] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Only enabled or disabled ones.")] = None,
    project: Annotated[int | None, typer.Option(help="Only this project's policies.")] = None,
) -> None:
    """List alert policies, by name."""
    rows = list_items(
        "alert_policies_list",
        label_selector=label_selector,
        sort=sort,
        filters=filter,
        metric=metric,
        server=_server(server) if server else None,
        enabled=enabled,
        project=project,
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(policy: Policy, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """Show one alert policy (never its webhook secret)."""
    emit(client().alert_policies_retrieve(_id(policy)), output=output, columns=columns, no_header=no_header)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A name.")],
    metric: Annotated[str, typer.Option(help="cpu, memory, disk (%), network_in or network_out (bytes/s).")],
    threshold: Annotated[str, typer.Option(help="% (0-100) or bytes per second, as the metric's unit.")],
    comparison: Annotated[str, typer.Option(help="gt (above) or lt (below).")] = "gt",
    duration: Annotated[int, typer.Option(help="Minutes the average must hold: 5, 10, 30 or 60.")] = 5,
    server: Annotated[str | None, typer.Option(help="Watch this server (id or name).")] = None,
    target_selector: Annotated[
        str | None, typer.Option("--target-selector", help="Or watch the project's servers whose labels match.")
    ] = None,
    email: Annotated[list[str] | None, typer.Option("--email", help="Also e-mail this address (repeatable).")] = None,
    email_members: Annotated[
        bool, typer.Option("--email-members/--no-email-members", help="E-mail the organisation's members.")
    ] = True,
    portal_notice: Annotated[
        bool, typer.Option("--portal-notice/--no-portal-notice", help="Show a notice in the console.")
    ] = True,
    webhook_url: Annotated[str | None, typer.Option(help="POST a signed JSON body here.")] = None,
    enabled: Annotated[bool, typer.Option("--enabled/--disabled", help="Evaluate it from now on.")] = True,
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    output: Output = "table",
) -> None:
    """Create an alert policy on one server or a label selector; prints its webhook secret once."""
    _check(metric, comparison, duration)
    if (server is None) == (target_selector is None):
        raise usage_error("give --server or --target-selector (one of the two)")
    body: dict[str, object] = {
        "organisation_id": organisation_id(organisation),
        "name": name,
        "metric": metric,
        "comparison": comparison,
        "threshold": threshold,
        "duration_minutes": duration,
        "email_members": email_members,
        "portal_notice": portal_notice,
        "enabled": enabled,
    }
    project = project if project is not None else State.project
    if project is not None:
        body["project_id"] = project
    if server is not None:
        body["server_id"] = _server(server)
    if target_selector is not None:
        body["label_selector"] = target_selector
    if email:
        body["emails"] = email
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    if label:
        body["labels"] = labels_dict(label)
    _shown_once(dict(client().alert_policies_create(body=body)), output)  # type: ignore[arg-type]


@app.command()
def update(
    policy: Policy,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    metric: Annotated[str | None, typer.Option(help="cpu, memory, disk, network_in or network_out.")] = None,
    threshold: Annotated[str | None, typer.Option(help="New threshold.")] = None,
    comparison: Annotated[str | None, typer.Option(help="gt (above) or lt (below).")] = None,
    duration: Annotated[int | None, typer.Option(help="5, 10, 30 or 60 minutes.")] = None,
    server: Annotated[str | None, typer.Option(help="Watch this server instead (id or name).")] = None,
    target_selector: Annotated[
        str | None, typer.Option("--target-selector", help="Watch the servers matching this instead.")
    ] = None,
    email: Annotated[
        list[str] | None, typer.Option("--email", help="Replaces the extra addresses (repeatable).")
    ] = None,
    no_emails: Annotated[bool, typer.Option("--no-emails", help="Remove every extra address.")] = False,
    email_members: Annotated[bool | None, typer.Option("--email-members/--no-email-members")] = None,
    portal_notice: Annotated[bool | None, typer.Option("--portal-notice/--no-portal-notice")] = None,
    webhook_url: Annotated[str | None, typer.Option(help="New webhook URL ('' removes it).")] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Switch it on or off.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    output: Output = "table",
) -> None:
    """Change an alert policy; --server or --target-selector replaces what it watches."""
    _check(metric, comparison, duration)
    if server is not None and target_selector is not None:
        raise usage_error("give --server or --target-selector, not both")
    if email and no_emails:
        raise usage_error("--no-emails takes no --email")
    body: dict[str, object] = {}
    for key, value in (
        ("name", name),
        ("metric", metric),
        ("threshold", threshold),
        ("comparison", comparison),
        ("duration_minutes", duration),
        ("email_members", email_members),
        ("portal_notice", portal_notice),
        ("webhook_url", webhook_url),
        ("enabled", enabled),
    ):
        if value is not None:
            body[key] = value
    if server is not None:
        body["server_id"] = _server(server)
    if target_selector is not None:
        body["label_selector"] = target_selector
    if email or no_emails:
        body["emails"] = email or []
    if label is not None:
        body["labels"] = labels_dict(label)
    if not body:
        raise usage_error("nothing to change: give at least one option (see --help)")
    emit(client().alert_policies_update(_id(policy), body=body), output=output)  # type: ignore[arg-type]


@app.command("add-label")
def add_label(
    policy: Policy,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    api = client()
    emit(label_change(api.alert_policies_retrieve, api.alert_policies_update, _id(policy), add=label), output=output)


@app.command("remove-label")
def remove_label(
    policy: Policy,
    key: Annotated[list[str], typer.Argument(help="Label keys to remove.")],
    output: Output = "table",
) -> None:
    """Remove labels by key."""
    api = client()
    emit(label_change(api.alert_policies_retrieve, api.alert_policies_update, _id(policy), remove=key), output=output)


@app.command()
def delete(policy: Policy) -> None:
    """Delete an alert policy and its incidents' history."""
    policy_id = _id(policy)
    client().alert_policies_destroy(policy_id)
    typer.echo(f"Alert policy {policy_id} deleted.", err=True)


@app.command()
def incidents(
    policy: Policy,
    server: Annotated[str | None, typer.Option(help="Only incidents on this server (id or name).")] = None,
    sort: Sort = None,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
) -> None:
    """A policy's incidents, newest first: firing until resolved_at is set."""
    rows = list_items(
        "alert_policies_incidents_list", _id(policy), sort=sort, server=_server(server) if server else None
    )
    emit(rows, output=output, columns=columns, no_header=no_header, default=INCIDENT_COLUMNS)


@app.command("rotate-secret")
def rotate_secret(policy: Policy, output: Output = "table") -> None:
    """A new webhook signing secret, shown once; the old one stops verifying at once."""
    _shown_once(dict(client().alert_policies_rotate_secret(_id(policy))), output)
