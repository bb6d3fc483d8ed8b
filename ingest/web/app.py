"""The Starlette app of `cyberlog serve`, and the checks before it starts.

Every address is a route below; anything else is a 404 page. Handlers are plain functions,
which Starlette runs in its thread pool, each opening its own read-only connection.
"""

from __future__ import annotations

import ipaddress
from contextlib import suppress

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import api
from ingest.errors import StoreBusy, StoreError, UsageError
from ingest.store import resolve_db
from ingest.web import adhoc, common, render, report_pages, store_pages
from ingest.web.auth import HostGate, TokenGate
from ingest.web.common import Settings

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def loopback(host: str) -> bool:
    """Whether `host` only answers this machine: localhost, or an address in 127/8 or ::1."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: whatever it resolves to may be reachable from elsewhere


def check(settings: Settings, host: str) -> None:
    """What `serve` checks before it listens: a token if others could reach it, a store there."""
    if not loopback(host) and not settings.token:
        raise UsageError(
            f"refusing to serve on {host}, which other machines can reach, without a token: "
            "give --token TOKEN (or set CYBERLOG_TOKEN), or serve on 127.0.0.1"
        )
    if settings.token is not None and not settings.token.strip():
        raise UsageError(
            "--token is empty: give a long random one (python -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    path = resolve_db(settings.db)
    if not path.is_file():
        raise StoreError(
            "no store here yet: run `cyberlog nightly` or `cyberlog ingest` first, or point --db / CYBERLOG_DB at one",
            path=path,
        )
    with suppress(StoreBusy):  # a nightly writes it: each request reads the snapshot, or says it is busy
        api.connect(path).close()  # a cyberlog store, of a schema this cyberlog reads


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    said = "no such page: the index links every page" if status == 404 else str(getattr(exc, "detail", exc))
    return common.page("not found" if status == 404 else "error", render.error_box(said), status)


async def _crash(request: Request, exc: Exception) -> Response:
    """An error cyberlog did not foresee: a 500 page that names it (its traceback on stderr)."""
    said = f"an error cyberlog did not foresee, a bug to report: {type(exc).__name__}: {exc}"
    return common.page("error", render.error_box(said), 500)


def build(settings: Settings, host: str = "127.0.0.1") -> Starlette:
    """The app: read-only pages over the store `settings.db` names."""
    routes = [
        Route("/", report_pages.index),
        Route("/reports/{name}", report_pages.report),
        Route("/reports/{name}/page", report_pages.picture_page),
        Route("/sql", adhoc.page),
        Route("/sql.{fmt}", adhoc.download),
        Route("/sources", store_pages.sources),
        Route("/runs", store_pages.runs),
        Route("/rejects", store_pages.rejects),
        Route("/clusters", store_pages.cluster_list),
        Route("/clusters/{cluster}", store_pages.cluster),
    ]
    # a page of another site cannot reach this one by renaming itself 127.0.0.1 (DNS rebinding)
    middleware = [] if not loopback(host) else [Middleware(HostGate, hosts=LOCAL_NAMES | {host.strip("[]").lower()})]
    if settings.token:
        middleware.append(Middleware(TokenGate, token=settings.token))
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error, Exception: _crash}
    )
    app.state.settings = settings
    return app


def serve(settings: Settings, host: str, port: int) -> None:
    """Listen until Ctrl-C or SIGTERM; a port taken is a UsageError."""
    import uvicorn

    config = uvicorn.Config(
        build(settings, host), host=host, port=port, log_level="warning", access_log=False, server_header=False
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit:  # uvicorn's way to say it could not listen
        if server.started:
            raise
        raise UsageError(
            f"cannot listen on {host} port {port}: another server has it, or the address is not this machine's"
        ) from None
