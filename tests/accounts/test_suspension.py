"""Suspended users cannot log in (they are told why), and open sessions end, in the portal and the API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_suspend, user_unsuspend
from apps.core.errors import ValidationFailed
from apps.core.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_suspended_user_cannot_log_in_and_sees_the_reason(verified_user, staff_user):
    user_suspend(user=verified_user, reason="Unpaid invoices since March", actor=staff_user)
    client = Client()
    response = client.post(reverse("account_login"), {"login": verified_user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Unpaid invoices since March" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_suspension_ends_open_sessions_in_portal_and_api(verified_user, staff_user):
    client = Client()
    client.force_login(verified_user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    user_suspend(user=verified_user, reason="Abuse report #42", actor=staff_user)
    api = client.get("/api/v1/catalogue/offers/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "account_suspended"
    client.force_login(verified_user)
    page = client.get(reverse("portal:dashboard"))
    assert page.status_code == 403
    assert "Abuse report #42" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_unsuspended_user_logs_in_again_and_both_changes_are_audited(verified_user, staff_user):
    user_suspend(user=verified_user, reason="Check", actor=staff_user)
    user_unsuspend(user=verified_user, actor=staff_user)
    response = Client().post(reverse("account_login"), {"login": verified_user.email, "password": PASSWORD})
    assert response.status_code == 302
    actions = list(AuditEvent.objects.filter(target_id=str(verified_user.pk)).values_list("action", "actor_kind"))
    assert ("accounts.user.suspend", "staff") in actions
    assert ("accounts.user.unsuspend", "staff") in actions


def test_suspension_needs_a_reason(verified_user, staff_user):
    with pytest.raises(ValidationFailed):
        user_suspend(user=verified_user, reason="  ", actor=staff_user)


def test_admin_action_suspends_with_the_reason(verified_user, staff_user):
    client = Client()
    client.force_login(staff_user)
    url = reverse("admin:accounts_user_changelist")
    confirm = client.post(url, {"action": "suspend_users", "_selected_action": [verified_user.pk]})
    assert confirm.status_code == 200
    assert b"Reason shown to the user" in confirm.content
    done = client.post(
        url, {"action": "suspend_users", "_selected_action": [verified_user.pk], "apply": "1", "reason": "Fraud check"}
    )
    assert done.status_code == 302
    verified_user.refresh_from_db()
    assert verified_user.suspension_reason == "Fraud check"
    assert verified_user.suspended_at is not None
