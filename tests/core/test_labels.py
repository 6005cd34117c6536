"""Labels and label selectors (apps.core.labels): validation, the parser, the published pattern, and the Q.

The Q is checked on a real table (instances' ``labels`` JSONField) so the
semantics hold on the database the suite runs on (PostgreSQL); the same
expressions are Django's portable JSON key transforms, which SQLite supports.
"""

from __future__ import annotations

import re

import pytest

from apps.core.errors import ValidationFailed
from apps.core.labels import (
    SELECTOR_PATTERN,
    Requirement,
    label_selector_parse,
    label_selector_q,
    labels_validate,
)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env=prod", [Requirement("env", "=", ("prod",))]),
        ("env==prod", [Requirement("env", "=", ("prod",))]),
        ("env != prod", [Requirement("env", "!=", ("prod",))]),
        ("env=", [Requirement("env", "=", ("",))]),
        ("legacy", [Requirement("legacy", "exists")]),
        ("!legacy", [Requirement("legacy", "!exists")]),
        ("tier in (web, api)", [Requirement("tier", "in", ("web", "api"))]),
        ("tier notin (web,api)", [Requirement("tier", "notin", ("web", "api"))]),
        (
            "example.com/team=core,tier in (web,api),!legacy",
            [
                Requirement("example.com/team", "=", ("core",)),
                Requirement("tier", "in", ("web", "api")),
                Requirement("legacy", "!exists"),
            ],
        ),
    ],
)
def test_parser_reads_hetzner_syntax(selector, expected):
    assert label_selector_parse(selector) == expected
    # Whatever the parser accepts here also matches the pattern published in the OpenAPI schema.
    assert re.fullmatch(SELECTOR_PATTERN, selector)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("", "empty"),
        ("env=prod,", "Requirement 2"),
        ("env=prod,,x", "Requirement 2"),
        ("tier in (web", "Unbalanced"),
        ("tier in web", "Requirement 1"),
        ("-bad=x", "Requirement 1"),
        ("env=pro d", "Requirement 1"),
        ("env=prod!", "Requirement 1"),
        ("tier in (web,-x)", "not a valid label value"),
        ("a" * 64 + "=x", "Requirement 1"),
        ("x" * 2001, "at most 2000"),
    ],
)
def test_parser_refuses_bad_syntax_with_a_clear_message(selector, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        label_selector_parse(selector)
    assert not re.fullmatch(SELECTOR_PATTERN, selector) or len(selector) > 2000


def test_labels_validate_accepts_kubernetes_labels():
    labels = {"env": "prod", "example.com/team": "core", "empty": "", "a.b_c-d": "x.y_z-1"}
    assert labels_validate(labels) == labels


@pytest.mark.parametrize(
    "labels",
    [
        {"": "x"},
        {"-env": "x"},
        {"env": "no spaces"},
        {"env": "x" * 64},
        {"k" * 64: "x"},
        {"Bad_Prefix.com/k": "x"},
        {"env": 1},
        {f"k{i}": "v" for i in range(65)},
        ["not", "a", "dict"],
    ],
)
def test_labels_validate_refuses_bad_labels(labels):
    with pytest.raises(ValidationFailed) as exc:
        labels_validate(labels)
    assert exc.value.code == "invalid_labels"
    assert exc.value.fields["labels"]


@pytest.fixture
def labelled(db):
    from apps.teams.models import Project
    from apps.teams.services import organisation_create
    from tests.factories import UserFactory

    owner = UserFactory()
    org = organisation_create(name="Labels", owner=owner, actor=owner)
    rows = {
        "web-prod": {"env": "prod", "tier": "web"},
        "api-prod": {"env": "prod", "tier": "api"},
        "web-dev": {"env": "dev", "tier": "web", "legacy": ""},
        "bare": {},
    }
    for name, labels in rows.items():
        Project.objects.create(organisation=org, name=name, slug=name, labels=labels)
    return Project.objects.filter(organisation=org, is_default=False)


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        ("env=prod", {"web-prod", "api-prod"}),
        ("env!=prod", {"web-dev", "bare"}),  # a resource without the key matches !=
        ("legacy", {"web-dev"}),
        ("!legacy", {"web-prod", "api-prod", "bare"}),
        ("legacy=", {"web-dev"}),
        ("tier in (web,db)", {"web-prod", "web-dev"}),
        ("tier notin (web)", {"api-prod", "bare"}),  # notin also matches a missing key
        ("env=prod,tier=web", {"web-prod"}),
        ("env=prod,!tier", set()),
        ("nothing=here", set()),
    ],
)
def test_selector_q_semantics(labelled, selector, names):
    qs = labelled.filter(label_selector_q(label_selector_parse(selector)))
    assert set(qs.values_list("name", flat=True)) == names
