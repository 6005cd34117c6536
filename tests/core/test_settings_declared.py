"""Every setting the code reads is declared in ``config/settings/base.py`` (issue 12).

``docs/dev/style.md#settings``: a setting the code reads is declared in ``base.py`` with a comment saying
what it does and its unit, so an operator finds every knob in one file and a typo in a name is an
``AttributeError`` at the first read, not a silent default hidden in a ``getattr(settings, "X", default)``
somewhere in an app. This test parses (ast) every module under ``apps/`` and ``config/``, collects each
``settings.NAME`` and ``getattr(settings, "NAME", ...)``, and checks the name is assigned in ``base.py``
or is one of Django's own settings (``django.conf.global_settings``). The environment files
(``test.py``, ``local.py``, ``production.py``, ``build.py``) only override: each name they assign is
declared in ``base.py`` or is Django's.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import global_settings

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "config" / "settings" / "base.py"
OVERRIDING = ("test.py", "local.py", "production.py", "build.py")
DJANGO_DEFAULTS = frozenset(name for name in dir(global_settings) if name.isupper())
# Settings of third-party packages that our code reads without base.py declaring them, each with
# the reason. Empty: every one the code reads is declared in base.py (REST_FRAMEWORK, CELERY_*, ...).
THIRD_PARTY: dict[str, str] = {}


def _reads(path: Path) -> list[tuple[str, int]]:
    """(setting name, line) for each ``settings.NAME`` and ``getattr/hasattr(settings, "NAME", ...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "settings":
            if node.attr.isupper():
                found.append((node.attr, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr"}
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "settings"
        ):
            name = node.args[1]
            found.append((name.value if isinstance(name, ast.Constant) else "<not a literal name>", node.lineno))
    return found


def _assigned(path: Path, *, module_level_only: bool = False) -> dict[str, int]:
    """Upper-case names a settings module assigns, with the line of their first assignment."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names: dict[str, int] = {}
    for node in nodes:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id.isupper():
                    names.setdefault(sub.id, node.lineno)
    return names


def _read_settings() -> dict[str, list[str]]:
    reads: dict[str, list[str]] = {}
    for top in ("apps", "config"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.parent == BASE.parent:
                continue
            for name, line in _reads(path):
                reads.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{line}")
    return reads


def test_every_setting_the_code_reads_is_declared_in_base() -> None:
    declared = _assigned(BASE)
    missing = {
        name: where
        for name, where in _read_settings().items()
        if name not in declared and name not in DJANGO_DEFAULTS and name not in THIRD_PARTY
    }
    assert missing == {}, "declare these in config/settings/base.py (with a comment: what, unit): " + "; ".join(
        f"{name} read at {', '.join(where)}" for name, where in sorted(missing.items())
    )


def test_every_project_setting_the_code_reads_has_a_comment_in_base() -> None:
    """Its declaration carries a comment: at the end of its first line, or on the line just above it."""
    lines = BASE.read_text(encoding="utf-8").splitlines()
    declared = _assigned(BASE)
    uncommented = []
    for name in sorted(set(_read_settings()) - DJANGO_DEFAULTS - set(THIRD_PARTY)):
        number = declared.get(name)
        if number is None:
            continue  # reported by the test above
        line, above = lines[number - 1], lines[number - 2] if number > 1 else ""
        if "#" not in line and not above.lstrip().startswith("#"):
            uncommented.append(f"{name} (config/settings/base.py:{number})")
    assert uncommented == []


def test_environment_settings_files_only_override() -> None:
    declared = _assigned(BASE)
    new = [
        f"config/settings/{filename}:{line}: {name}"
        for filename in OVERRIDING
        for name, line in _assigned(BASE.parent / filename, module_level_only=True).items()
        if name not in declared and name not in DJANGO_DEFAULTS
    ]
    assert new == [], "declare these in base.py first; the environment files only override"


def test_the_collector_sees_both_spellings(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from django.conf import settings\n"
        "a = settings.SOME_SETTING\n"
        "b = getattr(settings, 'OTHER_SETTING', 3)\n"
        "c = getattr(settings, name)\n"
        "settings.configure\n",
        encoding="utf-8",
    )
    assert _reads(probe) == [("SOME_SETTING", 2), ("OTHER_SETTING", 3), ("<not a literal name>", 4)]
