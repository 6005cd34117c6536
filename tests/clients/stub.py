"""A scripted HTTP server on loopback for the SDK's transport tests (retries, headers).

Each request takes the next scripted answer: ``(status, headers, body)``, or
``DROP`` to close the connection without answering. Requests are recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DROP = "drop"


class StubServer:
    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                stub.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length) if length else b"",
                    }
                )
                answer = stub.script.pop(0) if stub.script else (500, {}, {"error": "script exhausted"})
                if answer == DROP:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, headers, body = answer
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def stub_server(script: list[Any]) -> Iterator[StubServer]:
    stub = StubServer(script)
    thread = threading.Thread(target=stub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.server.shutdown()
        stub.server.server_close()


def error(status: int, code: str, message: str = "Nope.", fields: dict | None = None, request_id: str = "req-1"):
    return {"error": {"code": code, "message": message, "fields": fields or {}, "request_id": request_id}}
