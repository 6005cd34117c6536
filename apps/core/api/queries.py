"""Query parameters of the API, validated strictly: bounded integers, list filters, sorting, label selectors.

Every list declares one ``ListQuerySerializer`` subclass: its fields are the
query parameters the list accepts (documented in the OpenAPI schema with their
types, enums and bounds by ``parameters=[TheSerializer]``), and
``list_query`` refuses anything else with a 400 in the one error body:

* a parameter the list does not know (a script filtering on ``?stauts=`` must
  not act on every row);
* a parameter given twice that is not a list (``status`` may repeat,
  ``name`` may not);
* an empty value (``?until=``), a value of the wrong type or out of bounds.

``ListQuery.apply`` then filters (``lookups``: parameter -> ORM lookup),
selects by labels (``label_field``) and sorts (``sort_fields``; ``sort`` may
repeat: ``sort=status:asc&sort=created_at:desc``). Integer inputs anywhere in
the API use ``BoundedIntegerField`` / ``IdField`` so that no number reaches the
database outside its column's range.
Docs: apps/docs/content/api-overview.md ("Filtering, sorting and pagination").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from apps.core.api.fields import INT32_MAX, BoundedIntegerField, IdField
from apps.core.labels import MAX_SELECTOR_LENGTH, SELECTOR_PATTERN, Requirement, label_selector_parse, label_selector_q

PAGE_MAX = INT32_MAX
PER_PAGE_MAX = 200
PER_PAGE_DEFAULT = 50


class PageField(serializers.IntegerField):
    """``page``: 1 to ``PAGE_MAX``; DRF's ``last`` is still understood (the pagination class resolves it)."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data == "last":  # no bounds to check: the pagination class reads it
            return data
        return super().run_validation(data)


