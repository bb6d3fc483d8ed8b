"""The index and the canned reports: a report's form, its rows a page at a time, its rows
as CSV, JSON or Parquet, and its picture page.

A report is found by its name among the catalog's reports, never by a path: any other name
is a 404, so no address reaches a file.
"""

from __future__ import annotations

import io
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ingest.errors import CyberlogError
from ingest.reports import catalog, page, results
from ingest.web import common, forms, render
from ingest.web.render import esc, href

if TYPE_CHECKING:
    from ingest.reports.catalog import Report

_OTHER = (
    ("/sql", "ad-hoc SQL", "a read-only statement over the store"),
    ("/sources", "sources", "each source: records, newest data, last run, rejects"),
    ("/runs", "runs", "the ingest runs, newest first"),
    ("/rejects", "rejects", "records the loaders refused, outstanding"),
    ("/clusters", "clusters", "incidents several sources reported, and why they were joined"),
)


@cache
def reports() -> dict[str, Report]:
    """The catalog's reports by name: the only names a report address may take."""
    return {report.name: report for report in catalog.all_reports()}


def index(request: Request) -> HTMLResponse:
    listed = "".join(
        f'<tr><td><a href="/reports/{esc(r.name)}">{esc(r.name)}</a></td><td>{esc(r.title)}</td></tr>'
        for r in reports().values()
    )
    other = "".join(f'<li><a href="{path}">{esc(text)}</a>: {esc(what)}</li>' for path, text, what in _OTHER)
    body = (
        f'<h2>reports</h2><table class="reports"><thead><tr><th>name</th><th>title</th></tr></thead>'
        f"<tbody>{listed}</tbody></table><h2>the store</h2><ul>{other}</ul>"
    )
    return common.page("cyberlog", body)


def _rows(request: Request, report: Report, params: dict[str, Any]) -> tuple[list[str], results.Rows]:
    with common.store(request) as store:
        return results.report_rows(store.con, report, params)


def report(request: Request) -> Response:
    """`/reports/NAME`: the form and a page of rows; `/reports/NAME.csv` (.json, .parquet): the rows."""
    name = request.path_params["name"]
    base, _, fmt = name.rpartition(".")
    if base and fmt in common.FORMATS:
        return _download(request, base, fmt)
    found = reports().get(name)
    if found is None:
        return common.not_found(f"no report named {name!r}: the index lists them")
    query = common.query_pairs(request)
    given = forms.given(query)
    about = f'<details><summary>what it answers</summary><p class="sub">{esc(found.description)}</p></details>'
    head = about + forms.form(found, given)
    try:
        params = found.bind(given)
        columns, rows = _rows(request, found, params)
    except CyberlogError as exc:
        return common.failed(found.title, exc, head)
    picture = f'<a class="picture" href="{href(f"/reports/{name}/page", _kept(query))}">the picture page</a>'
    body = (
        head
        + f'<h2>result</h2><p class="links">{picture}</p>'
        + render.downloads(f"/reports/{name}", query)
        + render.paged(columns, rows, render.page_number(request.query_params.get("page")), f"/reports/{name}", query)
    )
    return common.page(found.title, body)


def _kept(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in query if k != "page"]


def _download(request: Request, name: str, fmt: str) -> Response:
    found = reports().get(name)
    if found is None:
        return common.not_found(f"no report named {name!r}")
    try:
        params = found.bind(forms.given(common.query_pairs(request)))
        columns, rows = _rows(request, found, params)
    except CyberlogError as exc:
        return common.failed(found.title, exc)
    return common.download(name, fmt, columns, rows)


def picture_page(request: Request) -> Response:
    """`/reports/NAME/page`: the self-contained page `report run --format html` writes."""
    name = request.path_params["name"]
    found = reports().get(name)
    if found is None:
        return common.not_found(f"no report named {name!r}")
    try:
        params = found.bind(forms.given(common.query_pairs(request)))
        with common.store(request) as store:
            text = _page(store.con, found, params)
    except CyberlogError as exc:
        return common.failed(found.title, exc)
    return HTMLResponse(text, headers=common.HEADERS)


def _page(con: duckdb.DuckDBPyConnection, report: Report, params: dict[str, Any]) -> str:
    """The report's page, as `report run NAME --format html` writes it."""
    out = io.StringIO()
    page.render(con, report, params, out)
    return out.getvalue()
