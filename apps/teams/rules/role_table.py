"""The role table of the docs (``apps/docs/content/roles-and-permissions.md``), from ROLE_PERMISSIONS.

A test compares the page's table with this output, so the published table
cannot drift from the code. Regenerate with::

    .venv/bin/python -c "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.local'; \
django.setup(); from apps.teams.rules.role_table import roles_markdown; print(roles_markdown())"
"""

from __future__ import annotations

from apps.teams.choices import ROLE_PERMISSIONS, Permission, Role


def roles_markdown() -> str:
    roles = list(Role)
    header = "| Permission | What it allows | " + " | ".join(str(r.label) for r in roles) + " |"
    rule = "|---|---|" + "|".join(":-:" for _ in roles) + "|"
    rows = [
        f"| `{p.value}` | {p.label} | " + " | ".join("✓" if p in ROLE_PERMISSIONS[r] else "—" for r in roles) + " |"
        for p in Permission
    ]
    return "\n".join([header, rule, *rows])
