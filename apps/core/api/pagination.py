"""Page-number pagination with a client-chosen page size (capped), for plain ``APIView`` lists.

``paginate`` answers a list request with one page in the envelope
``{count, next, previous, page, per_page, last_page, results}`` and an RFC 8288
``Link`` header (``rel`` first, prev, next, last) plus ``X-Total-Count``, the
way GitHub's and Hetzner's APIs tell a client where it is;
``paginated`` describes that envelope in the OpenAPI schema (drf-spectacular
only wraps lists of generic views itself), so a list's documented shape is the
one it returns. ``page`` and ``per_page`` are validated strictly (400 for
``per_page=0`` or ``page=abc``); a page past the last answers an empty
``results`` with the links back.
Docs: https://www.rfc-editor.org/rfc/rfc8288 and apps/docs/content/api-overview.md ("Pagination").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property, partial
from typing import Any

from django.core.paginator import Page
from django.core.paginator import Paginator as DjangoPaginator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apps.core.api.queries import PAGE_MAX, PER_PAGE_DEFAULT, PER_PAGE_MAX


def _bounded(request: Request, name: str, default: int, maximum: int) -> int:
    values = request.query_params.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ValidationError({name: [_("Give this parameter once.")]})
    value = values[0]
    if not (value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= maximum):
        raise ValidationError({name: [_("Give a whole number from 1 to %(max)d.") % {"max": maximum}]})
    return int(value)


class StandardPagination(PageNumberPagination):
    page_size = PER_PAGE_DEFAULT
    page_size_query_param = "per_page"
    max_page_size = PER_PAGE_MAX

    def get_page_size(self, request: Request) -> int:
        return _bounded(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> list[Any]:
        self.request = self._request = request
        self.per_page = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, self.per_page)
        if request.query_params.get(self.page_query_param) in self.last_page_strings:  # DRF's ``page=last``
            number = paginator.num_pages
        else:
            number = _bounded(request, self.page_query_param, 1, PAGE_MAX)
        if number > paginator.num_pages:
            # Past the end: an empty page that still links back (no 404 a client must special-case).
            self._current: Page[Any] = Page([], number, paginator)
        else:
            self._current = paginator.page(number)
        self.page = self._current
        return list(self._current.object_list)  # iterating the Page itself calls ``__getitem__`` per item

    @cached_property
    def _absolute_url(self) -> str:
        # Once per response: the Link header and the envelope name up to four pages of the same URL.
        return self._request.build_absolute_uri()

    def _url(self, number: int) -> str:
        url = self._absolute_url
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)

    def get_next_link(self) -> str | None:
        return self._url(self._current.number + 1) if self._current.number < self._current.paginator.num_pages else None

    def get_previous_link(self) -> str | None:
        if self._current.number <= 1:
            return None
        return self._url(min(self._current.number - 1, self._current.paginator.num_pages))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The envelope for generic list views (drf-spectacular wraps their lists with this)."""
        result = super().get_paginated_response_schema(schema)
        result["properties"] = {
            **result["properties"],
            "page": {"type": "integer", "minimum": 1, "example": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "example": PER_PAGE_DEFAULT},
            "last_page": {"type": "integer", "minimum": 1, "example": 3},
        }
        result["required"] = ["count", "next", "previous", "page", "per_page", "last_page", "results"]
        return result

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_MAX},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page, 1 to {PER_PAGE_MAX} (default {PER_PAGE_DEFAULT}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
            },
        ]

    def get_paginated_response(self, data: Any) -> Response:
        last = self._current.paginator.num_pages
        count = self._current.paginator.count
        next_link, previous_link = self.get_next_link(), self.get_previous_link()
        links = [f'<{self._url(1)}>; rel="first"']
        if previous_link:
            links.append(f'<{previous_link}>; rel="prev"')
        if next_link:
            links.append(f'<{next_link}>; rel="next"')
        links.append(f'<{self._url(last)}>; rel="last"')
        body = {
            "count": count,
            "next": next_link,
            "previous": previous_link,
            "page": self._current.number,
            "per_page": self.per_page,
            "last_page": last,
            "results": data,
        }
        return Response(body, headers={"Link": ", ".join(links), "X-Total-Count": str(count)})


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
                "page": serializers.IntegerField(min_value=1, help_text="This page's number, from 1."),
                "per_page": serializers.IntegerField(min_value=1, max_value=PER_PAGE_MAX, help_text="Items per page."),
                "last_page": serializers.IntegerField(
                    min_value=1, help_text="The last page's number (1 when there are no items)."
                ),
                "results": serializer(many=True),
            },
        )
    return _PAGES[serializer]()


# The headers of every page (documented on the list's 200 response).
PAGE_HEADERS = [
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description='RFC 8288 links to the `rel="first"`, `"prev"`, `"next"` and `"last"` pages.',
    ),
    OpenApiParameter(
        "X-Total-Count", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[200], description="Items in all pages."
    ),
]


def list_parameters(query: type[serializers.Serializer[Any]], *more: Any) -> list[Any]:
    """``extend_schema(parameters=...)`` of a list: ``more`` (path parameters), its query parameters, page headers."""
    return [*more, query, *PAGE_HEADERS]
