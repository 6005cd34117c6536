"""import-linter's contracts cover every module of every app (issue 12: "the proof is mechanical").

``.importlinter``'s "Domain code never imports interfaces" contract names domain code by package
(``apps.*.models``, ``apps.*.selectors``, ``apps.*.services``, ``apps.*.rules``…) plus each app's
few other domain modules, and the interfaces it must never import. A module in neither list would
escape the contract (as billing's ``rating``, ``vat`` and ``documents`` once did), so this test
classifies every top-level module and package of every app and fails on one that is unplaced. It
also checks what import-linter cannot see: rules import nothing from ``django.db``.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
# Framework glue in every app: neither domain nor an interface.
GLUE = {"__init__", "apps", "migrations", "static", "content", "fleets", "__pycache__"}
# The simulator is a dev tool with its own contracts (it imports only apps.core).
OWN_CONTRACTS = {"pvesim"}


def _contract(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return parser[f"importlinter:contract:{name}"]


def _patterns(section: configparser.SectionProxy, key: str) -> list[str]:
    return [line.strip() for line in section[key].splitlines() if line.strip()]


def _matches(module: str, patterns: list[str]) -> bool:
    # import-linter's "*" stands for exactly one module name, as fnmatch's does within dots here.
    return any(fnmatch.fnmatchcase(module, pattern) and module.count(".") == pattern.count(".") for pattern in patterns)


def _app_modules() -> list[str]:
    modules = []
    for app in sorted(p for p in APPS.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        if app.name in OWN_CONTRACTS:
            continue
        for entry in sorted(app.iterdir()):
            name = entry.stem if entry.suffix == ".py" else entry.name
            if name in GLUE or (entry.is_file() and entry.suffix != ".py"):
                continue
            if entry.is_dir() and not (entry / "__init__.py").exists():
                continue  # data folders (templates, fixtures)
            modules.append(f"apps.{app.name}.{name}")
    return modules


def test_every_app_module_is_domain_or_interface() -> None:
    contract = _contract("interfaces-on-top")
    domain = _patterns(contract, "source_modules")
    interfaces = _patterns(contract, "forbidden_modules")
    modules = _app_modules()
    assert len(modules) > 100, modules  # the walk found the apps
    unplaced = [m for m in modules if not _matches(m, domain) and not _matches(m, interfaces)]
    both = [m for m in modules if _matches(m, domain) and _matches(m, interfaces)]
    assert not unplaced, f"place these in .importlinter's interfaces-on-top contract (domain or interface): {unplaced}"
    assert not both, f"these are both domain and interface in .importlinter: {both}"


def test_the_walk_sees_the_layout() -> None:
    """The classifier itself: packages and modules of the apps are found and matched by package."""
    modules = set(_app_modules())
    assert {"apps.billing.services", "apps.billing.rules", "apps.instances.services", "apps.teams.access"} <= modules
    domain = _patterns(_contract("interfaces-on-top"), "source_modules")
    assert _matches("apps.billing.services", domain)
    assert not _matches("apps.billing.api", domain)
    assert not _matches("apps.billing.services.extra", ["apps.*.services"])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_rules_import_nothing_from_django_db() -> None:
    rule_files = sorted(APPS.glob("*/rules/**/*.py")) + sorted(APPS.glob("*/rules.py"))
    assert rule_files, "no rules modules found"
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n == "django.db" or n.startswith("django.db."))
        for path in rule_files
    }
    assert not {k: v for k, v in offenders.items() if v}
