"""Every app has the same shape (issue 12; docs/dev/style.md#app-shape), checked from the sources.

A module of services (writes) or selectors (reads) that passes a few hundred lines becomes a
package of one module per topic, its public names re-exported from ``__init__.py``, so a newcomer
finds a behaviour by its topic (``billing/services/dunning.py``) instead of scrolling one long file.
"""

from __future__ import annotations

from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"
# "A few hundred lines": past this, split the module into a package by topic.
MAX_FLAT_MODULE_LINES = 400
LAYERS = ("services", "selectors", "rules")


def _flat_modules() -> dict[str, int]:
    return {
        str(path.relative_to(APPS.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for layer in LAYERS
        for path in sorted(APPS.glob(f"*/{layer}.py"))
    }


def test_no_flat_services_selectors_or_rules_module_is_past_a_few_hundred_lines() -> None:
    modules = _flat_modules()
    assert modules, "the walk found no modules"
    too_long = {name: lines for name, lines in modules.items() if lines > MAX_FLAT_MODULE_LINES}
    assert too_long == {}, f"make these packages, one module per topic, re-exported from __init__.py: {too_long}"


def test_an_app_has_a_module_or_a_package_of_a_layer_never_both() -> None:
    both = [
        f"{app.name}/{layer}"
        for app in sorted(APPS.iterdir())
        for layer in LAYERS
        if (app / f"{layer}.py").exists() and (app / layer / "__init__.py").exists()
    ]
    assert both == []
