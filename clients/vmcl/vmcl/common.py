"""What every command shares: the client, output formats, list options, --wait.

Heavy modules (the SDK and requests, rich, PyYAML) are imported inside the
functions, so that building the command tree for ``vmcl --help`` stays cheap.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from vmcloud import Action, Client

OUTPUTS = ("table", "json", "yaml")
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class State:
    """Global options (``vmcl --context``) and the client built from them once."""

    context: str | None = None
    client: Client | None = None
    project: int | None = None


def _complete_output(incomplete: str) -> list[str]:
    return [o for o in OUTPUTS if o.startswith(incomplete)]


Output = Annotated[
    str,
    typer.Option("--output", "-o", help="table, json or yaml.", autocompletion=_complete_output, envvar="VMCL_OUTPUT"),
]
Columns = Annotated[
    str | None, typer.Option("--columns", help="Comma-separated columns of the table (default: the usual ones).")
]
NoHeader = Annotated[bool, typer.Option("--no-header", help="Print the table without its header row.")]
LabelSelector = Annotated[
    str | None,
    typer.Option(
        "--label-selector", "-l", help="Only items whose labels match, e.g. 'env=prod,tier in (web,api),!legacy'."
    ),
]
Sort = Annotated[list[str] | None, typer.Option("--sort", help="field, field:asc or field:desc (repeatable).")]
Filter = Annotated[
    list[str] | None, typer.Option("--filter", "-f", help="Any filter of the API's list as KEY=VALUE (repeatable).")
]
Wait = Annotated[bool, typer.Option("--wait", "-w", help="Wait for the Action to finish, with a progress bar.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds --wait waits before giving up.")]


def client() -> Client:
    if State.client is None:
        from vmcloud import Client

        from . import __version__
        from .config import resolve

        url, token, project, _source = resolve(State.context)
        State.client = Client(url, token, user_agent=f"vmcl/{__version__}")
        State.project = project
    return State.client


def usage_error(message: str) -> typer.Exit:
    """A usage error: one line on stderr and exit code 2, as click does."""
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(2)


def check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise usage_error(f"--output must be one of {', '.join(OUTPUTS)}, not {output!r}")
    return output


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if all(not isinstance(v, dict | list) for v in value.values()):
            return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return ",".join(_cell(v) for v in value) or "-"
    return str(value)


def emit(
    data: Any,
    *,
    output: str = "table",
    columns: str | None = None,
    no_header: bool = False,
    default: list[str] | None = None,
) -> None:
    """Print ``data`` (an object or a list of objects) as a table, JSON or YAML on stdout."""
    check_output(output)
    if output == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    if output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True))
        return
    if isinstance(data, dict):
        _describe(data, columns=columns, no_header=no_header)
        return
    rows = list(data)
    available = list(rows[0]) if rows else list(default or [])
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else list(default or available)
    if rows:
        unknown = [c for c in chosen if c not in available]
        if unknown:
            raise usage_error(f"unknown column(s) {', '.join(unknown)}; available: {', '.join(available)}")
    _table([[_cell(row.get(c)) for c in chosen] for row in rows], [c.upper() for c in chosen], no_header)


def _plain(data: Any) -> Any:
    """Plain dicts and lists (an Action is a dict subclass, which safe_dump refuses)."""
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def _describe(data: dict[str, Any], *, columns: str | None, no_header: bool) -> None:
    keys = [c.strip() for c in columns.split(",")] if columns else list(data)
    unknown = [k for k in keys if k not in data]
    if unknown:
        raise usage_error(f"unknown column(s) {', '.join(unknown)}; available: {', '.join(data)}")
    _table([[k, _cell(data[k])] for k in keys], ["FIELD", "VALUE"], no_header)


def _table(rows: list[list[str]], header: list[str], no_header: bool) -> None:
    # Plain aligned columns (as hcloud prints them): stable for scripts, fast for long lists.
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [] if no_header else ["   ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")


def parse_pairs(pairs: list[str] | None, what: str = "--filter") -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise usage_error(f"{what} takes KEY=VALUE, not {pair!r}")
        result[key.strip()] = value.strip()
    return result


def list_items(
    operation: str,
    *path_args: Any,
    label_selector: str | None = None,
    sort: list[str] | None = None,
    filters: list[str] | None = None,
    **query: Any,
) -> list[dict[str, Any]]:
    """Every item of a paginated list, with the API's own filters (an unknown one is refused by the API)."""
    from vmcloud._generated.operations import OPERATIONS

    op = OPERATIONS[operation]
    params = {k: v for k, v in query.items() if v is not None}
    params.update(parse_pairs(filters))
    if label_selector is not None:
        if "label_selector" not in op.query:
            raise usage_error(f"this list has no labels to select on ({op.path})")
        params["label_selector"] = label_selector
    if sort:
        params["sort"] = sort
    api = client()
    path = op.path
    for value in path_args:
        path = re.sub(r"\{[^}]+\}", str(value), path, count=1)
    if op.paginated:
        return list(api._paginate(operation, path, query=params))
    result = api._request(operation, path, query=params, body=None, headers={})
    return list(result) if isinstance(result, list) else [result]


