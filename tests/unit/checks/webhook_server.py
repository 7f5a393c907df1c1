"""A real HTTP server on 127.0.0.1 that records the JSON POSTs a webhook receives.

``tests/support/http_server.py`` serves GET/HEAD only, so alert tests use this one. Every POST is
recorded (path, query, headers, JSON body); ``status`` sets what the server answers (500 to play a
broken webhook).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

TOKEN = "s3cr3t-webhook-token-0123"


@dataclass(frozen=True)
class Post:
    path: str
    query: str
    headers: dict[str, str]
    body: Any


class WebhookServer:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[Post] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebhookServer:
        handler = type("BoundHandler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """The webhook URL, with a token in the query the way chat webhooks carry one."""
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hooks/fecflow?token={TOKEN}"

    def record(self, post: Post) -> None:
        with self._lock:
            self.posts.append(post)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: WebhookServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        parts = urlsplit(self.path)
        self.server_state.record(
            Post(
                parts.path,
                parts.query,
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw or b"null"),
            )
        )
        body = b'{"ok": true}' if self.server_state.status < 400 else b'{"error": "scripted"}'
        self.send_response(self.server_state.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
