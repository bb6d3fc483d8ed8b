"""The same answers on Spark: every canned report, translated from its one DuckDB copy by
sqlglot (and ingest/lake/spark.py's rewrites), run on Apache Spark in local mode over the
fixtures' lake, against DuckDB over the same lake.

Rows are compared in the order each report's ORDER BY gives (every report orders its rows
fully); numbers compare with a relative tolerance of 1e-9 (DuckDB's DOUBLE against Spark's
DOUBLE or DECIMAL), everything else exactly. Needs pyspark and a Java 17+ runtime; skips,
saying which is missing, without them.
"""

from __future__ import annotations

import importlib.util
import math
import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import FIXTURES, run

from ingest.errors import UsageError
from ingest.lake import parquet as lakes
from ingest.reports import catalog as reports

spark_module = pytest.importorskip(
    "ingest.lake.spark", reason="sqlglot is not installed (pip install 'cyberlog[spark]')"
)

PARAMS: dict[str, list[dict[str, str]]] = {  # besides each report's defaults
    "incidents_near_events": [
        {"country": "UKR", "window_hours": "24"},
        {"event_class": "sanction"},
        {"since": "2022-02-15", "until": "2022-02-15", "coarsest": "hour"},
    ],
    "targets_by_period": [{"period": "week", "tz": "Europe/Kyiv"}, {"sector": "finance", "period": "month"}],
    "event_study": [
        {"event_class": "talks", "permutations": "50", "seed": "3"},
        {"group": "day", "block_weeks": "2", "since": "2022-01-01", "until": "2022-03-31"},
        {"group": "event", "event_class": "visit"},
    ],
    "lag_profile": [
        {"bin": "hour", "k": "12", "permutations": "40"},
        {"k": "3", "block_weeks": "1"},
        {"event_class": "talks", "seed": "9", "tz": "Europe/Kyiv", "k": "5"},
    ],
    "timeline": [{"since": "2022-02-14", "until": "2022-02-16"}],
    "attribution_lag": [{"country": "UKR"}],
    "ingest_health": [{}],
    "attack_bursts": [{"since": "2022-02-15", "until": "2022-02-15"}, {"category": "DDoS"}],
}


def _java() -> bool:
    return bool(os.environ.get("JAVA_HOME")) or shutil.which("java") is not None


needs_spark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or not _java(),
    reason="Spark needs pyspark (pip install 'cyberlog[spark]') and a Java 17+ runtime (a JDK, or JAVA_HOME)",
)


@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spark")
    db, lake = folder / "store.duckdb", folder / "lake"
    assert run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db).code == 0
    assert run("export", "--lake", lake, "--db", db).code == 0
    return lake


@pytest.fixture(scope="module")
def spark(fixture_lake: Path) -> Any:
    session = spark_module.session("local[2]")
    spark_module.register_lake(session, fixture_lake)
    yield session
    session.stop()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@needs_spark
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_report_gives_the_same_rows_on_spark(name: str, spark: Any, fixture_lake: Path) -> None:
    report = reports.get(name)
    assert name not in spark_module.DUCKDB_ONLY
    with lakes.duckdb_over_lake(fixture_lake) as duck:
        for given in [{}, *PARAMS[name]]:
            params = report.bind(given)
            cursor = duck.execute(report.sql, params)
            want_columns = [d[0] for d in cursor.description or []]
            want = cursor.fetchall()
            columns, got = spark_module.run_report(spark, name, report.sql, params)
            assert columns == want_columns, (name, given)
            assert len(got) == len(want), (name, given)
            for i, (w, g) in enumerate(zip(want, got, strict=True)):
                differ = [(c, x, y) for c, x, y in zip(columns, w, g, strict=True) if not _same(x, y)]
                assert not differ, (name, given, i, differ)
            if name != "ingest_health":
                assert want, f"{name} {given} has no rows on the fixtures: the comparison would prove little"


def test_every_report_runs_on_spark_or_says_why_not() -> None:
    assert set(PARAMS) | set(spark_module.DUCKDB_ONLY) == {r.name for r in reports.all_reports()}
    assert not set(PARAMS) & set(spark_module.DUCKDB_ONLY)


def test_a_duckdb_only_report_is_refused_before_spark_starts(fixture_lake: Path) -> None:
    result = run("report", "run", "lead_lag", "--engine", "spark", "--lake", fixture_lake)
    assert result.code == 2
    assert result.err == (
        f"cyberlog: error: report lead_lag runs on DuckDB only: {spark_module.DUCKDB_ONLY['lead_lag']}\n"
    )