def wait_for(action: Action, *, timeout: float = 900.0, quiet: bool = False) -> Action:
    """Wait for an Action with a progress bar on stderr (stdout stays clean for -o json)."""
    if quiet:
        return action.wait(timeout=timeout)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=not console.is_terminal,
    ) as progress:
        task = progress.add_task(f"{action.get('type', 'action')} {action.id[:8]}", total=100)

        def update(current: Action) -> None:
            done = 100 if current.status == "success" else current.progress
            progress.update(
                task, completed=done, description=f"{current.get('type')} {current.id[:8]} {current.status}"
            )

        action.wait(timeout=timeout, on_progress=update)
    return action


def resolve_id(operation: str, reference: str, *, key: str = "name", kind: str = "server", **scope: Any) -> str:
    """An id from an id or a unique name (``vmcl server describe web-1``)."""
    if UUID.match(reference):
        return reference
    from vmcloud.errors import BadRequest, NotFound

    query: dict[str, Any] = {key: reference}
    matches = list_items(operation, *scope.values(), **query)
    if not matches:
        raise NotFound(404, "not_found", f"No {kind} named {reference!r}.")
    if len(matches) > 1:
        raise BadRequest(400, "ambiguous_name", f"{len(matches)} {kind}s are named {reference!r}: use the id.")
    return str(matches[0]["id"])


def order_options(*, network: list[str] | None, firewall: list[str] | None, volume: list[str] | None) -> dict[str, Any]:
    """The server order's options from the CLI's flags: networks and firewalls by id or name, volumes as SIZE:TIER."""
    options: dict[str, Any] = {}
    if network:
        options["network_ids"] = [resolve_id("networks_list", n, kind="network") for n in network]
    if firewall:
        options["firewall_ids"] = [resolve_id("firewalls_list", f, kind="firewall") for f in firewall]
    if volume:
        from vmcloud.errors import BadRequest

        volumes = []
        for spec in volume:
            size, _sep, tier = spec.partition(":")
            if not size.strip().isdigit() or not tier.strip():
                raise BadRequest(400, "invalid", f"--volume {spec!r}: give SIZE_GB:TIER, e.g. 50:STORAGE-NVME.")
            volumes.append({"size_gb": int(size), "tier": tier.strip()})
        options["volumes"] = volumes
    return options


def action_result(action: Action, *, wait: bool, timeout: float, output: str, quiet_when_json: bool = True) -> None:
    """Print an Action, after waiting for it with --wait."""
    if wait:
        wait_for(action, timeout=timeout, quiet=False)
    emit(dict(action), output=output, default=["id", "type", "status", "progress"])


def labels_dict(pairs: list[str] | None) -> dict[str, str]:
    return parse_pairs(pairs, "--label")


def as_action(value: Any) -> Action:
    """An SDK ``Action`` from an operation's answer (a volume's Action is a plain dictionary)."""
    return client().action(value)


def label_change(
    retrieve: Any, update: Any, reference_id: str, *, add: list[str] | None = None, remove: list[str] | None = None
) -> Any:
    """Add or remove labels of an object whose PATCH replaces its labels whole."""
    labels = dict(retrieve(reference_id).get("labels") or {})
    labels.update(labels_dict(add))
    for key in remove or []:
        labels.pop(key, None)
    return update(reference_id, body={"labels": labels})
