"""Whole answers (status, headers, body bytes) cached under the data version, served without the app.

A warm page used to cost routing, validation, a worker-thread hop and a template render per request
(about 1 ms of CPU each on this 2-core machine), which bounded the explorer to ~300 answers a second
under load. :class:`RenderedCache` sits in front of the FastAPI app: a GET whose answer was a 200
under the current data version (:class:`~fecflow.web.database.DataVersion`, re-read at most once a
second) is replayed from memory. Anything else (a stale version, a miss, an error answer, a HEAD)
goes to the app, and a 200 is stored only when the version did not change while it was computed, so
no answer outlives the run that made it stale by more than the version's time to live.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import FastAPI

from fecflow.web.database import DataVersion

Key = tuple[str, bytes]
REPLAYED = (b"x-fecflow-cache", b"hit")  # marks a replayed answer (tests and curious users read it)


class RenderedCache:
    """Pure ASGI middleware: replay 200 answers to GETs while the data version they were made under holds."""

    def __init__(
        self, app: FastAPI, version: DataVersion, *, max_bytes: int = 64 << 20, max_entry: int = 2 << 20
    ) -> None:
        self.app = app
        self.state = app.state
        self.version = version
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self._items: OrderedDict[tuple[Key, tuple[Any, ...]], tuple[int, list[Any], bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0

    def _get(self, key: Key, version: tuple[Any, ...]) -> tuple[int, list[Any], bytes] | None:
        with self._lock:
            item = self._items.get((key, version))
            if item is not None:
                self._items.move_to_end((key, version))
                self.hits += 1
            return item

    def _put(self, key: Key, version: tuple[Any, ...], item: tuple[int, list[Any], bytes]) -> None:
        size = len(item[2]) + 256
        if size > self.max_entry:
            return
        with self._lock:
            old = self._items.pop((key, version), None)
            self._bytes += size - (len(old[2]) + 256 if old else 0)
            self._items[(key, version)] = item
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped[2]) + 256

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key: Key = (scope["path"], scope.get("query_string", b""))
        before = self.version.fresh()
        if before is not None:
            item = self._get(key, before)
            if item is not None:
                status, headers, body = item
                await send({"type": "http.response.start", "status": status, "headers": [*headers, REPLAYED]})
                await send({"type": "http.response.body", "body": body})
                return
        await self._answer_and_keep(key, before, scope, receive, send)

    async def _answer_and_keep(
        self, key: Key, before: tuple[Any, ...] | None, scope: Any, receive: Any, send: Any
    ) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body" and start.get("status") == 200:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    after = self.version.fresh()
                    if after is not None and before in (None, after):
                        self._put(key, after, (200, list(start.get("headers", [])), b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, keep)
