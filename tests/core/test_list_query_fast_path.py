"""A list query of plain integers skips the DRF serializer (apps.core.api.queries): same values, never other errors.

``list_query`` reads ``page``, ``per_page`` and id filters without building
the serializer when every value is ASCII digits within the field's bounds
(``benchmarks/instance_list_bench.py`` measured the serializer as the list's
largest Python cost). These tests hold every list's query serializer to it:
whenever the shortcut answers, the serializer accepts the same input and
returns the same values in the same order; anything else goes to the
serializer (and its error messages).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from apps.core.api.queries import ListQuerySerializer, _plain_values, _query_shape


def _query_classes() -> list[type[ListQuerySerializer]]:
    import config.urls  # noqa: F401 - imports every API's views, hence every list's query serializer

    found: list[type[ListQuerySerializer]] = []
    todo = [ListQuerySerializer]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


INPUTS: list[dict[str, Any]] = [
    {},
    {"per_page": "50"},
    {"per_page": "200"},
    {"per_page": "201"},
    {"per_page": "0"},
    {"per_page": "007"},
    {"per_page": "+5"},
    {"per_page": "-5"},
    {"per_page": " 5"},
    {"per_page": "5.0"},
    {"per_page": "1_0"},
    {"per_page": "٣"},  # an Arabic-Indic digit: not ASCII
    {"per_page": ""},
    {"per_page": "9" * 30},
    {"page": "last"},
    {"page": "Last"},
    {"page": "2", "per_page": "3"},
    {"page": "2147483647"},
    {"page": "2147483648"},
    {"organisation": "1"},
    {"organisation": "0"},
    {"organisation": "9223372036854775807"},
    {"organisation": "9223372036854775808"},
    {"project": "12", "per_page": "10"},
    {"status": ["running"]},
    {"name": "web"},
]


@pytest.mark.parametrize("query_class", _query_classes(), ids=lambda c: c.__qualname__)
def test_the_shortcut_returns_what_the_serializer_does(query_class: type[ListQuerySerializer]) -> None:
    shape = _query_shape(query_class)
    for data in INPUTS:
        data = {key: value for key, value in data.items() if key in shape.accepted}
        fast = _plain_values(shape, data)
        if fast is None:
            continue
        serializer = query_class(data=data)
        assert serializer.is_valid(), (data, serializer.errors)
        assert list(fast.items()) == list(serializer.validated_data.items()), data


def test_the_instance_list_of_the_benchmark_takes_the_shortcut() -> None:
    from apps.instances.api.serializers import InstanceListQuerySerializer

    shape = _query_shape(InstanceListQuerySerializer)
    assert _plain_values(shape, {"per_page": "50"}) == {"per_page": 50}
    assert _plain_values(shape, {"page": "last", "organisation": "3"}) == {"page": "last", "organisation": 3}
    assert _plain_values(shape, {"per_page": "201"}) is None
    assert _plain_values(shape, {"status": ["running"]}) is None


class _WithDefault(ListQuerySerializer):
    unread = serializers.BooleanField(required=False, default=False)


class _WithValidate(ListQuerySerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs


class _WithFieldMethod(ListQuerySerializer):
    def validate_per_page(self, value: int) -> int:
        return value


@pytest.mark.parametrize("query_class", [_WithDefault, _WithValidate])
def test_a_serializer_that_validates_more_never_takes_the_shortcut(query_class: type[ListQuerySerializer]) -> None:
    assert _plain_values(_query_shape(query_class), {"per_page": "50"}) is None


def test_a_field_with_its_own_method_never_takes_the_shortcut() -> None:
    shape = _query_shape(_WithFieldMethod)
    assert _plain_values(shape, {"per_page": "50"}) is None
    assert _plain_values(shape, {"page": "2"}) == {"page": 2}
