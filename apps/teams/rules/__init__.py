"""Pure rules of teams: no database, no model imported (``docs/dev/style.md#app-shape``).

* ``tokens``: the format of API and invitation tokens, their checksum and their hash at rest;
* ``role_table``: the role table of the docs, built from ``ROLE_PERMISSIONS``.
"""
