"""The API's JSON parser: a body nested too deeply is a 400, not a ``RecursionError`` (500).

Python's ``json`` decoder recurses once per nesting level and raises
``RecursionError`` past the interpreter's recursion limit (about 1,000 levels);
DRF's ``JSONParser`` only turns ``ValueError`` into a ``ParseError``.
Docs: https://www.django-rest-framework.org/api-guide/parsers/#custom-parsers
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON parse error: the body is nested too deeply.")) from exc
