"""axe-core on the portal's main pages, light and dark: no serious or critical violation (issue 16)."""

from __future__ import annotations

import pytest

from tests.accessibility import axe_report, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_dashboard_has_no_serious_violation(login_page, personas, theme):
    page = login_page(personas.owner)
    page.add_init_script(f"window.localStorage.setItem('vmcloud-theme', '{theme}')")
    page.goto("/dashboard/")
    violations = axe_violations(page)
    assert not violations, axe_report(violations, label=f"/dashboard/ ({theme})")


def test_the_check_finds_what_it_should(page):
    """The check can fail: an unlabelled input and grey-on-white text are reported, with a readable message."""
    page.set_content(
        '<html lang="en"><body><main><input type="text">'
        '<p style="color:#bbb;background:#fff">faint text</p></main></body></html>'
    )
    violations = axe_violations(page)
    assert {v["id"] for v in violations} >= {"label", "color-contrast"}
    assert "color-contrast" in axe_report(violations)
