"""The store's work with a lake, for the commands: bring a lake (or this store's share of
it) up to date, and run a canned report away from the store, on DuckDB over the lake's
files or on Spark.

What Spark raises when it cannot start or cannot run a report is the user's to fix (a
master URL, a cluster, a Java runtime): a message, not a traceback. Anything else is a bug.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.errors import QueryError, UsageError
from ingest.lake import parquet as lakes
from ingest.reports import export, results
from ingest.store import open_store, resolve_db, scalar

# Reports that cannot run on Spark, and why: kept DuckDB-only (docs/lake.md lists them).
DUCKDB_ONLY: dict[str, str] = {
    "lead_lag": "its Granger tests run in Python (statsmodels) over the daily series DuckDB builds",
}

if TYPE_CHECKING:
    from ingest.reports.catalog import Report


def update(
    lake: Path, db: Path | None, wait: float | None = None, writer: str | None = None
) -> list[lakes.TableResult]:
    """Write what changed in the store since the lake (or the writer's share) last saw it."""
    if writer is not None:
        lakes.check_writer(writer)
    path = resolve_db(db)
    with open_store(db, write=False, wait=wait) as con:
        version = scalar(con, "SELECT max(version) FROM schema_version")
        return lakes.export(con, lake, path, version, writer)


def check(lake: Path | None, engine: str, master: str | None, fmt: str) -> Path:
    """The lake a report runs over, refusing what cannot run there."""
    if lake is None:
        raise UsageError("--engine spark runs over a lake: give --lake DIR (`cyberlog export --lake DIR` writes one)")
    if not lakes.is_lake(lake):
        raise UsageError(
            f"{lake} holds no cyberlog lake (no {lakes.MANIFEST}, no writers/*.json): "
            f"`cyberlog export --lake {lake}` writes one"
        )
    if fmt == "html":
        raise UsageError("--format html reads the store: run it without --lake")
    if engine == "duckdb" and master is not None:
        raise UsageError("--master is for --engine spark")
    return lake


def report_on_lake(
    report: Report,
    params: dict[str, Any],
    engine: str,
    lake: Path | None,
    master: str | None,
    fmt: str,
    out: Path | None,
    look: export.Look = results.LOOK,
) -> None:
    """A canned report over a lake, written as `fmt`: on DuckDB (in memory, over the lake's
    files) or on Spark (`engine` "spark", locally or on the cluster `master` names)."""
    lake = check(lake, engine, master, fmt)
    if engine == "duckdb":
        with lakes.duckdb_over_lake(lake) as con:
            results.emit_report(con, report, params, fmt, out, look)
        return
    columns, rows = on_spark(report, params, lake, master)
    results.write(columns, iter(rows), fmt, out, look)


def on_spark(
    report: Report, params: dict[str, Any], lake: Path, master: str | None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A report's columns and rows as Spark computes them over the lake."""
    if report.name in DUCKDB_ONLY:
        raise UsageError(f"report {report.name} runs on DuckDB only: {DUCKDB_ONLY[report.name]}")
    if importlib.util.find_spec("sqlglot") is None:
        raise UsageError("--engine spark needs sqlglot: pip install 'cyberlog[spark]' (and a Java 17+ runtime)")
    from ingest.lake import spark

    spark.check_available()  # pyspark and Java, or a usage error saying what to install
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]  # py4j ships no types
    from pyspark.errors import PySparkRuntimeError
    from pyspark.errors.exceptions.captured import CapturedException
    from sqlglot.errors import SqlglotError

    try:
        session = spark.session(master)
    # a JVM that would not start (a master URL spark-submit refuses, no usable Java): PySparkRuntimeError;
    # a master the running JVM cannot parse or reach: Py4JError (Py4JJavaError) or one Spark captured
    except (PySparkRuntimeError, CapturedException, Py4JError) as exc:
        raise UsageError(f"Spark could not start (--master {master or 'local[*]'}): {spark.message(exc)}") from None
    try:
        spark.register_lake(session, lake)
        return spark.run_report(session, report.name, report.sql, params)
    # Spark's own errors (analysis, parsing, a failed job: captured; a lost cluster or gateway: Py4JError)
    # and SQL sqlglot cannot translate: its message, not its traceback
    except (CapturedException, Py4JError, SqlglotError) as exc:
        raise QueryError(f"Spark: {spark.message(exc)}") from None
    finally:
        session.stop()
