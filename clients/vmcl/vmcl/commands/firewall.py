"""``vmcl firewall``: firewalls, their rules and the servers they apply to.

Rules come from ``--rule`` flags or a JSON/YAML file (``--rules-file``). A rule
flag is words, shell-quoted as a whole::

    --rule "in tcp port=22 source=198.51.100.0/24,2001:db8::/32 description='SSH from the office'"

``direction`` (in, out) and ``protocol`` (tcp, udp, icmp, esp, gre) first, or as
``direction=`` and ``protocol=``; then ``port`` (``80`` or ``8000-8100``),
``source``/``destination`` (comma-separated addresses or CIDRs) and
``description``. The file holds a list of rules as the API takes them
(``direction``, ``protocol``, ``port``, ``source_ips``, ``destination_ips``,
``description``), or ``{"rules": [...]}``.

Applying, removing, setting rules and deleting answer with Actions; ``--wait``
follows them with a progress bar.
"""

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from ..common import (
    Columns,
    Filter,
    LabelSelector,
    NoHeader,
    Output,
    Sort,
    State,
    Timeout,
    Wait,
    action_result,
    client,
    emit,
    label_change,
    labels_dict,
    list_items,
    resolve_id,
    usage_error,
    wait_for,
)
from .organisation import organisation_id

app = typer.Typer(rich_markup_mode=None, help="Firewalls.", no_args_is_help=True)
COLUMNS = ["id", "name", "rules", "applied_to", "applied", "status", "labels"]
ACTION_COLUMNS = ["id", "type", "status", "progress", "created_at", "error"]
RULE_KEYS = {
    "direction": "direction",
    "protocol": "protocol",
    "port": "port",
    "source": "source_ips",
    "from": "source_ips",
    "source_ips": "source_ips",
    "destination": "destination_ips",
    "to": "destination_ips",
    "destination_ips": "destination_ips",
    "description": "description",
}
Firewall = Annotated[str, typer.Argument(help="Firewall id or name.")]
RuleOption = Annotated[
    list[str] | None,
    typer.Option("--rule", help='"in tcp port=22 source=0.0.0.0/0,::/0 description=ssh" (repeatable).'),
]
RulesFile = Annotated[
    Path | None, typer.Option("--rules-file", help="JSON or YAML file with the rules.", exists=True, dir_okay=False)
]
ServerTargets = Annotated[list[str] | None, typer.Option("--server", help="Server id or name (repeatable).")]
SelectorTargets = Annotated[
    list[str] | None,
    typer.Option("--label-selector", "-l", help="Every server whose labels match, now and later (repeatable)."),
]


def _id(reference: str) -> str:
    return resolve_id("firewalls_list", reference, kind="firewall")


def parse_rule(text: str) -> dict[str, Any]:
    """One ``--rule`` flag as the API's rule object."""
    rule: dict[str, Any] = {}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise usage_error(f"--rule {text!r}: {exc}") from None
    for position, word in enumerate(words):
        key, sep, value = word.partition("=")
        if not sep and position < 2:
            key, value = ("direction", "protocol")[position], word
        elif not sep or key not in RULE_KEYS:
            raise usage_error(
                f"--rule {text!r}: {word!r} is not KEY=VALUE with KEY one of {', '.join(sorted(set(RULE_KEYS)))}"
            )
        field = RULE_KEYS[key]
        rule[field] = [v.strip() for v in value.split(",") if v.strip()] if field.endswith("_ips") else value
    for required in ("direction", "protocol"):
        if required not in rule:
            raise usage_error(f"--rule {text!r}: no {required}")
    return rule


def load_rules(path: Path) -> list[dict[str, Any]]:
    """The rules of a JSON or YAML file: a list of rules, or ``{"rules": [...]}``."""
    text = path.read_text()
    try:
        data = json.loads(text)
    except ValueError:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise usage_error(f"--rules-file {path}: neither JSON nor YAML ({exc})") from None
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise usage_error(f"--rules-file {path}: expected a list of rules (objects)")
    return data


def _rules(rule: list[str] | None, rules_file: Path | None) -> list[dict[str, Any]] | None:
    if rule and rules_file:
        raise usage_error("give --rule or --rules-file, not both")
    if rules_file is not None:
        return load_rules(rules_file)
    if rule:
        return [parse_rule(r) for r in rule]
    return None


def _targets(servers: list[str] | None, selectors: list[str] | None) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = [
        {"type": "server", "server": {"id": resolve_id("instances_list", s, kind="server")}} for s in servers or []
    ]
    targets += [{"type": "label_selector", "label_selector": {"selector": s}} for s in selectors or []]
    return targets


def _row(firewall: dict[str, Any]) -> dict[str, Any]:
    """A list row: rules counted, targets as ``server:<id>`` or ``selector:<selector>``."""
    row = dict(firewall)
    row["rules"] = len(firewall.get("rules") or [])
    row["applied_to"] = [
        f"server:{t['server']['id']}" if t.get("type") == "server" else f"selector:{t['label_selector']['selector']}"
        for t in firewall.get("applied_to") or []
    ]
    return row


@app.command("list")
def list_(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    label_selector: LabelSelector = None,
    sort: Sort = None,
    filter: Filter = None,
) -> None:
    """List firewalls."""
    rows = list_items("firewalls_list", label_selector=label_selector, sort=sort, filters=filter)
    if output == "table":
        rows = [_row(r) for r in rows]
    emit(rows, output=output, columns=columns, no_header=no_header, default=COLUMNS)


