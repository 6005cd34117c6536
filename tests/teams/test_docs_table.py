"""The published role table is exactly ROLE_PERMISSIONS."""

from __future__ import annotations

import re
from pathlib import Path

from apps.teams.choices import ROLE_PERMISSIONS, Permission, Role
from apps.teams.rules.role_table import roles_markdown

PAGE = Path(__file__).resolve().parents[2] / "apps" / "docs" / "content" / "roles-and-permissions.md"


def parse_table(markdown: str) -> dict[str, set[str]]:
    """{role label: {permission values}} read from the page's table."""
    lines = [line for line in markdown.splitlines() if line.startswith("| `") or line.startswith("| Permission")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    roles = header[2:]
    granted: dict[str, set[str]] = {role: set() for role in roles}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        permission = re.sub(r"`", "", cells[0])
        for role, cell in zip(roles, cells[2:], strict=True):
            if cell == "✓":
                granted[role].add(permission)
    return granted


def test_docs_role_table_matches_the_code():
    published = parse_table(PAGE.read_text(encoding="utf-8"))
    expected = {str(role.label): {p.value for p in ROLE_PERMISSIONS[role]} for role in Role}
    assert published == expected


def test_docs_table_lists_every_permission_once():
    text = PAGE.read_text(encoding="utf-8")
    for permission in Permission:
        assert text.count(f"| `{permission.value}` |") == 1
    assert roles_markdown() in text
