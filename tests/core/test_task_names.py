"""Celery tasks are named by constants (issue 12).

Each app that has tasks keeps their names in ``apps/<app>/task_names.py``: plain strings, so the
settings (beat schedule, routes) can import them before Django is set up, and ``@shared_task(name=...)``,
``task_enqueue`` and the settings share one spelling (docs/dev/style.md#celery-tasks). A renamed task
whose old name lingers in the beat schedule or a route would never run, or run on the wrong queue,
without any error: these tests make that a failure.
"""

from __future__ import annotations

import ast
import importlib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
TASK_NAME_FILES = sorted((ROOT / "apps").glob("*/task_names.py"))


@pytest.fixture
def registered(db: None) -> set[str]:
    """Registered task names. Celery's Django fixup checks the models on autodiscovery, hence ``db``."""
    return _registered()


def _registered() -> set[str]:
    app.loader.import_default_modules()  # autodiscovery: every installed app's tasks module
    return {name for name in app.tasks if not name.startswith("celery.")}


def _constants() -> dict[str, str]:
    """``apps.<app>.task_names.NAME`` -> task name, for every app's task_names module."""
    found = {}
    for path in TASK_NAME_FILES:
        module_name = f"apps.{path.parent.name}.task_names"
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str):
                found[f"{module_name}.{name}"] = value
    return found


def test_task_names_modules_are_plain_strings() -> None:
    """No import at all (``from __future__`` aside): config/settings/base.py imports them before Django is set up."""
    assert TASK_NAME_FILES, "no apps/*/task_names.py found"
    for path in TASK_NAME_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = [
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        ]
        assert imports == [], f"{path.relative_to(ROOT)} imports something"
        for node in tree.body:
            if isinstance(node, ast.Assign):
                assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str), (
                    f"{path.relative_to(ROOT)}:{node.lineno} is not a plain string"
                )


def test_every_task_name_constant_is_a_registered_task(registered: set[str]) -> None:
    constants = _constants()
    assert constants
    unknown = {where: name for where, name in constants.items() if name not in registered}
    assert unknown == {}


def test_every_task_name_constant_is_unique() -> None:
    constants = _constants()
    assert len(set(constants.values())) == len(constants)


def test_every_task_of_an_app_with_task_names_is_named_by_a_constant(registered: set[str]) -> None:
    """A task of ``apps.<app>`` registered under ``<app>.<verb>`` has its name in ``apps/<app>/task_names.py``."""
    constant_values = set(_constants().values())
    prefixes = {path.parent.name + "." for path in TASK_NAME_FILES}
    unnamed = sorted(name for name in registered if name.startswith(tuple(prefixes)) and name not in constant_values)
    assert unnamed == []


def test_every_beat_schedule_entry_runs_a_registered_task(registered: set[str]) -> None:
    unknown = {
        key: entry["task"] for key, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] not in registered
    }
    assert unknown == {}


def test_every_route_names_a_registered_task(registered: set[str]) -> None:
    """An exact route names a registered task; a glob route (``instances.*``) matches at least one."""
    dead = [
        route
        for route in settings.CELERY_TASK_ROUTES
        if not (route in registered or any(fnmatchcase(name, route) for name in registered))
    ]
    assert dead == []
