"""The ``vmcl`` entry point: the command tree, global options and error handling.

Errors end in one line on stderr, ``error: <message> [<code>] (request <id>)``,
and an exit code per class of error (docs page ``/docs/cli/``):

====  ===========================================================
1     other API error
2     usage or configuration (bad option, no context)
3     invalid input (400, 413, 422)
4     authentication or permission (401, 403)
5     not found (404)
6     conflict with the object's state (409)
7     rate limited after the retries (429)
8     the platform cannot be reached
9     an Action failed
10    --wait gave up (the Action goes on)
11    server error (5xx)
130   interrupted (Ctrl-C)
====  ===========================================================

Never a Python traceback, unless ``VMCL_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from . import __version__

# The command groups, loaded lazily: only the group a command line names is
# imported and turned into click commands; the others stay empty placeholders
# that carry their help line. Building all of them costs most of start-up.
# name: (module under vmcl.commands, attribute, help, hidden aliases)
GROUPS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "context": ("context", "app", "Contexts: which platform and token vmcl uses.", ()),
    "server": ("server", "app", "Servers: list, create, power, resize, rebuild, delete.", ("servers",)),
    "snapshot": ("snapshot", "app", "Snapshots of a server.", ("snapshots",)),
    "schedule": ("snapshot", "schedule", "Snapshot schedules of a server.", ("schedules",)),
    "ssh-key": ("ssh_key", "app", "SSH keys installed on new servers.", ("ssh-keys",)),
    "volume": ("volume", "app", "Block storage volumes: create, attach, detach, resize, delete.", ("volumes",)),
    "network": ("network", "app", "Private networks: create, subnets, attach and detach servers.", ("networks",)),
    "firewall": ("firewall", "app", "Firewalls: rules, apply to servers or label selectors.", ("firewalls",)),
    "floating-ip": ("floating_ip", "app", "Floating IPs: reserve, assign, move, unassign, release.", ("floating-ips",)),
    "service": (
        "service",
        "app",
        "Managed services (web hosting, PaaS, load balancer, CDN): list, change, cancel.",
        ("services",),
    ),
    "load-balancer": (
        "load_balancer",
        "app",
        "Load balancers: rules, targets, health check, certificate, settings.",
        ("load-balancers", "lb"),
    ),
    "alert-policy": (
        "alert_policy",
        "app",
        "Alert policies on server metrics and their incidents.",
        ("alert-policies",),
    ),
    "project": ("project", "app", "Projects of an organisation.", ("projects",)),
    "organisation": ("organisation", "app", "Organisations.", ("organisations", "organization")),
    "offer": ("catalogue", "offer", "Offers (server types and services) and their prices.", ("offers",)),
    "image": ("catalogue", "image", "OS images.", ("images",)),
    "datacentre": ("catalogue", "datacentre", "Datacentres.", ("datacentres", "datacenter")),
    "availability": ("catalogue", "availability", "What can be ordered where, now.", ()),
    "family": ("catalogue", "family", "Product families.", ("families",)),
    "gpu-model": ("catalogue", "gpu_model", "GPU models and where they are.", ("gpu-models",)),
    "gpu-stack": ("catalogue", "gpu_stack", "GPU software stacks.", ("gpu-stacks",)),
    "order": ("order", "app", "Orders: place (servers and managed services), follow, cancel.", ("orders",)),
    "action": ("action", "app", "Actions: asynchronous operations and their progress.", ("actions",)),
    "invoice": ("billing", "invoice", "Invoices: list, show, download the PDF.", ("invoices",)),
    "cost": ("billing", "cost", "Costs: month to date and forecast.", ("costs",)),
    "budget": ("billing", "budget", "Budgets and their alerts.", ("budgets",)),
    "audit": ("audit", "app", "The organisation's audit log.", ()),
}


def _named_group(argv: list[str]) -> str | None:
    """The resource a command line names (its first word that is not an option)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--context":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def _completion_words() -> list[str] | None:
    """The words typed so far when the shell asks for completions (typer's protocol)."""
    if not os.environ.get("_VMCL_COMPLETE"):
        return None
    words = os.environ.get("_TYPER_COMPLETE_ARGS") or os.environ.get("COMP_WORDS") or ""
    return words.split()[1:]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vmcl {__version__}")
        raise typer.Exit()


def root(
    context_name: Annotated[
        str | None, typer.Option("--context", help="Use this context instead of the active one.", envvar="VMCL_CONTEXT")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """vmcl: the VMCloud command line. `vmcl <resource> <verb>`; start with `vmcl context create`."""
    from .common import State

    State.context = context_name
    State.client = None


def build(argv: list[str]) -> typer.Typer:
    """The command tree for this command line: the group it names for real, the others as placeholders."""
    import importlib

    app = typer.Typer(
        name="vmcl",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # Plain help: rich's help formatter costs about half a second of imports at every start.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    app.command()(completion)
    words = _completion_words()
    wanted = _named_group(words if words is not None else argv)
    for name, (module, attribute, help_text, aliases) in GROUPS.items():
        for alias in (name, *aliases):
            if alias == wanted:
                sub = getattr(importlib.import_module(f"vmcl.commands.{module}"), attribute)
            else:
                sub = typer.Typer(rich_markup_mode=None)
            app.add_typer(sub, name=alias, help=help_text, hidden=alias != name)
    return app


def completion(shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")]) -> None:
    """Print the completion script for bash, zsh or fish (e.g. `vmcl completion bash > ~/.vmcl-completion`)."""
    from typer._completion_shared import get_completion_script

    if shell not in ("bash", "zsh", "fish"):
        raise typer.BadParameter("bash, zsh or fish", param_hint="SHELL")
    typer.echo(get_completion_script(prog_name="vmcl", complete_var="_VMCL_COMPLETE", shell=shell))


def main() -> None:
    """Run vmcl; turn every error into one line and an exit code."""
    try:
        build(sys.argv[1:])(prog_name="vmcl", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:
        sys.exit(_report(exc))


def _report(exc: Exception) -> int:
    if os.environ.get("VMCL_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    from vmcloud.errors import VMCloudError

    if isinstance(exc, VMCloudError):
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} (set VMCL_DEBUG=1 for details)\n")
    return 1
