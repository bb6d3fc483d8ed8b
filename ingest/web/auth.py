"""The token gate: with a token set, every request shows it, or is refused with 401.

A request shows the token in an `Authorization: Bearer TOKEN` header, in `?token=TOKEN`
(a link to open in a browser), or in the cookie the app sets when a `?token=` was right:
HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it), so the
links between the app's pages keep working without the token in them. The cookie holds an
HMAC of the token, not the token. Every comparison is `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.web import common, render

COOKIE = "cyberlog_token"


def same(given: str | None, wanted: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), wanted.encode("utf-8"))


def cookie_value(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"cyberlog serve cookie", hashlib.sha256).hexdigest()


class TokenGate:
    """ASGI middleware: lets through the requests that show the token, 401 for the others."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token, self.cookie = app, token, cookie_value(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if (scheme.lower() == "bearer" and same(bearer.strip(), self.token)) or same(
            request.cookies.get(COOKIE), self.cookie
        ):
            await self.app(scope, receive, send)
            return
        if same(request.query_params.get("token"), self.token):
            await self.app(scope, receive, self._setting_cookie(send))
            return
        refused = common.page(
            "token needed",
            render.error_box(
                "this cyberlog serve asks for its token: an Authorization: Bearer TOKEN header, or ?token=TOKEN once"
            ),
            401,
        )
        refused.headers["WWW-Authenticate"] = 'Bearer realm="cyberlog"'
        await refused(scope, receive, send)

    def _setting_cookie(self, send: Send) -> Send:
        header = f"{COOKIE}={self.cookie}; HttpOnly; SameSite=Strict; Path=/"

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        return sending


def host_name(header: str) -> str:
    """The name in a Host header, without its port: `[::1]:8765` is ::1, `localhost:8765` localhost."""
    if header.startswith("["):
        return header[1:].partition("]")[0].lower()
    return header.partition(":")[0].lower()


class HostGate:
    """ASGI middleware: 400 for a Host header that is not this machine's name (on a loopback
    address), so a page of another site cannot read this one by renaming itself 127.0.0.1
    (DNS rebinding). Starlette's TrustedHostMiddleware misreads `[::1]:port`."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and host_name(Request(scope).headers.get("host", "")) not in self.hosts:
            refused = common.page("wrong host", render.error_box("this server answers to its loopback names only"), 400)
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)
