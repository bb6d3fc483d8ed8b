"""A real HTTP server on loopback for the remote-source tests: GDELT lists and zips, a
MISP feed, a TAXII 2.1 collection, and the ways a network misbehaves (slow, failing,
truncated, wrong bytes, Retry-After). Started per test; nothing reaches the internet."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer
    trickle: float = 0.0  # seconds between pieces of the body
    piece: int = 1024
    cut_at: int | None = None  # announce the whole body, send this many bytes, hang up
    etag: str | None = None  # answer 304 to If-None-Match with it


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


Route = Callable[[Request], Reply]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply] | Route] = {}
        self.requests: list[Request] = []
        self.sent: dict[str, int] = {}  # path -> body bytes written so far
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                request = Request(parts.path, query, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(request)
                reply = server._reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.etag and request.headers.get("if-none-match") == reply.etag:
                    self.send_response(304)
                    self.send_header("ETag", reply.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.cut_at is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
                try:
                    for start in range(0, len(body), reply.piece):
                        piece = body[start : start + reply.piece]
                        self.wfile.write(piece)
                        self.wfile.flush()
                        server.sent[parts.path] = server.sent.get(parts.path, 0) + len(piece)
                        if reply.trickle:
                            time.sleep(reply.trickle)
                except (BrokenPipeError, ConnectionResetError):
                    return
                if reply.cut_at is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def _reply(self, request: Request) -> Reply:
        route = self.routes.get(request.path)
        if route is None:
            return Reply(b"not found", 404)
        if callable(route):
            return route(request)
        return route.pop(0) if len(route) > 1 else route[0]  # the last reply repeats

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def serve() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


class Taxii:
    """A TAXII 2.1 collection: objects with the time each was added; `added_after`,
    `limit` and `next` as the spec has them, and the X-TAXII-Date-Added headers. With
    `use_next=False` it pages only by `added_after` (servers that keep no cursors)."""

    def __init__(
        self,
        objects: list[dict[str, Any]],
        start: datetime,
        *,
        use_next: bool = True,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.added: list[tuple[str, dict[str, Any]]] = []
        self.use_next = use_next
        self.credentials = credentials
        self.add(objects, start)

    def add(self, objects: list[dict[str, Any]], start: datetime) -> None:
        for i, obj in enumerate(objects):
            when = (start + timedelta(seconds=i)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            self.added.append((when, obj))

    def __call__(self, request: Request) -> Reply:
        if self.credentials:
            expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
            if request.headers.get("authorization") != expected:
                return Reply(b'{"title": "unauthorized"}', 401, {"Content-Type": "application/taxii+json;version=2.1"})
        after = request.query.get("added_after", "")
        limit = int(request.query.get("limit", "100"))
        start = int(request.query["next"]) if "next" in request.query else 0
        matching = [(when, obj) for when, obj in self.added if when > after]
        page = matching[start : start + limit]
        more = start + limit < len(matching)
        envelope: dict[str, Any] = {"more": more, "objects": [obj for _, obj in page]}
        if more and self.use_next:
            envelope["next"] = str(start + limit)
        headers = {"Content-Type": "application/taxii+json;version=2.1"}
        if page:
            headers["X-TAXII-Date-Added-First"] = page[0][0]
            headers["X-TAXII-Date-Added-Last"] = page[-1][0]
        if not page:
            envelope = {"more": False}
        return Reply(json.dumps(envelope).encode(), 200, headers)
