"""Every API operation is reachable from vmcl, or is listed here with the reason it is not.

When an endpoint lands, ``make clients`` adds it to the SDK and this test
fails until a vmcl command uses it (or it is added below with a reason), so
the CLI keeps up with the API (CONTRIBUTING.md, "An endpoint").
"""

from __future__ import annotations

import re
from pathlib import Path

from vmcloud._generated.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
STAFF = "staff back office (the fleet), not a customer tool"
PORTAL_ONLY = "account administration done in the portal, where a person confirms it"
NOT_IN_CLI = {
    **{op: STAFF for op in OPERATIONS if op.startswith("infrastructure_")},
    **{
        op: "the API refuses tokens managing tokens: the portal does it"
        for op in OPERATIONS
        if op.startswith("tokens_")
    },
    **{op: PORTAL_ONLY for op in OPERATIONS if op.startswith(("invitations_", "project_grants_"))},
    "members_retrieve": PORTAL_ONLY,
    "members_partial_update": PORTAL_ONLY,
    "members_destroy": PORTAL_ONLY,
    "organisations_partial_update": PORTAL_ONLY,
    "organisations_leave": PORTAL_ONLY,
    "organisations_transfer_ownership": PORTAL_ONLY,
    "billing_checkout_sessions_create": "a payment page for a browser",
    "billing_payment_methods_list": "payment cards are managed in the portal (Stripe pages)",
    "billing_payment_methods_destroy": "payment cards are managed in the portal (Stripe pages)",
    "billing_payment_methods_default": "payment cards are managed in the portal (Stripe pages)",
    "billing_notices_list": "portal notices, shown in the console",
    "billing_notices_mark_read": "portal notices, shown in the console",
    "billing_account_retrieve": "billing details, edited in the portal",
    "billing_estimate": "the portal's price estimate; `vmcl offer quote` prices an order",
    "billing_credits_list": "shown on the portal's billing page",
    "billing_credit_notes_pdf": "credit notes are listed (`vmcl invoice credit-notes`); PDFs from the portal",
    "billing_invoices_csv": "`vmcl invoice describe -o json` gives the lines",
}


def _cli_source() -> str:
    sources = (ROOT / "clients" / "vmcl" / "vmcl").rglob("*.py")
    return (
        "".join(path.read_text() for path in sources)
        + (ROOT / "clients" / "python-sdk" / "vmcloud" / "client.py").read_text()
    )


def test_every_operation_has_a_command_or_a_reason():
    source = _cli_source()
    used = {op for op in OPERATIONS if re.search(rf"\b{op}\b", source)}
    missing = sorted(set(OPERATIONS) - used - set(NOT_IN_CLI))
    assert missing == [], f"operations without a vmcl command: {missing} (add one, or a reason in NOT_IN_CLI)"


def test_the_exceptions_name_real_operations_that_the_cli_does_not_use():
    source = _cli_source()
    assert set(NOT_IN_CLI) <= set(OPERATIONS)
    assert [op for op in NOT_IN_CLI if re.search(rf"\b{op}\b", source)] == []
