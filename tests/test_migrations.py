"""Schema migrations: a store cyberlog 0.1.0 wrote (schema 1, tests/data/store-v1.duckdb.gz)
opens with today's code, is migrated in place with its data intact, and ends up with the
tables, columns and types of a store made new."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import rows, run

from ingest import store
from ingest.errors import StoreError
from ingest.store import SCHEMA_VERSION, open_store

STORE_V1 = Path(__file__).resolve().parent / "data" / "store-v1.duckdb.gz"
# what the refresh after a migration may rewrite from the shipped files: the CAMEO table,
# and the class of a coded event (GDELT, ICEWS), which follows it
REFRESHED = {"cameo_codes": "*", "diplomatic_events": "event_class"}


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    """A copy of the schema-1 store: the nightly over the bundled fixtures, a rejected file
    of events and one of alerts, and a link undone by hand (see tests/data/README.md)."""
    db = tmp_path / "store-v1.duckdb"
    with gzip.open(STORE_V1) as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return db


def _contents(db: Path, like: Path | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows in order, less what a refresh may rewrite and the version log; with
    `like`, only the tables and columns that store `like` had then (a copy taken before)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {}
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name <> 'schema_version'").fetchall()
        shape = _shape(like) if like else None
        for (table,) in tables:
            columns = [c for (c,) in con.execute(f'SELECT column_name FROM (DESCRIBE "{table}")').fetchall()]
            if shape is not None:
                columns = [c for c in columns if c in shape.get(table, ())]
            kept = [c for c in columns if REFRESHED.get(table) not in ("*", c)]
            if kept:
                found[table] = con.execute(f'SELECT {", ".join(kept)} FROM "{table}" ORDER BY ALL').fetchall()
        return found
    finally:
        con.close()


def _shape(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """What a store is made of: columns with their place, type, nullability and default;
    constraints; views, macros and sequences by name."""
    queries = {
        "columns": "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = 'main' ORDER BY ALL",
        # a CHECK as DuckDB 1.5 wrote it calls main.list_value, as 2.0 reads it list_value: the same
        "constraints": "SELECT table_name, constraint_type, constraint_column_names, "
        "regexp_replace(expression, '\\bmain\\.', '', 'g') FROM duckdb_constraints() ORDER BY ALL",
        "views": "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL",
        "macros": "SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal "
        "ORDER BY ALL",
        "sequences": "SELECT sequence_name FROM duckdb_sequences() ORDER BY ALL",
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}
    finally:
        con.close()


def test_migrations_run_from_2_to_the_schema_version_one_file_each():
    found = store.migrations()
    assert sorted(found) == list(range(2, SCHEMA_VERSION + 1))
    for path in found.values():  # each a runnable SQL file: DuckDB's parser reads every statement
        assert duckdb.extract_statements(path.read_text("utf-8")), path


def test_the_stored_v1_store_is_what_cyberlog_0_1_0_wrote(v1):
    assert rows(v1, "SELECT version FROM schema_version") == [(1,)]
    assert rows(v1, "SELECT count(*) FROM incidents") == [(29,)]


def _shape(db: Path) -> dict[str, set[str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        found: dict[str, set[str]] = {}
        for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall():
            found.setdefault(table, set()).add(column)
        return found


def test_a_v1_store_is_migrated_in_place_with_its_data_intact(v1, tmp_path):
    before = _contents(v1)
    old = shutil.copyfile(v1, tmp_path / "before.duckdb")
    with open_store(v1, write=True) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert rows(v1, "SELECT version FROM schema_version ORDER BY applied_at") == [(1,), (SCHEMA_VERSION,)]
    assert _contents(v1, like=old) == before
    # what later versions added holds nothing yet: new tables are empty, new columns NULL,
    # but for what is worked out from the data already there: each event cluster row's day
    added = {t: cs - _shape(old).get(t, set()) for t, cs in _shape(v1).items()}
    derived = {("event_clusters", "day"), ("schema_version", "fingerprint")}
    for table, columns in added.items():
        if table not in _shape(old):
            assert rows(v1, f'SELECT count(*) FROM "{table}"') == [(0,)], table
        for column in columns:
            if (table, column) not in derived:
                assert rows(v1, f'SELECT count("{column}") FROM "{table}"') == [(0,)], (table, column)
    assert rows(v1, "SELECT count(*) FROM event_clusters")[0][0] > 0
    assert rows(
        v1,
        "SELECT count(*) FROM event_clusters c JOIN diplomatic_events e USING (event_id) "
        "WHERE c.day IS DISTINCT FROM middle_day(e.occurred_at, e.occurred_latest)",
    ) == [(0,)]


def test_a_report_runs_on_a_migrated_v1_store(v1):
    with open_store(v1, write=True):
        pass
    params = ("-p", "since=2022-02-15", "-p", "until=2022-02-15", "-p", "window_hours=24")
    result = run("report", "run", "incidents_near_events", *params, "--format", "csv", "--db", v1)
    assert result.code == 0, result.err
    header, *lines = result.out.splitlines()
    assert header.startswith("incident_at,")
    assert any("DDoS" in line and "Ministry of Defence" in line for line in lines), result.out


def test_a_new_store_and_a_migrated_v1_store_are_made_of_the_same(v1, tmp_path):
    new = tmp_path / "new.duckdb"
    with open_store(new, write=True), open_store(v1, write=True):
        pass
    made, migrated = _shape(new), _shape(v1)
    for part in made:  # a difference means sql/schema.sql and sql/migrations/ disagree
        assert migrated[part] == made[part], part


def test_a_migration_that_fails_leaves_the_store_as_it_was(v1, tmp_path, monkeypatch):
    broken = tmp_path / f"{SCHEMA_VERSION:04d}_broken.sql"
    broken.write_text("ALTER TABLE incidents ADD COLUMN half_done VARCHAR;\nSELECT * FROM no_such_table;\n", "utf-8")
    shipped = store.migrations
    monkeypatch.setattr(store, "migrations", lambda: {**shipped(), SCHEMA_VERSION: broken})
    with pytest.raises(StoreError) as failed, open_store(v1, write=True):
        pass
    assert str(failed.value).startswith(f"{v1}: cannot migrate the store from schema 1 to {SCHEMA_VERSION}: ")
    assert f"{broken.name} failed (Catalog Error: Table with name no_such_table does not exist" in str(failed.value)
    assert rows(v1, "SELECT version FROM schema_version") == [(1,)]
    assert rows(v1, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'half_done'") == [(0,)]


def test_a_store_from_a_newer_cyberlog_is_refused_before_anything_is_written(v1):
    con = duckdb.connect(str(v1))
    con.execute("INSERT INTO schema_version (version) VALUES ($v)", {"v": SCHEMA_VERSION + 1})
    con.close()
    for write in (True, False):
        newer = f"store has schema version {SCHEMA_VERSION + 1}, newer than this cyberlog"
        with pytest.raises(StoreError, match=newer), open_store(v1, write=write):
            pass
    assert rows(v1, "SELECT max(version), count(*) FROM schema_version") == [(SCHEMA_VERSION + 1, 2)]
