"""The tests have one set of personas: the ``personas`` fixture of ``tests/conftest.py``.

Each app once built its own owner, member and outsider under its own names, with
different fields (``docs/dev/style.md#tests`` asks for one set). These checks read
the sources, so a second definition fails here before anyone relies on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT_CONFTEST = TESTS / "conftest.py"


def _functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_personas_is_defined_in_the_root_conftest():
    assert "personas" in _functions(ROOT_CONFTEST)


def test_no_other_conftest_defines_personas():
    others = [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("conftest.py"))
        if path != ROOT_CONFTEST and "personas" in _functions(path)
    ]
    assert others == [], "define personas once, in tests/conftest.py; build on it under another name"


def test_no_test_module_defines_a_personas_fixture_of_its_own():
    # A test module's fixture would shadow the shared one just as silently as a conftest's.
    others = [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "conftest.py" and "personas" in _functions(path)
    ]
    assert others == []
