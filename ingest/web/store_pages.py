"""The store's own pages: its sources (`cyberlog status`), its runs, the outstanding rejects,
and the clusters of records several sources reported (`cyberlog clusters list` and `show`)."""

from __future__ import annotations

from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ingest.errors import CyberlogError, UsageError
from ingest.reports import clusters, results, status
from ingest.web import common, render
from ingest.web.render import esc, href

_RUNS = """SELECT run_id, command, started_at, finished_at, exit_code, files_loaded, files_skipped, files_failed,
                  records_read, inserted, updated, unchanged, rejected
           FROM ingest_runs ORDER BY started_at DESC, run_id"""
# as `cyberlog rejects list` lists them (ingest/load/rejects.py), outstanding ones only
_REJECTS = """SELECT reject_id, coalesce(line::VARCHAR, pointer) AS at, field, reason, source, path, format, rejected_at
              FROM v_rejects WHERE outstanding AND ($source IS NULL OR source = $source)
              ORDER BY rejected_at DESC, path, line, pointer"""
_REJECT_SOURCES = "SELECT DISTINCT source FROM v_rejects WHERE outstanding ORDER BY source"


def _select(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> tuple[list[str], results.Rows]:
    try:
        cursor = con.execute(sql, params)
        return [d[0] for d in cursor.description or []], cursor.fetchall()
    except duckdb.Error as exc:
        raise results.query_error(exc) from None


def sources(request: Request) -> Response:
    """The store at a glance and one row per source, as `cyberlog status` shows them."""
    try:
        with common.store(request) as store:
            found = status.read(store.con, common.settings(request).db)
    except CyberlogError as exc:
        return common.failed("sources", exc)
    summary = render.table(["", "value"], list(found.store.items()))
    unresolved = "; ".join(found.actors_unresolved) or "none"
    body = (
        f"<h2>the store</h2>{summary}<h2>sources</h2>{render.table(found.columns, found.sources)}"
        f'<h2>actor names the MISP galaxies do not know</h2><p class="sub">{esc(unresolved)}</p>'
    )
    return common.page("sources", body)


def runs(request: Request) -> Response:
    try:
        with common.store(request) as store:
            columns, rows = _select(store.con, _RUNS, {})
    except CyberlogError as exc:
        return common.failed("runs", exc)
    page = render.page_number(request.query_params.get("page"))
    return common.page("runs", render.paged(columns, rows, page, "/runs", common.query_pairs(request)))


def rejects(request: Request) -> Response:
    """The outstanding rejects, newest first; `?source=NAME`: one source's."""
    source = request.query_params.get("source") or None
    try:
        with common.store(request) as store:
            columns, rows = _select(store.con, _REJECTS, {"source": source})
            _, named = _select(store.con, _REJECT_SOURCES, {})
    except CyberlogError as exc:
        return common.failed("rejects", exc)
    options = "".join(
        f'<option value="{esc(n)}"{" selected" if n == source else ""}>{esc(n)}</option>' for (n,) in named
    )
    picker = (
        '<form method="get" action="/rejects"><label for="source">source</label> '
        f'<select id="source" name="source"><option value="">(every source)</option>{options}</select> '
        '<button type="submit">show</button></form><p class="help">`cyberlog rejects show ID` shows one whole; '
        "`cyberlog rejects replay` reads them again after a fix</p>"
    )
    page = render.page_number(request.query_params.get("page"))
    return common.page("rejects", picker + render.paged(columns, rows, page, "/rejects", common.query_pairs(request)))


def cluster_list(request: Request) -> Response:
    """Clusters of several records, newest first; `?events=1`: of diplomatic events."""
    events = request.query_params.get("events", "") not in ("", "0", "false")
    every = request.query_params.get("all", "") not in ("", "0", "false")
    sql, params = clusters.listing(events=events, every=every)
    try:
        with common.store(request) as store:
            columns, rows = _select(store.con, sql, params)
    except CyberlogError as exc:
        return common.failed("clusters", exc)
    other = href("/clusters", {"events": "0" if events else "1"})
    switch = f'<p class="links"><a href="{other}">{"incident" if events else "event"} clusters</a></p>'
    page = render.page_number(request.query_params.get("page"))
    links = {"cluster_id": "/clusters/"}
    table = render.paged(columns, rows, page, "/clusters", common.query_pairs(request), links)
    return common.page("event clusters" if events else "incident clusters", switch + table)


def cluster(request: Request) -> Response:
    """One cluster: its records, the decisions that joined them, where its sources disagree."""
    record = request.path_params["cluster"]
    body = ""
    try:
        with common.store(request) as store:
            cluster_id, sections = clusters.shown(store.con, record)
            for title, (sql, params) in sections.items():
                columns, rows = _select(store.con, sql, params)
                body += f"<h2>{esc(title)}</h2>" + render.table(columns, rows)
    except UsageError as exc:
        return common.not_found(str(exc))
    except CyberlogError as exc:
        return common.failed("cluster", exc)
    return common.page(f"cluster {cluster_id}", body)