class LabelSelectorField(serializers.CharField):
    """A label selector (``env=prod,tier in (web,api),!legacy``), parsed into requirements."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_SELECTOR_LENGTH)
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "Only resources whose labels match, e.g. `env=prod,tier in (web,api),!legacy`. Requirements "
                "(comma-separated, all must hold): `k=v` (or `k==v`), `k!=v`, `k`, `!k`, `k in (a,b)`, "
                "`k notin (a,b)`; `!=` and `notin` also match resources without the key."
            ),
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Requirement]:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            return label_selector_parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def multiple_choice(choices: Any, *, help_text: Any = "") -> serializers.ListField:
    """A filter that may repeat (``?status=running&status=stopped``): rows matching any of the values."""
    return serializers.ListField(
        child=serializers.ChoiceField(choices=choices),
        required=False,
        min_length=1,
        max_length=50,
        help_text=help_text or gettext_lazy("Repeat to match any of several values."),
    )


class ListQuerySerializer(serializers.Serializer):
    """The query parameters of a list: ``page`` and ``per_page`` here, the list's filters in a subclass.

    Class attributes of a subclass:

    * ``lookups``: filter parameter -> ORM lookup (``{"status": "status__in"}``);
      a parameter without a lookup is read by the view itself;
    * ``sort_fields``: public sort name -> ORM field; adds the ``sort`` parameter;
    * ``label_field``: the JSONField of labels; adds ``label_selector``;
    * ``tiebreaker``: appended to every sort so that pages never overlap.
    """

    lookups: ClassVar[Mapping[str, str]] = {}
    sort_fields: ClassVar[Mapping[str, str]] = {}
    label_field: ClassVar[str | None] = None
    tiebreaker: ClassVar[str] = "pk"

    page = PageField(required=False, min_value=1, max_value=PAGE_MAX, help_text=gettext_lazy("Page number, from 1."))
    per_page = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=PER_PAGE_MAX,
        help_text=gettext_lazy("Items per page, 1 to 200 (default 50)."),
    )

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        if self.sort_fields:
            choices = [f"{name}{suffix}" for name in self.sort_fields for suffix in ("", ":asc", ":desc")]
            fields["sort"] = serializers.ListField(
                child=serializers.ChoiceField(choices=choices),
                required=False,
                min_length=1,
                max_length=len(self.sort_fields),
                help_text=_(
                    "Sort by `field`, `field:asc` or `field:desc`; repeat for several keys "
                    "(a field named twice counts once). Fields: %s."
                )
                % ", ".join(f"`{name}`" for name in self.sort_fields),
            )
        if self.label_field:
            fields["label_selector"] = LabelSelectorField(required=False)
        return fields

    def validate_sort(self, value: list[str]) -> list[str]:
        """A field named twice counts once, at its first place (later ones could never change the order)."""
        seen: set[str] = set()
        kept = []
        for item in value:
            name = item.partition(":")[0]
            if name not in seen:
                seen.add(name)
                kept.append(item)
        return kept


def _unknown_message(known: Iterable[str]) -> str:
    return _("Unknown query parameter. This list accepts: %(known)s.") % {"known": ", ".join(sorted(known))}


# Integer fields whose whole validation is ``int()`` of the text and their bounds (no method of their own).
_PLAIN_INTEGER_FIELDS = (serializers.IntegerField, BoundedIntegerField, IdField, PageField)
# Digits that always fit an ``int`` without DRF's ``MAX_STRING_LENGTH`` or Python's digit limit in play.
_PLAIN_DIGITS_MAX = 18


@dataclass(frozen=True)
class _QueryShape:
    """What validating a query needs to know of a serializer class's fields, read once per class.

    Building a serializer deep-copies every declared field (and ``get_fields``
    builds ``sort`` and ``label_selector`` anew): for a list's dozen
    parameters that was most of the cost of ``list_query``, paid twice per
    request (``benchmarks/instance_list_bench.py``). The names and kinds of
    the fields do not change between requests, so they are read once here;
    the fields themselves are still built per validation (their error
    messages are formatted in the request's language, and DRF caches a
    formatted message on the field).
    """

    accepted: tuple[str, ...]  # writable fields, in field order
    repeatable: frozenset[str]  # ``ListField`` parameters
    # Plain integer parameters: name -> (min, max, also "last"), when the serializer validates nothing
    # else on its own (no ``validate``, defaults or required fields); empty otherwise.
    integers: Mapping[str, tuple[int, int, bool]]


_SHAPES: dict[type, _QueryShape] = {}


def _is_plain_integer(serializer_class: type, name: str, field: Any) -> bool:
    return (
        type(field) in _PLAIN_INTEGER_FIELDS
        and field.source == name
        and isinstance(field.min_value, int)
        and isinstance(field.max_value, int)
        and all(isinstance(v, MinValueValidator | MaxValueValidator) for v in field.validators)
        and getattr(serializer_class, f"validate_{name}", None) is None
    )


def _query_shape(serializer_class: type[serializers.Serializer[Any]]) -> _QueryShape:
    shape = _SHAPES.get(serializer_class)
    if shape is not None:
        return shape
    fields: dict[str, Any] = dict(serializer_class().fields)
    accepted = tuple(name for name, field in fields.items() if not field.read_only)
    plain = (
        serializer_class.validate is serializers.Serializer.validate
        and serializer_class.to_internal_value is serializers.Serializer.to_internal_value
        and serializer_class.run_validation is serializers.Serializer.run_validation
        and not getattr(getattr(serializer_class, "Meta", None), "validators", None)
        and all(not fields[name].required and fields[name].default is serializers.empty for name in accepted)
    )
    shape = _QueryShape(
        accepted=accepted,
        repeatable=frozenset(name for name in accepted if isinstance(fields[name], serializers.ListField)),
        integers={
            name: (fields[name].min_value, fields[name].max_value, isinstance(fields[name], PageField))
            for name in accepted
            if plain and _is_plain_integer(serializer_class, name, fields[name])
        },
    )
    _SHAPES[serializer_class] = shape
    return shape


def query_data(request: Request, serializer_class: type[serializers.Serializer[Any]]) -> dict[str, Any]:
    """The query string as serializer input; unknown or repeated parameters become field errors.

    A plain dict, not the ``QueryDict``: DRF treats an empty value of an optional
    field in form-like input as "not given", and ``?until=`` must be a 400.
    """
    shape = _query_shape(serializer_class)
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        if key not in shape.accepted:
            errors[key] = [_unknown_message(shape.accepted)]
        elif key in shape.repeatable:
            data[key] = values
        elif len(values) > 1:
            errors[key] = [_("Give this parameter once.")]
        else:
            data[key] = values[0]
    if errors:
        raise ValidationError(errors)
    return data


def _plain_values(shape: _QueryShape, data: Mapping[str, str]) -> dict[str, Any] | None:
    """``validated_data`` of ``data`` when it holds only plain integers in bounds (``page=last`` too), else None.

    The same values the serializer would return (``int()`` of ASCII digits,
    fields in their order), without building it: a list read with no
    parameter but ``per_page`` (the common case) skips DRF altogether.
    Anything else (a filter, a sign, a value out of bounds) returns None and
    goes through the serializer, errors included.
    """
    if not shape.integers or not data.keys() <= shape.integers.keys():
        return None
    values: dict[str, Any] = {}
    for name in shape.accepted:
        if name not in data:
            continue
        text = data[name]
        minimum, maximum, last = shape.integers[name]
        if last and text == "last":
            values[name] = text
            continue
        if not (text.isascii() and text.isdigit() and len(text) <= _PLAIN_DIGITS_MAX):
            return None
        number = int(text)
        if not minimum <= number <= maximum:
            return None
        values[name] = number
    return values


def _validated(request: Request, serializer_class: type[serializers.Serializer[Any]]) -> dict[str, Any]:
    data = query_data(request, serializer_class)
    values = _plain_values(_query_shape(serializer_class), data)
    if values is None:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
    return values


def query_refuse_unknown(request: Request, allowed: Iterable[str]) -> None:
    """400 for any query parameter outside ``allowed``: for lists filtered by django-filter."""
    known = sorted(set(allowed))
    unknown = [key for key in request.query_params if key not in known]
    if unknown:
        raise ValidationError({key: [_unknown_message(known)] for key in unknown})


class ListQuery:
    """A validated list query: its values, and how to apply them to a queryset."""

    def __init__(self, query_class: type[ListQuerySerializer], values: dict[str, Any]) -> None:
        self.query_class = query_class
        self.values = values

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def filter_q(self) -> Q:
        """The filters with a lookup, and the label selector, as one ``Q``."""
        q = Q()
        for name, lookup in self.query_class.lookups.items():
            if name in self.values:
                q &= Q(**{lookup: self.values[name]})
        requirements = self.values.get("label_selector")
        if requirements and self.query_class.label_field:
            q &= label_selector_q(requirements, field=self.query_class.label_field)
        return q

    def ordering(self) -> list[Any] | None:
        """``order_by`` arguments for ``sort`` (with the tiebreaker), or None to keep the default order."""
        sort = self.values.get("sort")
        if not sort:
            return None
        order: list[Any] = []
        for item in sort:
            name, _sep, direction = item.partition(":")
            column = F(self.query_class.sort_fields[name])
            order.append(column.desc(nulls_last=True) if direction == "desc" else column.asc(nulls_first=True))
        order.append(self.query_class.tiebreaker)
        return order

    def apply(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.filter(self.filter_q())
        order = self.ordering()
        return queryset.order_by(*order) if order is not None else queryset


def list_query(request: Request, serializer_class: type[ListQuerySerializer]) -> ListQuery:
    """Validate the request's query string against ``serializer_class`` (400 on anything wrong)."""
    return ListQuery(serializer_class, _validated(request, serializer_class))


def query_validate(request: Request, serializer_class: type[serializers.Serializer[Any]]) -> dict[str, Any]:
    """Validate a non-list endpoint's query string strictly; returns the validated values."""
    return _validated(request, serializer_class)


class PageQuerySerializer(ListQuerySerializer):
    """A list with no filters: only ``page`` and ``per_page``."""


class LabelSelectorFieldSchema(OpenApiSerializerFieldExtension):
    """The OpenAPI schema of ``label_selector``: a string whose ``pattern`` is the selector grammar."""

    target_class = LabelSelectorField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": MAX_SELECTOR_LENGTH, "pattern": SELECTOR_PATTERN}
