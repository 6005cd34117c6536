"""Teams API findings of the security audit (issue 10): CSV errors, "require MFA", project grants."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# -- audit CSV errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("csv_url", ["audit-events.csv", "audit-events/?format=csv"])
def test_audit_csv_errors_are_the_json_error_body(world, csv_url):
    base = f"/api/v1/organisations/{world.org.pk}/"
    sep = "&" if "?" in csv_url else "?"
    bad = client_for(world.admin).get(f"{base}{csv_url}{sep}since=not-a-date")
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/json")
    assert "since" in bad.json()["error"]["fields"]
    forbidden = client_for(world.member).get(f"{base}{csv_url}")
    assert forbidden.status_code == 403
    assert forbidden["Content-Type"].startswith("application/json")
    assert forbidden.json()["error"]["code"] == "permission_denied"
    anonymous = APIClient().get(f"{base}{csv_url}")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
