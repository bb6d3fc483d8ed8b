"""The notebook API: the store and its canned reports from Python.

    import ingest
    with ingest.connect("cyberlog.duckdb") as store:
        store.report("lag_profile", event_class="sanction").df()
        store.query("SELECT * FROM v_incidents WHERE $c = ANY(target_countries)", {"c": "UKR"}).arrow()
        [r.name for r in store.reports()]

`query` and `report` return DuckDB relations, so `.df()`, `.arrow()`, `.pl()` and
`.fetchall()` come with them. A report's params are checked and typed as `report run -p`
checks them (`country="Ukraine"` reads as UKR, an unknown param or value raises
`UsageError` with what it takes). The store opens read-only, and reads the snapshot while a
nightly writes (see `ingest.snapshot`). Errors are cyberlog's own (`ingest.errors`):
`QueryError` for SQL the store refuses, `StoreBusy`, `StoreError`, `UsageError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingest.errors import UsageError
from ingest.reports import catalog, results
from ingest.store import open_store, resolve_db


@dataclass(frozen=True)
class ParamInfo:
    """One param of a report: its name, type (with the values it takes), default and help."""

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class ReportInfo:
    """A canned report as `store.reports()` describes it."""

    name: str
    title: str
    description: str
    params: tuple[ParamInfo, ...]
    examples: tuple[str, ...]


class Store:
    """A read-only connection to a cyberlog store (`connect` makes one). Close it, or use it
    in a `with` block: DuckDB lets no nightly write the store while it is open (unless it
    reads the snapshot)."""

    def __init__(self, path: Path, *, wait: float | None = None) -> None:
        self.path = path
        self._stack = ExitStack()
        self.con: duckdb.DuckDBPyConnection = self._stack.enter_context(open_store(path, write=False, wait=wait))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyRelation:
        """Ad-hoc SQL, with `$name` params bound from `params`; a relation to take as you like."""
        try:
            return self.con.sql(sql, params=dict(params or {}))
        except duckdb.Error as exc:
            raise results.query_error(exc) from None

    def report(self, name: str, **params: Any) -> duckdb.DuckDBPyRelation:
        """A canned report's rows, its params given as keywords (values as `-p` takes them,
        or Python dates, numbers and booleans); every param left out has its default."""
        report = catalog.get(name)
        bound = report.bind({key: _text(value) for key, value in params.items()})
        if report.compute is None:
            return self.query(report.sql, report.sql_params(bound))
        columns, rows = results.report_rows(self.con, report, bound)
        import pyarrow as pa

        table = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows]) if rows else None
        if table is None:  # no rows: the columns still, typed as text
            table = pa.table({column: pa.array([], pa.string()) for column in columns})
        return self.con.from_arrow(table)

    def reports(self) -> list[ReportInfo]:
        """Every canned report, its params with their types, choices, defaults and help."""
        return [
            ReportInfo(
                report.name,
                report.title,
                report.description,
                tuple(ParamInfo(p.name, p.type_text, p.default, p.help, p.choices) for p in report.params),
                report.examples,
            )
            for report in catalog.all_reports()
        ]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<cyberlog store {str(self.path)!r}>"


def connect(path: str | Path | None = None, *, wait: float | None = None) -> Store:
    """The store at `path` (else $CYBERLOG_DB, else ./cyberlog.duckdb), read-only."""
    return Store(resolve_db(Path(path) if path is not None else None), wait=wait)


def _text(value: Any) -> str:
    """A Python value as the text a report's param parses."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        raise UsageError(f"a report param takes one value, not {type(value).__name__} {value!r}")
    return str(value)
