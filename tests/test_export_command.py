"""`cyberlog export`: tables and views to Parquet (or spreadsheet-safe CSV) for notebooks
and other engines, read back here by DuckDB."""

from __future__ import annotations

import csv

import duckdb
from conftest import run


def _count(sql: str) -> int:
    return int(duckdb.connect().execute(sql).fetchall()[0][0])


def test_every_table_and_view_exports_to_parquet_whole(fixture_store, tmp_path):
    out = tmp_path / "out"
    result = run("export", out, "--db", fixture_store)
    assert result.code == 0, result.err
    with duckdb.connect(str(fixture_store), read_only=True) as con:
        for name in ("incidents", "alerts", "diplomatic_events", "rejects", "v_incidents", "v_timeline"):
            stored = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            assert _count(f"SELECT count(*) FROM '{out / (name + '.parquet')}'") == stored, name
    assert not list(out.glob(".*.part"))


def test_partitioned_by_source_and_month(fixture_store, tmp_path):
    out = tmp_path / "lake"
    assert run("export", out, "--partition", "-t", "alerts", "-t", "incidents", "--db", fixture_store).code == 0
    assert (out / "alerts" / "source=ids" / "month=2022-02").is_dir()
    total = _count(f"SELECT count(*) FROM read_parquet('{out}/alerts/**/*.parquet', hive_partitioning = true)")
    with duckdb.connect(str(fixture_store), read_only=True) as con:
        assert total == con.execute("SELECT count(*) FROM alerts").fetchall()[0][0]
    months = _count(
        f"SELECT count(DISTINCT month) FROM read_parquet('{out}/incidents/**/*.parquet', hive_partitioning = true)"
    )
    assert months >= 2
    # a second export replaces the folder, it does not add to it
    assert run("export", out, "--partition", "-t", "alerts", "--db", fixture_store).code == 0
    assert total == _count(f"SELECT count(*) FROM read_parquet('{out}/alerts/**/*.parquet', hive_partitioning = true)")


def test_csv_export_is_spreadsheet_safe(fixture_store, tmp_path):
    out = tmp_path / "csv"
    assert run("export", out, "--format", "csv", "-t", "v_timeline", "--db", fixture_store).code == 0
    table = list(csv.reader((out / "v_timeline.csv").open(encoding="utf-8", newline="")))
    assert table[0][:3] == ["kind", "id", "source"]
    assert all(not cell.startswith(("=", "+", "@")) for row in table for cell in row)


def test_bad_export_requests_are_usage_errors(fixture_store, tmp_path):
    unknown = run("export", tmp_path, "-t", "secrets", "--db", fixture_store)
    assert unknown.code == 2 and "cannot export secrets" in unknown.err
    mixed = run("export", tmp_path, "--format", "csv", "--partition", "--db", fixture_store)
    assert mixed.code == 2 and "--partition writes Parquet" in mixed.err
