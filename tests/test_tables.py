"""Tables exported whole (ingest.reports.tables), without the CLI: Parquet files and hive
folders, spreadsheet-safe CSV, names it refuses, and paths no quote can break."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from stores import CFR, CURATED, load

from ingest.errors import UsageError
from ingest.reports import results, tables


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("tables") / "store.duckdb"
    load(db, CURATED, CFR)
    return db


def _count(sql: str) -> int:
    with duckdb.connect() as con:
        return int(con.execute(sql).fetchall()[0][0])


def test_a_table_is_one_parquet_file_and_a_view_too(store: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        written = [tables.export_table(con, name, tmp_path, "parquet", False) for name in ("incidents", "v_clusters")]
    assert written == [tmp_path / "incidents.parquet", tmp_path / "v_clusters.parquet"]
    assert _count(f"SELECT count(*) FROM '{written[0]}'") == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incidents.parquet", "v_clusters.parquet"]


def test_partitioned_tables_are_hive_folders_by_source_and_month(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "it's here"  # a quote in the path: passed as a value, not spliced into the SQL
    folder.mkdir()
    with duckdb.connect(str(store), read_only=True) as con:
        written = tables.export_table(con, "incidents", folder, "parquet", True)
        assert tables.export_table(con, "rejects", folder, "parquet", True) == folder / "rejects.parquet"  # no month
    assert written == folder / "incidents"
    months = sorted(str(p.relative_to(written).parent) for p in written.rglob("*.parquet"))
    assert "source=cfr/month=2022-01" in months and "source=curated-incidents/month=2022-02" in months
    assert _count(f"SELECT count(*) FROM read_parquet('{written}/*/*/*.parquet')".replace("'s", "''s")) == 12


def test_a_second_export_replaces_the_first_whole(store: Path, tmp_path: Path) -> None:
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "stale.parquet").write_bytes(b"old")
    with duckdb.connect(str(store), read_only=True) as con:
        tables.export_table(con, "incidents", tmp_path, "parquet", True)
    assert not (tmp_path / "incidents" / "stale.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["incidents"]


def test_csv_is_what_a_query_of_the_table_writes(store: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        written = tables.export_table(con, "incident_actors", tmp_path, "csv", False)
        results.emit(con, "SELECT * FROM incident_actors", {}, "csv", tmp_path / "expected.csv")
    assert written == tmp_path / "incident_actors.csv"
    assert written.read_bytes() == (tmp_path / "expected.csv").read_bytes()
    assert written.read_bytes().count(b"\n") > 1 and b"\r" not in written.read_bytes()


def test_every_table_by_default_and_only_the_tables_it_knows() -> None:
    assert tables.chosen(None) == list(tables.EXPORTED)
    assert tables.chosen(["alerts", "v_timeline"]) == ["alerts", "v_timeline"]
    with pytest.raises(UsageError) as refused:
        tables.chosen(["alerts", "schema_version", "x; DROP TABLE incidents"])
    assert str(refused.value) == (
        f"cannot export schema_version, x; DROP TABLE incidents: choose from {', '.join(tables.EXPORTED)}"
    )


def test_export_table_refuses_a_name_it_does_not_know(store: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con, pytest.raises(UsageError, match="cannot export secrets"):
        tables.export_table(con, "secrets", tmp_path, "csv", False)
    assert list(tmp_path.iterdir()) == []
