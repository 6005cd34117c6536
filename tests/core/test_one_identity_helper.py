"""One answer to "who acts": no app re-implements the core identity and audit helpers (issue 12).

``apps.core.actors`` owns the ``Actor`` type and the questions asked of it (``actor_user``,
``actor_token_prefix``, ``actor_is_back_office_staff``); ``apps.core.services.audit_record`` is the one
audit call and derives the user and token from the actor itself (``docs/dev/style.md#services``). A
local ``_user()`` or ``_audit()`` wrapper, or a module's own ``Actor = ...`` alias, is a second answer
that drifts from the first (a wrapper that forgets the token, a kind decided differently), so this test
parses every module under ``apps/`` and refuses them. Importing the core names (and re-exporting them,
as ``apps.teams.access`` does) is fine: only definitions count.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
# The two modules that own these names.
OWNERS = {"apps/core/actors.py", "apps/core/services.py"}
FORBIDDEN_FUNCTIONS = {"_user", "_audit", "actor_user", "audit_record", "actor_token_prefix"}
FORBIDDEN_MODULE_NAMES = {"Actor"}


def _assigned_names(node: ast.stmt) -> list[str]:
    """Names a module-level statement binds by assignment (``X = ...``, ``X: T = ...``, ``type X = ...``)."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    elif hasattr(ast, "TypeAlias") and isinstance(node, ast.TypeAlias):  # Python 3.12+
        targets = [node.name]
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    relative = path.relative_to(root).as_posix()
    if relative in OWNERS:
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in FORBIDDEN_FUNCTIONS:
            found.append(f"{relative}:{node.lineno}: defines {node.name}() (use apps.core.actors / audit_record)")
    for node in tree.body:
        for name in _assigned_names(node):
            if name in FORBIDDEN_MODULE_NAMES:
                found.append(f"{relative}:{node.lineno}: assigns {name} (import it from apps.core.actors)")
    return found


def test_no_app_reimplements_the_identity_or_audit_helpers() -> None:
    offences = [offence for path in sorted(APPS.rglob("*.py")) for offence in _offences(path)]
    assert offences == [], "\n".join(offences)


def test_the_checker_catches_each_forbidden_definition(tmp_path: Path) -> None:
    """The checker itself: each forbidden shape is reported, an import of the core names is not."""
    source = (
        "from apps.core.actors import Actor as CoreActor, actor_user\n"
        "Actor = object\n"
        "def _user(actor): return actor\n"
        "class Thing:\n"
        "    def _audit(self): pass\n"
    )
    probe = tmp_path / "apps" / "probe.py"
    probe.parent.mkdir()
    probe.write_text(source, encoding="utf-8")
    offences = _offences(probe, root=tmp_path)
    assert [o.split(": ", 1)[1] for o in offences] == [
        "defines _user() (use apps.core.actors / audit_record)",
        "defines _audit() (use apps.core.actors / audit_record)",
        "assigns Actor (import it from apps.core.actors)",
    ]
