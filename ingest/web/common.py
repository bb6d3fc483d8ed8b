"""What every page shares: the app's settings, a fresh read-only store per request, the
responses (HTML with its security headers, downloads) and cyberlog's errors as HTTP ones."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ingest import api
from ingest.errors import CyberlogError, ExitCode
from ingest.reports import export
from ingest.web import render

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a ?token= in the address never leaves in a Referer
    "Cache-Control": "no-store",
}
FORMATS = ("csv", "json", "parquet")
_MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "parquet": "application/vnd.apache.parquet"}
_STATUS = {ExitCode.USAGE: 400, ExitCode.QUERY: 400, ExitCode.BUSY: 503}


@dataclass(frozen=True)
class Settings:
    """How the app was started: the store, the token it asks for, the limits of /sql."""

    db: Path | None = None
    token: str | None = None
    timeout: float = 10.0  # seconds a /sql statement may run
    row_cap: int = 10_000  # rows a /sql statement may return


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


@contextmanager
def store(request: Request) -> Iterator[api.Store]:
    """A read-only connection for this request alone: no lock on the store is held between
    requests, and a nightly writing it makes this read its snapshot (`ingest.snapshot`)."""
    with api.connect(settings(request).db) as opened:
        yield opened


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(render.layout(title, body), status_code=status, headers=HEADERS)


def failed(title: str, exc: CyberlogError, body: str = "") -> HTMLResponse:
    """cyberlog's error as a page: bad params or SQL 400, a busy store 503, else 500."""
    return page(title, render.error_box(str(exc)) + body, _STATUS.get(exc.exit_code, 500))


def not_found(what: str) -> HTMLResponse:
    return page("not found", render.error_box(what), 404)


def download(name: str, fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """Rows as a file, written by `export`'s writers (CSV as `report run --format csv` writes it)."""
    if fmt == "parquet":
        binary = io.BytesIO()
        export.write_parquet(binary, columns, rows)
        body = binary.getvalue()
    else:
        text = io.StringIO(newline="")
        if fmt == "csv":
            export.write_csv(text, columns, rows)
        else:
            export.write_json(text, columns, rows)
        body = text.getvalue().encode("utf-8")
    disposition = f'attachment; filename="{name}.{fmt}"'
    return Response(body, media_type=_MEDIA[fmt], headers={**HEADERS, "Content-Disposition": disposition})


def query_pairs(request: Request, *, drop: Sequence[str] = ("token",)) -> list[tuple[str, str]]:
    """The request's query, in order, less the token (never written into a link)."""
    return [(k, v) for k, v in request.query_params.multi_items() if k not in drop]
