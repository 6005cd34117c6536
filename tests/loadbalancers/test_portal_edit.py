"""Editing a load balancer on its portal page with plain forms: rules, targets, health check, settings.

The load balancer is ordered on the Proxmox simulator as in ``test_resource.py`` (its fixtures and
helpers are reused). A good form redirects with a message and the change reaches the services; a bad
one re-renders the page with status 400, the error under its field, and changes nothing; a viewer is
refused.
"""

from __future__ import annotations

import re

from apps.loadbalancers.models import LoadBalancer
from tests.loadbalancers import test_resource as resource
from tests.loadbalancers.test_resource import _lb, _order_lb, _server

# test_resource.py's fixtures (the simulator with a snippets storage, an LB offer), shared by assignment
_fast_driver = resource._fast_driver
share = resource.share
pvesim = resource.pvesim
env = resource.env


def _url(service) -> str:
    return f"/services/{service.public_id}/load-balancer/"


def _field_errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error">(.*?)</p>', html)


def test_the_four_forms_change_the_load_balancer(env, personas, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _server(env, personas, "web-1", {"role": "web"})
        web2 = _server(env, personas, "web-2", {"role": "api"})
        service = _order_lb(env, personas)
    url = _url(service)
    client.force_login(personas.member)

    page = client.get(url).content.decode()
    for form_id in ("lb-rules-form", "lb-targets-form", "lb-health-check-form", "lb-settings-form"):
        assert f'id="{form_id}"' in page
    assert "HTTP 80 HTTP 8080\nHTTPS 443 HTTP 8080" in page  # the rules textarea holds the current rules
    generation = _lb(service).config_generation

    response = client.post(f"{url}rules/", {"rules": "HTTP 80 HTTP 8080\r\nHTTPS 443 -> HTTP 9000\r\n"}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "The forwarding rules are saved and being applied." in response.content.decode()
    lb = _lb(service)
    assert [(r["protocol"], r["port"], r["target_protocol"], r["target_port"]) for r in lb.rules] == [
        ("HTTP", 80, "HTTP", 8080),
        ("HTTPS", 443, "HTTP", 9000),
    ]
    assert lb.config_generation == generation + 1

    response = client.post(f"{url}targets/", {"targets": "web-2\nrole=web"})
    assert response.status_code == 302
    assert _lb(service).targets == [
        {"kind": "server", "id": str(web2.public_id)},
        {"kind": "label_selector", "label_selector": "role=web"},
    ]

    response = client.post(
        f"{url}health-check/",
        {"protocol": "http", "port": "9000", "path": "/healthz", "interval_seconds": "10", "rise": "3", "fall": "4"},
    )
    assert response.status_code == 302
    health = _lb(service).health_check
    assert (health["protocol"], health["port"], health["path"]) == ("http", 9000, "/healthz")
    assert (health["interval_seconds"], health["rise"], health["fall"]) == (10, 3, 4)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{url}settings/",
            {"sticky": "on", "cookie_name": "SID", "redirect_http_to_https": "on", "proxy_protocol": "on"},
        )
    assert response.status_code == 302
    lb = _lb(service)
    assert lb.sticky_sessions == {"cookie_name": "SID", "ttl_seconds": 3600}
    assert lb.redirect_http_to_https is True and lb.proxy_protocol is True
    assert lb.config_generation == generation + 4 == lb.applied_generation  # applied on the simulator's guest
    assert "cookie SID insert" in lb.applied_config and "send-proxy" in lb.applied_config

    # unticked boxes turn the settings off again
    response = client.post(f"{url}settings/", {"cookie_name": ""})
    assert response.status_code == 302
    lb = _lb(service)
    assert lb.sticky_sessions is None and not lb.redirect_http_to_https and not lb.proxy_protocol


def test_bad_input_shows_the_field_error_and_changes_nothing(env, personas, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        service = _order_lb(env, personas)
    url = _url(service)
    client.force_login(personas.member)
    before = LoadBalancer.objects.values().get(service=service)

    cases = [
        ("rules/", {"rules": "HTTP 80 HTTP 8080\nTCP 22 TCP 22"}, "Line 2: "),  # the plan sells HTTP and HTTPS
        ("rules/", {"rules": "HTTP eighty HTTP 8080"}, "Line 1: "),
        ("rules/", {"rules": ""}, "This field is required."),
        ("targets/", {"targets": "role in (web"}, "Line 1: "),
        ("health-check/", {"protocol": "http", "interval_seconds": "0", "rise": "2", "fall": "3"}, "greater than"),
        ("health-check/", {"protocol": "icmp", "interval_seconds": "5", "rise": "2", "fall": "3"}, "valid choice"),
        ("settings/", {"sticky": "on", "cookie_name": "bad name!"}, "cookie name"),
    ]
    for path, data, expected in cases:
        response = client.post(f"{url}{path}", data)
        assert response.status_code == 400, (path, data)
        errors = _field_errors(response.content.decode())
        assert errors and any(expected in e for e in errors), (path, data, errors)
    assert LoadBalancer.objects.values().get(service=service) == before

    # the re-rendered form keeps what was typed
    response = client.post(f"{url}rules/", {"rules": "TCP 22 TCP 22"})
    assert "TCP 22 TCP 22</textarea>" in response.content.decode()


def test_a_viewer_sees_no_forms_and_is_refused(env, personas, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        service = _order_lb(env, personas)
    url = _url(service)
    before = LoadBalancer.objects.values().get(service=service)

    client.force_login(personas.viewer)
    page = client.get(url)
    assert page.status_code == 200 and 'id="lb-rules-form"' not in page.content.decode()
    posts = [
        ("rules/", {"rules": "HTTP 81 HTTP 8080"}),
        ("targets/", {"targets": "role=api"}),
        ("health-check/", {"protocol": "tcp", "interval_seconds": "9", "rise": "2", "fall": "3"}),
        ("settings/", {"proxy_protocol": "on"}),
    ]
    for path, data in posts:
        assert client.post(f"{url}{path}", data).status_code == 403, path
        assert client.get(f"{url}{path}").status_code == 405, path
    client.force_login(personas.outsider)
    assert client.post(f"{url}rules/", {"rules": "HTTP 81 HTTP 8080"}).status_code == 404
    assert LoadBalancer.objects.values().get(service=service) == before
