"""The SDK's transport against a scripted loopback server: errors, retries, Idempotency-Key, pagination."""

from __future__ import annotations

import socket
import time

import pytest
import vmcloud
from vmcloud.client import Client

from tests.clients.stub import DROP, error, stub_server

PAGE = {"count": 0, "next": None, "previous": None, "page": 1, "per_page": 200, "last_page": 1, "results": []}


def _client(url: str, **options) -> Client:
    options.setdefault("backoff", 0.01)
    return Client(url, "vmc_pat_test", **options)


@pytest.mark.parametrize(
    ("status", "code", "cls", "exit_code"),
    [
        (400, "validation_error", vmcloud.BadRequest, 3),
        (401, "not_authenticated", vmcloud.AuthenticationError, 4),
        (403, "permission_denied", vmcloud.PermissionDenied, 4),
        (404, "not_found", vmcloud.NotFound, 5),
        (409, "invalid_transition", vmcloud.Conflict, 6),
        (422, "idempotency_key_reused", vmcloud.Unprocessable, 3),
        (500, "server_error", vmcloud.ServerError, 11),
    ],
)
def test_error_body_becomes_an_exception_of_its_class(status, code, cls, exit_code):
    body = error(status, code, "Bad thing.", {"name": ["Enter a valid hostname."]}, "abc123")
    with stub_server([(status, {}, body)]) as stub, pytest.raises(cls) as caught:
        _client(stub.url, max_retries=0).instances_retrieve("8a3e4c2d-6b1f-4d0e-9c7a-5e2f1b3d4a6c")
    exc = caught.value
    assert (exc.status, exc.code, exc.message, exc.request_id) == (status, code, "Bad thing.", "abc123")
    assert exc.fields == {"name": ["Enter a valid hostname."]}
    assert exc.exit_code == exit_code
    assert str(exc) == f"Bad thing [{code}] name: Enter a valid hostname. (request abc123)"


def test_a_body_that_is_not_the_error_body_still_gives_status_and_request_id():
    with (
        stub_server([(502, {"Content-Type": "text/html", "X-Request-ID": "r9"}, b"<h1>Bad gateway</h1>")]) as stub,
        pytest.raises(vmcloud.ServerError) as caught,
    ):
        _client(stub.url, max_retries=0).instances_list()
    assert (caught.value.code, caught.value.request_id) == ("http_502", "r9")


def test_429_is_retried_after_retry_after_even_for_a_post():
    with stub_server([(429, {"Retry-After": "1"}, error(429, "rate_limited")), (201, {}, {"id": "k1"})]) as stub:
        started = time.monotonic()
        result = _client(stub.url).ssh_keys_create(body={"name": "k", "public_key": "ssh-ed25519 AAAA"})
        elapsed = time.monotonic() - started
    assert result == {"id": "k1"}
    assert len(stub.requests) == 2
    assert elapsed >= 1.0
    # The retry is the same request: same Idempotency-Key.
    keys = [r["headers"]["Idempotency-Key"] for r in stub.requests]
    assert keys[0] == keys[1]


def test_429_past_the_retries_is_rate_limited_with_retry_after():
    script = [(429, {"Retry-After": "0"}, error(429, "rate_limited"))] * 3
    with stub_server(script) as stub, pytest.raises(vmcloud.RateLimited) as caught:
        _client(stub.url, max_retries=2).instances_list()
    assert len(stub.requests) == 3
    assert caught.value.retry_after == 0


def test_a_retry_after_longer_than_the_cap_is_not_waited_for():
    with (
        stub_server([(429, {"Retry-After": "3600"}, error(429, "rate_limited"))]) as stub,
        pytest.raises(vmcloud.RateLimited),
    ):
        _client(stub.url, max_retry_after=5).instances_list()
    assert len(stub.requests) == 1


def test_a_dropped_connection_is_retried_for_an_idempotent_call():
    with stub_server([DROP, DROP, (200, {}, PAGE)]) as stub:
        assert _client(stub.url).instances_list()["results"] == []
    assert len(stub.requests) == 3


