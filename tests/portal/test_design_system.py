"""The design system's promises: every vocabulary class exists and colour pairs meet WCAG AA contrast."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "vmcloud.css").read_text(encoding="utf-8")

# COMMON.md "Portal design vocabulary": other apps' templates rely on these names.
VOCABULARY = [
    "page-header",
    "stack",
    "grid",
    "cluster",
    "card",
    "card-header",
    "card-body",
    "btn",
    "btn-primary",
    "btn-secondary",
    "btn-danger",
    "btn-sm",
    "field",
    "field-help",
    "field-error",
    "form-errors",
    "table",
    "table-wrap",
    "badge",
    "badge-success",
    "badge-warning",
    "badge-danger",
    "badge-info",
    "badge-muted",
    "alert",
    "alert-success",
    "alert-warning",
    "alert-danger",
    "alert-info",
    "muted",
    "empty-state",
    "tabs",
    "code",
    "copy-btn",
]


def _block(selector: str) -> dict[str, str]:
    match = re.search(re.escape(selector) + r"\s*\{(.*?)\n\s*\}", CSS, re.DOTALL)
    assert match, f"no {selector} block in vmcloud.css"
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", match.group(1)))


LIGHT = _block(":root")
DARK = {**LIGHT, **_block(':root[data-theme="dark"]')}
SYSTEM_DARK = _block(":root:not([data-theme])")


def _luminance(hex_colour: str) -> float:
    value = hex_colour.strip().lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


TEXT_PAIRS = [
    ("--color-text", "--color-bg"),
    ("--color-text", "--color-surface"),
    ("--color-text", "--color-surface-2"),
    ("--color-text-muted", "--color-bg"),
    ("--color-text-muted", "--color-surface"),
    ("--color-text-muted", "--color-surface-2"),
    ("--color-link", "--color-bg"),
    ("--color-link", "--color-surface"),
    ("--color-on-primary", "--color-primary"),
    ("--color-on-primary", "--color-primary-hover"),
    ("--color-on-danger", "--color-danger"),
    ("--color-success-fg", "--color-success-bg"),
    ("--color-warning-fg", "--color-warning-bg"),
    ("--color-danger-fg", "--color-danger-bg"),
    ("--color-info-fg", "--color-info-bg"),
    ("--color-muted-fg", "--color-muted-bg"),
    ("--code-fg", "--code-bg"),
    ("--mark-fg", "--mark-bg"),
    ("--color-danger-fg", "--color-surface"),
]
# Non-text UI (input borders, focus ring) needs 3:1 (WCAG 1.4.11).
UI_PAIRS = [("--color-border-strong", "--color-surface"), ("--color-focus", "--color-bg")]


@pytest.mark.parametrize("name", VOCABULARY)
def test_every_vocabulary_class_is_styled(name):
    assert re.search(r"\." + re.escape(name) + r"(?![\w-])", CSS), f".{name} is not in vmcloud.css"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_colours_meet_aa_contrast(theme, fg, bg):
    tokens = LIGHT if theme == "light" else DARK
    ratio = contrast(tokens[fg], tokens[bg])
    assert ratio >= 4.5, f"{theme}: {fg} on {bg} is {ratio:.2f}:1"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("fg", "bg"), UI_PAIRS)
def test_ui_colours_meet_non_text_contrast(theme, fg, bg):
    tokens = LIGHT if theme == "light" else DARK
    ratio = contrast(tokens[fg], tokens[bg])
    assert ratio >= 3, f"{theme}: {fg} on {bg} is {ratio:.2f}:1"


def test_system_dark_theme_uses_the_same_colours_as_the_dark_toggle():
    for name, value in SYSTEM_DARK.items():
        assert DARK[name] == value, f"{name} differs between the toggle and prefers-color-scheme"


def test_no_web_fonts_or_remote_urls():
    assert "@import" not in CSS
    assert "@font-face" not in CSS
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", CSS)
