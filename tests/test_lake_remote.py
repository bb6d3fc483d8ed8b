"""The store's work with a lake (ingest.lake.remote), without the CLI: bringing a lake up to
date, a report over it on DuckDB, what is refused, and which of Spark's failures are the
user's to fix (a message) and which are bugs (a traceback). No Spark job is started here:
test_spark runs the reports on Spark."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from stores import CFR, CURATED, load

from ingest.errors import QueryError, UsageError
from ingest.lake import remote
from ingest.reports import catalog, results


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("lake") / "store.duckdb"
    load(db, CURATED, CFR)
    return db


@pytest.fixture(scope="module")
def lake(store: Path) -> Path:
    folder = store.parent / "lake"
    remote.update(folder, store)
    return folder


def test_a_second_update_writes_only_what_changed(store: Path, lake: Path) -> None:
    again = remote.update(lake, store)
    assert {r.name for r in again} >= {"incidents", "incident_clusters"}
    assert sum(r.written for r in again) == 0 and sum(r.unchanged for r in again) > 0


def test_a_writer_name_is_checked_before_anything_is_written(store: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^writer name '\.\./x': use 1 to 64 letters"):
        remote.update(tmp_path / "lake", store, writer="../x")
    assert not (tmp_path / "lake").exists()


def test_a_report_over_the_lake_on_duckdb_is_the_report_on_the_store(store: Path, lake: Path, tmp_path: Path) -> None:
    report = catalog.get("timeline")
    params = report.bind({})
    remote.report_on_lake(report, params, "duckdb", lake, None, "csv", tmp_path / "lake.csv")
    with results.reading(store) as con:
        results.emit_report(con, report, params, "csv", tmp_path / "store.csv")
    assert (tmp_path / "lake.csv").read_bytes() == (tmp_path / "store.csv").read_bytes()
    assert (tmp_path / "lake.csv").read_bytes().count(b"\n") > 10


@pytest.mark.parametrize(
    ("engine", "where", "master", "fmt", "message"),
    [
        (
            "spark",
            None,
            None,
            "csv",
            "--engine spark runs over a lake: give --lake DIR (`cyberlog export --lake DIR` writes one)",
        ),
        (
            "duckdb",
            "empty",
            None,
            "csv",
            "{lake} holds no cyberlog lake (no manifest.json, no writers/*.json): "
            "`cyberlog export --lake {lake}` writes one",
        ),
        ("duckdb", "lake", None, "html", "--format html reads the store: run it without --lake"),
        ("duckdb", "lake", "local[2]", "csv", "--master is for --engine spark"),
        ("spark", "lake", None, "csv", "report lead_lag runs on DuckDB only: its Granger tests run in Python"),
    ],
)
def test_what_cannot_run_over_a_lake_is_refused_before_it_starts(
    lake: Path, tmp_path: Path, engine: str, where: str | None, master: str | None, fmt: str, message: str
) -> None:
    folder = {"lake": lake, "empty": tmp_path, None: None}[where]
    report = catalog.get("lead_lag")
    with pytest.raises(UsageError) as refused:
        remote.report_on_lake(report, report.bind({}), engine, folder, master, fmt, None)
    assert str(refused.value).startswith(message.format(lake=folder))


# Spark's failures, without starting Spark: its entry points stand in for a JVM.

spark_needed = pytest.mark.skipif(
    shutil.which("java") is None or not __import__("importlib").util.find_spec("pyspark"),
    reason="pyspark and a Java runtime",
)


class _Session:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


def _fails(exc: BaseException) -> Any:
    def raising(*args: object, **kwargs: object) -> Any:
        raise exc

    return raising


@spark_needed
def test_a_jvm_that_will_not_start_is_a_usage_error(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyspark.errors import PySparkRuntimeError

    from ingest.lake import spark

    exited = PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={})
    monkeypatch.setattr(spark, "session", _fails(exited))
    with pytest.raises(UsageError) as refused:
        remote.on_spark(catalog.get("timeline"), {}, lake, "bogus://x")
    assert str(refused.value) == (
        "Spark could not start (--master bogus://x): "
        "[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number."
    )


@spark_needed
def test_a_lost_cluster_is_a_query_error_and_the_session_stops(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from py4j.protocol import Py4JNetworkError

    from ingest.lake import spark

    session = _Session()
    monkeypatch.setattr(spark, "session", lambda master: session)
    monkeypatch.setattr(spark, "register_lake", _fails(Py4JNetworkError("Answer from Java side is empty")))
    with pytest.raises(QueryError) as failed:
        remote.on_spark(catalog.get("timeline"), {}, lake, "spark://gone:7077")
    assert str(failed.value) == "Spark: Answer from Java side is empty" and session.stopped


@spark_needed
def test_sql_sqlglot_cannot_translate_is_a_query_error(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.lake import spark

    monkeypatch.setattr(spark, "session", lambda master: _Session())
    monkeypatch.setattr(spark, "register_lake", lambda session, lake: None)
    report = catalog.get("timeline")
    broken = catalog.Report(report.name, report.title, report.description, (), (), "SELECT (1", report.path)
    with pytest.raises(QueryError, match=r"^Spark: "):
        remote.on_spark(broken, {}, lake, None)


@spark_needed
@pytest.mark.parametrize("phase", ["session", "register_lake"])
def test_a_bug_is_a_traceback_not_a_message(lake: Path, monkeypatch: pytest.MonkeyPatch, phase: str) -> None:
    from ingest.lake import spark

    monkeypatch.setattr(spark, "session", lambda master: _Session())
    monkeypatch.setattr(spark, phase, _fails(TypeError("a bug in cyberlog")))
    with pytest.raises(TypeError, match="a bug in cyberlog"):
        remote.on_spark(catalog.get("timeline"), {}, lake, None)
