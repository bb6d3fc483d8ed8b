"""The store itself: schema versions, rollback of a failed file, the module entry point."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import duckdb
import pytest
from conftest import CURATED_INCIDENTS, FIXTURES, ROOT, rows, run, scalar

from ingest import formats
from ingest.formats import incidents_csv
from ingest.reports import catalog as reports
from ingest.store import SCHEMA_VERSION, open_store

GOOD_INCIDENTS = FIXTURES / "incidents_csv" / "good" / "ukraine-2022.csv"


def test_schema_is_applied_once_and_versioned(loaded):
    assert run("ingest", GOOD_INCIDENTS, "--db", loaded).code == 0
    assert rows(loaded, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_store_from_a_newer_cyberlog_is_refused(loaded):
    con = duckdb.connect(str(loaded))
    con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.close()
    for args in (("query", "SELECT 1"), ("ingest", GOOD_INCIDENTS)):
        result = run(*args, "--db", loaded)
        assert result.code == 2
        assert "store has schema version 99, newer than this cyberlog" in result.err


def test_a_database_with_other_tables_is_not_made_a_store(tmp_path):
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE incidents (id INTEGER)")
    con.close()
    result = run("ingest", GOOD_INCIDENTS, "--db", other)
    assert result.code == 2
    assert result.err == (
        f"cyberlog: error: {other}: not a cyberlog store (tables, but no schema_version table): "
        "point --db at a store or a new file\n"
    )
    assert rows(other, "SELECT table_name FROM duckdb_tables()") == [("incidents",)]


def test_a_file_that_is_not_a_store(tmp_path):
    fake = tmp_path / "fake.duckdb"
    fake.write_text("not a database", "utf-8")
    result = run("query", "SELECT 1", "--db", fake)
    assert result.code == 2 and result.err.startswith(f"cyberlog: error: {fake}: cannot open the store")


def test_a_crash_mid_file_leaves_nothing_of_it(db, monkeypatch):
    """A bug halfway through a file rolls the whole file back; the file is recorded as failed
    and the run as exit 1 (the run's guard: the run goes on, see test_guard.py)."""
    calls = []

    def convert(row):
        calls.append(row.ref)
        if len(calls) == 5:
            raise RuntimeError("a bug in a converter")
        return incidents_csv.convert(row)

    # batches of 2: records 1-4 are staged in earlier batches
    monkeypatch.setitem(formats._REGISTRY, "incidents_csv", replace(incidents_csv.FORMAT, convert=convert, batch=2))
    crashed = run("ingest", GOOD_INCIDENTS, "--db", db)
    assert crashed.code == 1 and "RuntimeError: a bug in a converter — a bug: traceback in " in crashed.err
    monkeypatch.undo()
    assert scalar(db, "SELECT count(*) FROM incidents") == 0
    assert rows(db, "SELECT status FROM ingest_files") == [("failed",)]
    assert rows(db, "SELECT exit_code, finished_at IS NOT NULL FROM ingest_runs") == [(1, True)]
    # and the next run loads the file whole
    assert run("ingest", GOOD_INCIDENTS, "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM incidents") == CURATED_INCIDENTS


def test_python_dash_m_ingest_is_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ingest", "report", "list"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith(f"{reports.all_reports()[0].name}\t")
    version = subprocess.run([sys.executable, "-m", "ingest", "--version"], capture_output=True, text=True, check=False)
    assert version.stdout.startswith("cyberlog 0.1.0 (duckdb ")


@pytest.mark.parametrize(
    ("write", "env", "expected"),
    [
        (True, None, 512 * 10**6),
        (False, None, 10**9),
        (False, "2GB", 2 * 10**9),
        (True, "2GB", 2 * 10**9),
    ],
)
def test_memory_is_capped_for_writers_and_readers(loaded, monkeypatch, write, env, expected):
    """DuckDB's share of memory is capped so big ingests and reports spill to disk, not swap."""
    if env:
        monkeypatch.setenv("CYBERLOG_MEMORY_LIMIT", env)
    else:
        monkeypatch.delenv("CYBERLOG_MEMORY_LIMIT", raising=False)
    with open_store(loaded, write=write) as con:
        limit = con.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()
    assert limit is not None
    number, unit = str(limit[0]).split()
    factor = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 10**3, "MB": 10**6, "GB": 10**9}[unit]
    assert float(number) * factor == pytest.approx(expected, rel=0.05)  # shown rounded, e.g. "1.8 GiB"


def test_a_store_with_alert_hashes_as_text_is_upgraded_and_its_alerts_stay_unchanged(db, tmp_path):
    eve = FIXTURES / "eve" / "good" / "ids01-2022-02-15.json"
    assert run("ingest", eve, "--db", db).code == 0
    con = duckdb.connect(str(db))  # as cyberlog wrote it before the hash became a number
    con.execute("ALTER TABLE alerts ALTER content_hash TYPE VARCHAR")
    con.execute("UPDATE schema_version SET version = 1")  # as a store made by schema 1
    con.close()
    grown = tmp_path / "ids01-grown.json"  # the same log with one more alert: new bytes, same alerts
    last = eve.read_text("utf-8").splitlines()[-1]
    grown.write_text(eve.read_text("utf-8") + last.replace('"flow_id":', '"flow_id":9').rstrip() + "\n", "utf-8")
    result = run("ingest", grown, "--db", db, "--json")
    assert result.code == 0, result.err
    assert (
        scalar(
            db,
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'alerts' AND column_name = 'content_hash'",
        )
        == "UBIGINT"
    )
    assert '"unchanged": 38' in result.out and '"inserted": 1' in result.out
