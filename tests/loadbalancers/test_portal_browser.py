"""Browser: the load balancer page's edit forms (rules, settings, targets, health check, certificate).

Bad input re-renders the page with the error on its field (or above its form) and keeps what was typed;
good input saves with a message. The HTTP→HTTPS redirect says it waits for a certificate until one is
uploaded. The load balancer has no VM here (no cluster): changes are saved and wait to be applied.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalogue.choices import FamilyKind
from apps.loadbalancers.models import LoadBalancer
from apps.loadbalancers.services import lb_ensure
from apps.managed.rules import service_config_clean
from apps.managed.services import service_create
from tests.infrastructure.factories import FamilyFactory, OfferFactory
from tests.loadbalancers.support import make_chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def load_balancer(personas, shop) -> LoadBalancer:
    family = FamilyFactory(slug="load-balancer", name="Load balancer", kind=FamilyKind.MANAGED_SERVICE)
    offer = OfferFactory(
        family=family,
        code="LB-STARTER",
        vcpu=None,
        ram_gb=None,
        disk_gb=None,
        price_monthly=Decimal("29.00"),
        price_hourly=Decimal("0.0397"),
        lb_backends=5,
        lb_protocols=["HTTP", "HTTPS"],
        lb_requests_per_second=10_000,
        datacentres=[shop.dc],
    )
    config, secrets = service_config_clean(
        offer=offer, data={"rules": [{"protocol": "HTTP", "port": 80, "target_protocol": "HTTP", "target_port": 8080}]}
    )
    service = service_create(
        actor=personas.owner,
        organisation=personas.org,
        project=personas.project,
        offer=offer,
        datacentre=shop.dc,
        name="front",
        labels={},
        config=config,
        secrets=secrets,
    )
    return lb_ensure(service=service)


def _errors(page, form: str) -> list[str]:
    return [
        t.strip() for t in page.locator(f"#{form} .field-error, #{form} .form-errors, #{form} .alert").all_inner_texts()
    ]


def test_the_edit_forms_show_errors_keep_input_and_save(personas, load_balancer, login_page, live_server):
    page = login_page(personas.member)
    url = f"/services/{load_balancer.service.public_id}/load-balancer/"
    page.goto(url)

    # Rules: a protocol outside the tier and a line missing its target port.
    page.fill("#id_rules", "HTTP 80 HTTP 8080\nTCP 5432 TCP 5432\nHTTPS 443 HTTP")
    page.click("#lb-rules-form button[type=submit]")
    errors = _errors(page, "lb-rules-form")
    assert errors and any("Line 2" in e for e in errors), errors
    assert page.input_value("#id_rules") == "HTTP 80 HTTP 8080\nTCP 5432 TCP 5432\nHTTPS 443 HTTP", "input kept"
    page.screenshot(path="/tmp/lb-rules-error.png", full_page=True)
    page.fill("#id_rules", "HTTP 80 HTTP 8080\nHTTPS 443 HTTP 8080")
    page.click("#lb-rules-form button[type=submit]")
    assert "The forwarding rules are saved and being applied." in page.content()
    assert [r["port"] for r in LoadBalancer.objects.get(pk=load_balancer.pk).rules] == [80, 443]

    # The redirect waits for a certificate, and says so.
    assert "Takes effect once a certificate is set" in page.inner_text("#lb-settings-form")
    page.check("#id_redirect_http_to_https")
    page.click("#lb-settings-form button[type=submit]")
    assert "The settings are saved and being applied." in page.content()
    assert page.locator("#lb-redirect-waits").is_visible()

    # Targets: a malformed selector.
    page.fill("#id_targets", "role=(web")
    page.click("#lb-targets-form button[type=submit]")
    assert _errors(page, "lb-targets-form"), "the selector's error is shown"
    assert page.input_value("#id_targets") == "role=(web"
    page.fill("#id_targets", "role=web")
    page.click("#lb-targets-form button[type=submit]")
    assert "role=web" in page.inner_text("#lb-targets")

    # Health check: an HTTP check with a path that is not one.
    page.select_option("#id_protocol", "http")
    page.fill("#id_path", "health check")
    page.click("#lb-health-check-form button[type=submit]")
    assert any("path" in e for e in _errors(page, "lb-health-check-form")), _errors(page, "lb-health-check-form")
    assert page.input_value("#id_path") == "health check"
    page.fill("#id_path", "/healthz")
    page.click("#lb-health-check-form button[type=submit]")
    assert LoadBalancer.objects.get(pk=load_balancer.pk).health_check["path"] == "/healthz"

    # Certificate: not PEM, then a good one.
    page.fill("#id_certificate", "not a certificate")
    page.fill("#id_private_key", "not a key")
    page.click("#lb-certificate-form button[type=submit]")
    errors = _errors(page, "lb-certificate-form")
    assert errors, "the certificate's error is shown under the form"
    assert page.input_value("#id_certificate") == "not a certificate"
    page.screenshot(path="/tmp/lb-certificate-error.png", full_page=True)
    chain = make_chain(("shop.example.com",))
    page.fill("#id_certificate", chain.leaf.certificate)
    page.fill("#id_chain", chain.intermediate.certificate)
    page.fill("#id_private_key", chain.leaf.key)
    page.click("#lb-certificate-form button[type=submit]")
    assert "The certificate is checked and being applied." in page.content()
    assert "shop.example.com" in page.inner_text("#lb-certificate")
    assert page.locator("#lb-redirect-waits").count() == 0, "the redirect runs now"
    assert page.input_value("#id_private_key") == "", "the key is never shown back once stored"
