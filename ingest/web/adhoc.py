"""`/sql`: one read-only statement over the store, with a time limit and a row cap.

Three walls keep it a reader: only a query is run (SELECT, WITH, FROM, VALUES, DESCRIBE,
SHOW, SUMMARIZE, EXPLAIN; one statement), on a read-only connection, with external access
off (`read_csv` of a file, `COPY`, `ATTACH`, `INSTALL` all refused). DuckDB has no statement
timeout, so the statement runs in a thread and is interrupted (`con.interrupt()`) when its
time is up; only the first `row_cap` rows are fetched, and the page says when there were more.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ingest.errors import CyberlogError, QueryError
from ingest.reports import results
from ingest.web import common, render
from ingest.web.render import esc

ALLOWED = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    capped: bool  # there were more than the cap's rows; only those are here


def checked(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one query (QueryError, its message for the user)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise results.query_error(exc) from None
    if len(statements) != 1:
        raise QueryError(f"one statement at a time, not {len(statements)}")
    kind = statements[0].type
    if kind not in ALLOWED:
        raise QueryError(
            f"the store is read-only here: only a query runs (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, "
            f"SUMMARIZE, EXPLAIN), not {kind.name}"
        )


def run(con: duckdb.DuckDBPyConnection, sql: str, *, timeout: float, cap: int) -> Answer:
    """The statement's first `cap` rows, interrupted after `timeout` seconds (QueryError)."""
    con.execute("SET enable_external_access = false")  # cannot be turned on again while the store is open
    checked(con, sql)
    found: dict[str, Any] = {}

    def work() -> None:
        try:
            cursor = con.execute(sql)
            found["columns"] = [d[0] for d in cursor.description or []]
            found["rows"] = cursor.fetchmany(cap + 1) if cursor.description else []
        except duckdb.Error as exc:
            found["error"] = exc

    worker = threading.Thread(target=work, name="cyberlog-sql", daemon=True)
    worker.start()
    worker.join(timeout)
    late = worker.is_alive()
    if late:
        con.interrupt()
        worker.join()
    if late and ("error" in found or "rows" not in found):
        raise QueryError(f"stopped after {timeout:g} s: the statement ran past the time limit (serve --timeout)")
    if "error" in found:
        raise results.query_error(found["error"])
    rows: list[tuple[Any, ...]] = found["rows"]
    return Answer(found["columns"], rows[:cap], len(rows) > cap)


def _form(sql: str) -> str:
    return (
        '<form class="sql" method="get" action="/sql"><textarea name="sql" rows="8" '
        f'placeholder="SELECT * FROM v_incidents LIMIT 10">{esc(sql)}</textarea>'
        '<div><button type="submit">run</button> <span class="help">read-only: one query; '
        "the views v_incidents, v_events, v_clusters, v_rejects and the tables are described in the docs</span></div>"
        "</form>"
    )


def _answer(request: Request, sql: str) -> Answer:
    limits = common.settings(request)
    with common.store(request) as store:
        return run(store.con, sql, timeout=limits.timeout, cap=limits.row_cap)


def page(request: Request) -> Response:
    """`/sql?sql=...`: the form, and the statement's rows with links to download them."""
    sql = request.query_params.get("sql", "")
    if not sql.strip():
        return common.page("ad-hoc SQL", _form(sql))
    try:
        answer = _answer(request, sql)
    except CyberlogError as exc:
        return common.failed("ad-hoc SQL", exc, _form(sql))
    query = common.query_pairs(request)
    cap = common.settings(request).row_cap
    said = f'<p class="note">only the first {cap:,} rows are kept (the row cap, serve --row-cap)</p>'
    body = (
        _form(sql)
        + (said if answer.capped else "")
        + render.downloads("/sql", query)
        + render.paged(answer.columns, answer.rows, render.page_number(request.query_params.get("page")), "/sql", query)
    )
    return common.page("ad-hoc SQL", body)


def download(request: Request) -> Response:
    """`/sql.csv?sql=...` (.json, .parquet): the rows, capped as the page is."""
    fmt = request.path_params["fmt"]
    if fmt not in common.FORMATS:
        return common.not_found(f"no format {fmt!r}: csv, json or parquet")
    try:
        answer = _answer(request, request.query_params.get("sql", ""))
    except CyberlogError as exc:
        return common.failed("ad-hoc SQL", exc)
    return common.download("query", fmt, answer.columns, answer.rows)
