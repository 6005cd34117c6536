"""Login failures and lockouts reach Prometheus: ``vmcloud_login_failures_total`` and
``vmcloud_login_lockouts_total{scope}`` (apps/core/metrics.py, apps/accounts/services/lockout.py)."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings
from django.urls import reverse
from prometheus_client import REGISTRY

from apps.accounts.services import lockout

OUR_COUNTERS_ONLY = {"login_failed": None, "login": None}


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
@override_settings(LOGIN_ATTEMPTS_LIMIT=3, ACCOUNT_RATE_LIMITS=OUR_COUNTERS_ONLY)
def test_wrong_passwords_count_as_failures_and_the_refusals_as_lockouts(client, verified_user):
    failures = _sample("vmcloud_login_failures_total", {})
    lockouts = _sample("vmcloud_login_lockouts_total", {"scope": "login-pair"})
    for _ in range(5):
        client.post(reverse("account_login"), {"login": verified_user.email, "password": "not-the-password-123"})
    # Three wrong passwords were checked; the last two attempts were refused by the pair's counter.
    assert _sample("vmcloud_login_failures_total", {}) == failures + 3
    assert _sample("vmcloud_login_lockouts_total", {"scope": "login-pair"}) == lockouts + 2


@override_settings(MFA_ATTEMPTS_LIMIT=1)
def test_an_mfa_refusal_counts_under_its_scope():
    before = _sample("vmcloud_login_lockouts_total", {"scope": "mfa-user"})
    assert lockout.attempt_reserve(lockout.mfa_limits(user_id=987654)).allowed
    assert not lockout.attempt_reserve(lockout.mfa_limits(user_id=987654)).allowed
    assert _sample("vmcloud_login_lockouts_total", {"scope": "mfa-user"}) == before + 1