@needs_spark
def test_the_views_hold_the_same_rows_on_spark(spark: Any, fixture_lake: Path) -> None:
    with lakes.duckdb_over_lake(fixture_lake) as duck:
        for view in (
            "v_incidents",
            "v_clusters",
            "v_attacks",
            "v_attack_targets",
            "v_timeline",
            "v_cluster_disagreements",
            "v_derived_evidence",
            "v_source_records",
        ):
            cursor = duck.execute(f"SELECT * FROM {view}")
            # 128-bit integers (IP numbers) have no Spark type: the lake gives them to Spark as text
            text = [str(d[1]) in lakes.AS_TEXT for d in cursor.description or []]
            want = sorted(
                repr(tuple(str(v) if t and v is not None else _plain(v) for v, t in zip(row, text, strict=True)))
                for row in cursor.fetchall()
            )
            got = sorted(
                repr(tuple(_plain(spark_module._python(v)) for v in row)) for row in spark.table(view).collect()
            )
            assert got == want, view


def _plain(value: Any) -> Any:
    """A view's value to compare by repr: instants in UTC whatever their tzinfo object."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_translation_refuses_what_would_change_an_answer() -> None:
    with pytest.raises(UsageError, match="portable_hash"):
        spark_module.translate("SELECT hash(1, 2)")
    with pytest.raises(UsageError, match="list_slice"):
        spark_module.translate("SELECT l[1:2] FROM t")
    with pytest.raises(UsageError, match="no Spark equivalent"):
        spark_module.translate("SELECT strftime(x, '%G') FROM t")
    with pytest.raises(UsageError, match="has no value"):
        spark_module.translate("SELECT $missing", {})


def test_translation_of_duckdb_only_forms() -> None:
    sql = spark_module.translate(
        "SELECT l[2], list_position(l, 'x'), strftime(t, '%Y-%m-%dT%H:%MZ'), epoch(t), [v FOR v IN l IF v <> 'a'] "
        "FROM s, range(0, $n) AS r(i)",
        {"n": 3},
    )
    assert "TRY_ELEMENT_AT(l, CAST(2 AS INT))" in sql
    assert "TRY_ELEMENT_AT(l, CAST(-1 AS INT)), TRY_ELEMENT_AT(l, CAST(1 + i AS INT))" in spark_module.translate(
        "SELECT l[-1], l[1 + i] FROM t"
    )
    assert "NULLIF(ARRAY_POSITION(l, 'x'), 0)" in sql
    assert "DATE_FORMAT(t, 'yyyy-MM-dd\\'T\\'HH:mm\\'Z\\'')" in sql  # Spark reads \' as a quote
    assert "UNIX_MICROS" in sql and "FILTER(l, v -> v <> 'a')" in sql
    assert "SEQUENCE(0, (3) - 1)" in sql and "LATERAL" in sql


@needs_spark
def test_round_gives_duckdbs_digits_at_ties(spark: Any) -> None:
    """0.4875 is 0.48749999... as a DOUBLE: DuckDB rounds it to 0.487, Spark's own ROUND to
    0.488. The translation must give DuckDB's digits for ties, near-ties and the rest."""
    rng = random.Random(7)
    values = {i / d for d in (8, 40, 200, 1000, 3) for i in range(-60, 61)}
    values |= {rng.uniform(-1000, 1000) for _ in range(200)} | {2.675, 1.0005, 0.0125, 1e-9, 123456.78905}
    rows = ", ".join(f"(CAST('{v!r}' AS DOUBLE))" for v in sorted(values))
    digits = ", ".join(f"round(x, {n})" for n in range(5))
    sql = f"SELECT x, {digits} FROM (VALUES {rows}) AS t(x) ORDER BY x"
    want = duckdb.sql(sql).fetchall()
    got = [tuple(float(v) for v in row) for row in spark.sql(spark_module.translate(sql)).collect()]
    assert [w for w, g in zip(want, got, strict=True) if w != g] == []
    assert duckdb.sql("SELECT round((19 + 0.5 * 1) / 40, 3)").fetchall() == [(0.487,)]


@needs_spark
def test_report_run_on_spark_writes_the_stores_csv(fixture_lake: Path, spark: Any) -> None:
    """After every test that uses the shared session: the command stops it."""
    store = fixture_lake.parent / "store.duckdb"
    args = ["-p", "since=2022-02-15", "-p", "until=2022-02-15", "-p", "window_hours=24", "--format", "csv"]
    want = run("report", "run", "incidents_near_events", *args, "--db", store)
    got = run("report", "run", "incidents_near_events", *args, "--engine", "spark", "--lake", fixture_lake)
    assert want.code == got.code == 0, got.err
    assert got.out == want.out and got.out.count("\n") > 5


@needs_spark
def test_a_master_spark_cannot_use_is_a_usage_error(fixture_lake: Path) -> None:
    """In its own process: in this one, Spark would hand back the tests' running session."""
    args = ["report", "run", "timeline", "--engine", "spark", "--lake", str(fixture_lake), "--master", "bogus://x"]
    result = subprocess.run([sys.executable, "-m", "ingest", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Spark could not start (--master bogus://x)" in result.stderr and "Traceback" not in result.stderr
