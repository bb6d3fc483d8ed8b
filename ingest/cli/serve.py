"""`cyberlog serve`: the store as a read-only web app on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from ingest.cli.common import Db, say
from ingest.errors import UsageError
from ingest.store import resolve_db

app = typer.Typer()


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; any but loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="CYBERLOG_TOKEN",
            show_default=False,
            help="Ask every request for this token (Authorization: Bearer TOKEN, or ?token=TOKEN once).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds an ad-hoc SQL statement may run before it is stopped.")
    ] = 10.0,
    row_cap: Annotated[int, typer.Option("--row-cap", min=1, help="Rows an ad-hoc SQL statement may return.")] = 10_000,
    db: Db = None,
) -> None:
    """Serve the store as a read-only web app: every report with a form for its params, its
    rows a page at a time and as CSV, JSON or Parquet, its picture page; the sources, runs,
    rejects and clusters; and ad-hoc SQL (one query, timed out, its rows capped). Listens on
    127.0.0.1 unless --host; another host needs --token. Ctrl-C stops it."""
    try:
        from ingest.web import app as web
        from ingest.web.common import Settings
    except ImportError as exc:
        raise UsageError(f"serve needs the web extra: pip install 'cyberlog[web]' ({exc.name} is missing)") from None

    settings = Settings(db=db, token=token, timeout=timeout, row_cap=row_cap)
    web.check(settings, host)
    shown = f"[{host}]" if ":" in host else host
    say(f"serving {resolve_db(db)} at http://{shown}:{port}/ (read-only; Ctrl-C stops it)")
    web.serve(settings, host, port)
