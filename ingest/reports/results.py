"""A statement's or a report's rows, written to stdout or to a file that appears only once
it is complete, by the writer of the format asked for (`export`).

Reading goes through `reading`: a read-only store that cannot touch files outside it
either, so `cyberlog query` cannot be turned into a way to read or write other files.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import duckdb

from ingest.errors import CyberlogError, QueryError, UsageError
from ingest.reports import export
from ingest.store import damage, interrupted_query, open_store

if TYPE_CHECKING:
    from ingest.reports.catalog import Report

HTML_NEEDS_REPORT = "--format html draws a report: use `cyberlog report run NAME --format html`"
Rows = list[tuple[Any, ...]]
LOOK = export.Look()


@contextmanager
def reading(db: Path | None, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection that cannot touch files outside the store either."""
    with open_store(db, write=False, wait=wait) as con:
        con.execute("SET enable_external_access = false")
        yield con


@contextmanager
def destination(out: Path | None, fmt: str) -> Iterator[TextIO]:
    """stdout, or a file that appears only once it is complete, with the mode any new file
    of the user's gets (0666 less the umask), not the 0600 of a temporary file."""
    if out is None:
        if export.writer(fmt).binary:
            raise UsageError(f"--format {fmt} writes a binary file: give --out FILE.{fmt}")
        yield sys.stdout
        return
    temp = out.with_name(f".{out.name}.{secrets.token_hex(6)}.part")
    # created as any new file of the user's: the kernel takes the umask off 0666 (mkstemp forces 0600)
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline=export.writer(fmt).newline) as stream:
            yield stream
        temp.replace(out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def query_error(exc: duckdb.Error) -> CyberlogError:
    """DuckDB's complaint about a statement, its first line: what the user can fix; or the
    store found damaged while the statement read it, the machine's fault (exit 6)."""
    if damaged := damage(exc):
        return damaged
    return QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def write(
    columns: list[str],
    rows: Iterator[tuple[Any, ...]],
    fmt: str,
    out: Path | None,
    look: export.Look = LOOK,
) -> None:
    """Rows in a format; a table in a file is written whole, on stdout as `look` says."""
    with destination(out, fmt) as stream:
        export.write_rows(stream, fmt, columns, rows, look if out is None else replace(look, full=True))


def emit(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any],
    fmt: str,
    out: Path | None,
    look: export.Look = LOOK,
) -> None:
    """Run a statement and write its rows; its errors are the user's (QueryError)."""
    if fmt == "html":
        raise UsageError(HTML_NEEDS_REPORT)
    try:
        if fmt == "csv" and emit_csv_text(con, sql, params, out, look):
            return
        cursor = con.execute(sql, params)
        write([d[0] for d in cursor.description or []], _fetched(cursor), fmt, out, look)
    except duckdb.Error as exc:
        if interrupted_query(exc):  # Ctrl-C: the command ends as interrupted, not as a bad query
            raise
        raise query_error(exc) from None


def _fetched(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    while chunk := cursor.fetchmany(10_000):
        yield from chunk


def _without_tail(sql: str) -> str:
    """The statement without the semicolons and whole-line comments that may end it."""
    body = sql.strip()
    while body:
        last_line = body.rsplit("\n", 1)[-1].lstrip()
        if body.endswith(";"):
            body = body[:-1].rstrip()
        elif last_line.startswith("--"):
            body = body.rsplit("\n", 1)[0].rstrip() if "\n" in body else ""
        else:
            break
    return body


def emit_csv_text(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], out: Path | None, look: export.Look
) -> bool:
    """CSV with every cell turned to text inside DuckDB: the same bytes, far faster on big results.

    False when the statement or its column types need the Python road; that road then
    runs the statement and reports any error it has.
    """
    body = _without_tail(sql)
    if not body:
        return False
    try:
        relation = con.sql(body, params=params or None)
    except duckdb.Error as exc:
        if interrupted_query(exc):
            raise
        return False
    if relation is None:
        return False
    projections = export.csv_text_sql(relation.columns, [str(t) for t in relation.types], raw=look.raw)
    if projections is None:
        return False
    try:
        batches = relation.project(projections[0]).project(projections[1]).to_arrow_reader(10_000)
    except duckdb.Error as exc:
        if interrupted_query(exc):  # not a statement for the Python road: it would run it all again
            raise
        return False

    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        for batch in batches:
            yield list(zip(*(column.to_pylist() for column in batch.columns), strict=True))

    with destination(out, "csv") as stream:
        export.write_csv_text(stream, relation.columns, chunks(), raw=look.raw, crlf=look.crlf)
    return True


def report_rows(con: duckdb.DuckDBPyConnection, report: Report, params: dict[str, Any]) -> tuple[list[str], Rows]:
    """A report's columns and rows: its SELECT's, or what its Python step makes of them."""
    from ingest.reports import catalog as reports

    try:
        cursor = con.execute(report.sql, report.sql_params(params))
        columns = [d[0] for d in cursor.description or []]
        found = cursor.fetchall()
    except duckdb.Error as exc:
        raise query_error(exc) from None
    return reports.compute(report, found, params) if report.compute else (columns, found)


def emit_report(
    con: duckdb.DuckDBPyConnection,
    report: Report,
    params: dict[str, Any],
    fmt: str,
    out: Path | None,
    look: export.Look = LOOK,
) -> None:
    """A report's rows written: a plain report streams its SELECT, a compute report its result."""
    if report.compute is None:
        emit(con, report.sql, params, fmt, out, look)
        return
    if fmt == "html":
        raise UsageError(HTML_NEEDS_REPORT)
    columns, found = report_rows(con, report, params)
    write(columns, iter(found), fmt, out, look)
