"""Page-number pagination with a client-chosen page size (capped), for plain ``APIView`` lists.

``paginate`` answers a list request with one page in the envelope
``{count, next, previous, results}``; ``paginated`` describes that envelope in
the OpenAPI schema (drf-spectacular only wraps lists of generic views itself),
so a list's documented shape is the one it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property, partial
from typing import Any

from django.core.paginator import Paginator as DjangoPaginator
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "per_page"
    max_page_size = 200


def paginate(request: Request, view: APIView, queryset: Any, serializer: type, **context: Any) -> Response:
    """One page of ``queryset`` through ``serializer``, in the pagination envelope."""
    paginator = StandardPagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer(page, many=True, context={"request": request, **context}).data
    return paginator.get_paginated_response(data)


class _LeanCountPaginator(DjangoPaginator):  # type: ignore[type-arg]
    """Counts with ``count_queryset`` (the bare filtered rows) instead of the page's queryset, whose
    display columns would join other tables into the COUNT for nothing."""

    def __init__(self, object_list: Any, per_page: int, *, count_queryset: Any, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.count_queryset = count_queryset

    @cached_property
    def count(self) -> int:
        return int(self.count_queryset.count())


def paginate_rows(
    request: Request,
    view: APIView,
    rows: Any,
    *,
    count_queryset: Any,
    represent: Callable[[Sequence[Any]], list[dict[str, Any]]],
) -> Response:
    """One page of pre-shaped ``rows`` (``values_list``), counted on ``count_queryset``, in the envelope."""
    paginator = StandardPagination()
    paginator.django_paginator_class = partial(_LeanCountPaginator, count_queryset=count_queryset)  # type: ignore[assignment]
    page: list[Any] | None = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(represent(page or []))


_PAGES: dict[type, type[serializers.Serializer[Any]]] = {}


def paginated(serializer: type[serializers.BaseSerializer[Any]]) -> serializers.Serializer[Any]:
    """The schema of a page of ``serializer`` items: ``Paginated<Name>List`` in the OpenAPI components."""
    if serializer not in _PAGES:
        name = serializer.__name__.removesuffix("Serializer")
        _PAGES[serializer] = type(
            f"Paginated{name}ListSerializer",
            (serializers.Serializer,),
            {
                "__doc__": f"One page of {name} items; follow `next` for the following page.",
                "count": serializers.IntegerField(help_text="Items in all pages."),
                "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last."),
                "previous": serializers.URLField(allow_null=True, help_text="The previous page, or null on the first."),
                "results": serializer(many=True),
            },
        )
    return _PAGES[serializer]()
