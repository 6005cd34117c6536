"""URL path converters shared by every app.

``<id:name>`` is a database id in a path. Django's ``<int:…>`` takes any
number of digits, and a 20-digit id overflows SQLite's 64-bit integers (a 500
instead of a 404). An id here has 1 to 18 digits, so it always fits a bigint;
a longer one matches no route and is the ordinary 404 (the API's JSON 404
under ``/api/``). The OpenAPI schema states the same bounds
(``PATH_CONVERTER_OVERRIDES`` in ``config/settings/base.py``).
"""

from __future__ import annotations

ID_MAX = 10**18 - 1


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))
