"""The engine's operator page: staff only, rendered, and in step with the engine's code."""

from __future__ import annotations

from apps.docs import selectors
from apps.loadbalancers.rules.haproxy import ENGINE_REFUSED, HARD_STOP_AFTER
from apps.loadbalancers.rules.spec import DISPLAY_NAMES, MAX_CONNECTIONS

SLUG = "load-balancer-engine"


def test_the_engine_page_is_for_staff_only():
    assert selectors.page_get(slug=SLUG, staff=False) is None
    page = selectors.page_get(slug=SLUG, staff=True)
    assert page is not None
    assert page.source.section == "Staff operations"
    anchors = {entry.id for entry in page.body.toc}
    assert {"what-is-refused-and-why", "how-a-change-reaches-the-vm", "reload-without-dropping-connections"} <= anchors


def test_the_page_says_what_the_code_does():
    body = selectors.page_source_get(slug=SLUG, staff=True).body  # type: ignore[union-attr]
    for protocol in ENGINE_REFUSED:
        assert f"**{DISPLAY_NAMES[protocol]}**" in body
    assert f"{MAX_CONNECTIONS:,}".replace(",", " ") in body
    assert f"hard-stop-after {HARD_STOP_AFTER}" in body