@app.command()
def describe(
    firewall: Firewall, output: Output = "table", columns: Columns = None, no_header: NoHeader = False
) -> None:
    """Show one firewall: its rules and where it applies (with each server's status)."""
    emit(client().firewalls_retrieve(_id(firewall)), output=output, columns=columns, no_header=no_header)


@app.command()
def rules(firewall: Firewall, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """A firewall's rules, one a line."""
    rows = list(client().firewalls_retrieve(_id(firewall)).get("rules") or [])
    default = ["direction", "protocol", "port", "source_ips", "destination_ips", "description"]
    emit(rows, output=output, columns=columns, no_header=no_header, default=default)


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A name, unique in the project.")],
    rule: RuleOption = None,
    rules_file: RulesFile = None,
    apply_to_server: Annotated[
        list[str] | None, typer.Option("--apply-to-server", help="Apply to this server (repeatable).")
    ] = None,
    apply_to_label_selector: Annotated[
        list[str] | None,
        typer.Option("--apply-to-label-selector", help="Apply to servers whose labels match (repeatable)."),
    ] = None,
    organisation: Annotated[int | None, typer.Option(help="Organisation id (default: your first).")] = None,
    project: Annotated[int | None, typer.Option(help="Project id (default: the context's, else your default).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable).")] = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Create a firewall, optionally applied at once; with --wait, wait for every server it reaches."""
    api = client()
    body: dict[str, object] = {"organisation_id": organisation_id(organisation), "name": name}
    project = project if project is not None else State.project
    if project is not None:
        body["project_id"] = project
    rules_ = _rules(rule, rules_file)
    if rules_ is not None:
        body["rules"] = rules_
    targets = _targets(apply_to_server, apply_to_label_selector)
    if targets:
        body["apply_to"] = targets
    if label:
        body["labels"] = labels_dict(label)
    created = api.firewalls_create(body=body)  # type: ignore[arg-type]
    firewall = dict(created["firewall"])
    if wait:
        for action in created.get("actions") or []:
            wait_for(api.action(dict(action)), timeout=timeout)
        firewall = dict(api.firewalls_retrieve(str(firewall["id"])))
    emit(firewall, output=output)


@app.command()
def update(
    firewall: Firewall,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE; replaces all labels.")] = None,
    output: Output = "table",
) -> None:
    """Rename or relabel a firewall (its rules: `vmcl firewall set-rules`)."""
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if label is not None:
        body["labels"] = labels_dict(label)
    emit(client().firewalls_update(_id(firewall), body=body), output=output)  # type: ignore[arg-type]


@app.command("add-label")
def add_label(
    firewall: Firewall,
    label: Annotated[list[str], typer.Argument(help="KEY=VALUE (one or more).")],
    output: Output = "table",
) -> None:
    """Add or change labels (the others are kept)."""
    api = client()
    emit(label_change(api.firewalls_retrieve, api.firewalls_update, _id(firewall), add=label), output=output)


@app.command("remove-label")
def remove_label(
    firewall: Firewall,
    key: Annotated[list[str], typer.Argument(help="Label keys to remove.")],
    output: Output = "table",
) -> None:
    """Remove labels by key."""
    api = client()
    emit(label_change(api.firewalls_retrieve, api.firewalls_update, _id(firewall), remove=key), output=output)


@app.command("set-rules")
def set_rules(
    firewall: Firewall,
    rule: RuleOption = None,
    rules_file: RulesFile = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every rule.")] = False,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Replace a firewall's rules (everything not allowed is dropped, inbound and outbound per direction)."""
    rules_ = _rules(rule, rules_file)
    if rules_ is None and not clear:
        raise usage_error("give --rule, --rules-file or --clear")
    if rules_ is not None and clear:
        raise usage_error("--clear takes no rules")
    action = client().firewalls_set_rules(_id(firewall), body={"rules": rules_ or []})  # type: ignore[typeddict-item]
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command("apply-to")
def apply_to(
    firewall: Firewall,
    server: ServerTargets = None,
    label_selector: SelectorTargets = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Apply a firewall to servers, or to every server whose labels match a selector."""
    targets = _targets(server, label_selector)
    if not targets:
        raise usage_error("give --server or --label-selector")
    action = client().firewalls_apply_to_resources(_id(firewall), body={"apply_to": targets})  # type: ignore[typeddict-item]
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command("remove-from")
def remove_from(
    firewall: Firewall,
    server: ServerTargets = None,
    label_selector: SelectorTargets = None,
    wait: Wait = False,
    timeout: Timeout = 900.0,
    output: Output = "table",
) -> None:
    """Stop applying a firewall to servers or to a label selector."""
    targets = _targets(server, label_selector)
    if not targets:
        raise usage_error("give --server or --label-selector")
    action = client().firewalls_remove_from_resources(_id(firewall), body={"remove_from": targets})  # type: ignore[typeddict-item]
    action_result(action, wait=wait, timeout=timeout, output=output)


@app.command()
def delete(firewall: Firewall, wait: Wait = False, timeout: Timeout = 900.0, output: Output = "table") -> None:
    """Delete a firewall (its rules leave every server it applied to)."""
    action_result(client().firewalls_destroy(_id(firewall)), wait=wait, timeout=timeout, output=output)


@app.command()
def actions(firewall: Firewall, output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """The firewall's actions, newest first."""
    rows = list_items("firewalls_actions_list", _id(firewall))
    emit(rows, output=output, columns=columns, no_header=no_header, default=ACTION_COLUMNS)
