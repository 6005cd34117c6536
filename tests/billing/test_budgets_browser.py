"""A billing-role user creates a budget in the portal (Chromium through Playwright); a member gets 403."""

from __future__ import annotations

import pytest

from apps.billing.models import Budget
from tests.billing.fixtures_costs import costs_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_user_creates_a_budget_and_sees_it_listed(login_page, costs_world):  # noqa: F811
    page = login_page(costs_world.billing)
    page.goto("/billing/")
    assert page.locator("#costs-mtd").is_visible()
    assert page.locator('[data-chart="daily-spend"]').count() == 1
    page.goto("/billing/budgets/")
    page.click("#budget-new")
    page.fill("#id_name", "Team budget")
    page.fill("#id_amount", "250")
    page.fill("#id_thresholds", "50, 90, 100")
    page.select_option("#id_action", "block_orders")
    page.fill("#id_notify_emails", "finance@costs.test")
    page.click("#budget-save")
    page.wait_for_url("**/billing/budgets/")
    row = page.locator("#budgets tbody tr", has_text="Team budget")
    assert row.is_visible()
    assert "250.00" in row.inner_text()
    assert page.locator("#budget-secret-value").inner_text().startswith("vmcwh_")
    budget = Budget.objects.get(name="Team budget")
    assert (budget.thresholds, budget.action) == ([50, 90, 100], "block_orders")


def test_member_gets_403_on_billing(login_page, costs_world, live_server):  # noqa: F811
    page = login_page(costs_world.member)
    response = page.goto("/billing/")
    assert response is not None and response.status == 403