def test_a_dropped_connection_is_not_retried_for_a_post_the_api_does_not_deduplicate():
    # ssh_keys_create does not document Idempotency-Key: the key may have been created.
    with stub_server([DROP, (201, {}, {"id": "k1"})]) as stub, pytest.raises(vmcloud.APIConnectionError):
        _client(stub.url).ssh_keys_create(body={"name": "k", "public_key": "ssh-ed25519 AAAA"})
    assert len(stub.requests) == 1


def test_a_dropped_connection_is_retried_for_an_order_with_the_same_idempotency_key():
    order = {"id": "o1", "state": "provisioning", "action": None}
    with stub_server([DROP, (202, {}, order)]) as stub:
        result = _client(stub.url).orders_create(
            body={"project": 1, "offer": "VPS-NANO", "datacentre": "PAR-1", "name": "web-1"}
        )
    assert result["id"] == "o1"
    keys = [r["headers"]["Idempotency-Key"] for r in stub.requests]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_a_refused_connection_is_retried_then_reported_in_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", max_retries=2)
    with pytest.raises(vmcloud.APIConnectionError) as caught:
        client.ssh_keys_create(body={"name": "k", "public_key": "x"})
    assert "Connection refused" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_post_carries_an_idempotency_key_and_a_given_one_is_kept():
    with stub_server([(201, {}, {"id": 1}), (202, {}, {"id": "o"})]) as stub:
        client = _client(stub.url)
        client.projects_create(1, body={"name": "p"})
        client.orders_create(
            body={"project": 1, "offer": "X", "datacentre": "PAR-1", "name": "a"}, idempotency_key="mine"
        )
    first, second = (r["headers"] for r in stub.requests)
    assert len(first["Idempotency-Key"]) == 36
    assert second["Idempotency-Key"] == "mine"
    assert first["Authorization"] == "Bearer vmc_pat_test"


def test_iterators_walk_every_page_with_the_filters():
    pages = [
        (200, {}, {**PAGE, "count": 3, "next": "http://x/?page=2", "results": [{"id": 1}, {"id": 2}]}),
        (200, {}, {**PAGE, "count": 3, "page": 2, "results": [{"id": 3}]}),
    ]
    with stub_server(pages) as stub:
        items = list(_client(stub.url, page_size=2).instances_list_iter(label_selector="env=prod", status=["running"]))
    assert [item["id"] for item in items] == [1, 2, 3]
    assert stub.requests[0]["path"] == "/api/v1/instances/?label_selector=env%3Dprod&status=running&page=1&per_page=2"
    assert stub.requests[1]["path"].endswith("page=2&per_page=2")


def test_files_come_back_as_bytes():
    with stub_server([(200, {"Content-Type": "application/pdf"}, b"%PDF-1.7 ...")]) as stub:
        assert _client(stub.url).billing_invoices_pdf("inv-1") == b"%PDF-1.7 ..."


def test_action_wait_polls_until_success_and_raises_on_error():
    running = {"id": "a1", "type": "start", "status": "running", "progress": 50, "error": None}
    with stub_server([(200, {}, running), (200, {}, {**running, "status": "success", "progress": 100})]) as stub:
        client = _client(stub.url)
        seen = []
        action = client.action({**running, "status": "pending", "progress": 0})
        assert action.wait(timeout=10, poll_interval=0.05, on_progress=lambda a: seen.append(a.progress)) is action
    assert action.status == "success"
    assert seen == [0, 50, 100]
    failed = {**running, "status": "error", "error": {"code": "proxmox_error", "message": "disk full"}}
    with stub_server([(200, {}, failed)]) as stub, pytest.raises(vmcloud.ActionFailed) as caught:
        _client(stub.url).action(running).wait(timeout=10, poll_interval=0.05)
    assert caught.value.code == "proxmox_error"
    assert "disk full" in str(caught.value)


def test_action_wait_times_out_and_says_the_action_goes_on():
    running = {"id": "a1", "type": "start", "status": "running", "progress": 5, "error": None}
    with stub_server([(200, {}, running)] * 50) as stub, pytest.raises(vmcloud.ActionTimeout):
        _client(stub.url).action(running).wait(timeout=0.3, poll_interval=0.05)


def test_a_client_without_url_or_with_a_bad_one_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("VMCLOUD_URL", raising=False)
    with pytest.raises(vmcloud.ConfigurationError):
        Client()
    with pytest.raises(vmcloud.ConfigurationError):
        Client("ftp://example")
