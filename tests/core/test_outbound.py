"""apps.core.outbound: customer-typed URLs reach public addresses only, the one checked, without redirects."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest

from apps.core.outbound import OutboundError, OutboundRefused, outbound_request


class _Receiver:
    """An HTTP server on loopback that records requests and answers what the test says."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.status = 200
        self.body = b"ok"
        self.location = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    server = _Receiver()
    yield server
    server.close()


def _resolves_to(address: str, port: int):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return mock.patch("socket.getaddrinfo", return_value=[(family, socket.SOCK_STREAM, 6, "", (address, port))])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3:8006/api2/json",
        "http://192.168.0.1/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused_before_any_connection(url):
    with mock.patch("urllib3.HTTPConnectionPool.urlopen") as urlopen, pytest.raises(OutboundRefused):
        outbound_request("GET", url)
    urlopen.assert_not_called()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http:///x"])
def test_other_schemes_are_refused(url):
    with pytest.raises(OutboundRefused, match="https://"):
        outbound_request("GET", url)


def test_a_public_name_that_resolves_to_a_private_address_is_refused():
    with _resolves_to("10.0.0.7", 443), pytest.raises(OutboundRefused, match=r"10\.0\.0\.7"):
        outbound_request("POST", "https://hooks.customer.example/in", body=b"{}")


def test_loopback_when_allowed_and_the_request_reaches_the_address_checked(receiver):
    with pytest.raises(OutboundRefused):
        outbound_request("GET", f"http://127.0.0.1:{receiver.port}/x")
    # The name resolves once; the connection goes to that address with the name as Host.
    with _resolves_to("127.0.0.1", receiver.port) as resolve:
        answer = outbound_request(
            "POST",
            f"http://hooks.example.test:{receiver.port}/in?a=1",
            body=b'{"a":1}',
            headers={"Content-Type": "application/json"},
            allow_loopback=True,
        )
    # The name is resolved once (urllib3 then connects to the address literal it was given).
    assert [c.args[0] for c in resolve.call_args_list] == ["hooks.example.test", "127.0.0.1"]
    assert (answer.status, answer.body, answer.redirect) == (200, b"ok", False)
    method, path, headers, body = receiver.requests[0]
    assert (method, path, body) == ("POST", "/in?a=1", b'{"a":1}')
    assert headers["Host"] == f"hooks.example.test:{receiver.port}"


def test_allow_loopback_does_not_open_private_networks():
    with _resolves_to("10.0.0.7", 80), pytest.raises(OutboundRefused):
        outbound_request("GET", "http://idp.corp.example/metadata", allow_loopback=True)


def test_a_redirect_is_answered_not_followed(receiver):
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data/"
    answer = outbound_request("GET", f"http://127.0.0.1:{receiver.port}/x", allow_loopback=True)
    assert answer.status == 302 and answer.redirect and len(receiver.requests) == 1


def test_a_large_answer_is_cut_at_the_limit(receiver):
    receiver.body = b"x" * 5000
    with pytest.raises(OutboundError) as error:
        outbound_request("GET", f"http://127.0.0.1:{receiver.port}/x", allow_loopback=True, max_bytes=1000)
    assert error.value.kind == "ResponseTooLarge"


def test_https_verifies_the_certificate_for_the_name_while_connecting_to_the_checked_address():
    with (
        _resolves_to("93.184.215.14", 443),
        mock.patch("urllib3.HTTPSConnectionPool.urlopen", autospec=True) as urlopen,
    ):
        urlopen.side_effect = lambda pool, *args, **kwargs: (_ for _ in ()).throw(
            __import__("urllib3").exceptions.NewConnectionError(pool, "stopped by the test")
        )
        with pytest.raises(OutboundError):
            outbound_request("GET", "https://idp.example.com/metadata")
    pool = urlopen.call_args.args[0]
    assert pool.host == "93.184.215.14"
    assert pool.conn_kw["server_hostname"] == "idp.example.com" and pool.assert_hostname == "idp.example.com"


def test_nothing_listening_is_an_outbound_error_not_a_crash():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OutboundError) as error:
        outbound_request("GET", f"http://127.0.0.1:{port}/", allow_loopback=True, timeout=2)
    assert error.value.kind in {"NewConnectionError", "MaxRetryError", "ProtocolError"}
