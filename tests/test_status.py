"""`cyberlog status`: what the store holds at a glance, for people and for cron's JSON."""

from __future__ import annotations

import json

import duckdb
from conftest import FIXTURE_FILES, FIXTURES, rows, run


def _status(db) -> dict:
    result = run("status", "--db", db, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_status_after_the_nightly_lists_every_source(fixture_store):
    status = _status(fixture_store)
    assert status["store"]["runs"] == 1 and status["store"]["last_run_exit"] == 0
    assert status["store"]["runs_unfinished"] == 0 and status["store"]["runs_not_derived"] == 0
    by_source = {s["source"]: s for s in status["sources"]}
    assert by_source["ids"] | {"last_run_at": None} == {
        "source": "ids",
        "kind": "alerts",
        "records": 38,
        "newest_data": "2022-02-15T16:40:11.620948Z",
        "last_run_at": None,
        "last_exit": 0,
        "files_loaded": 1,
        "files_failed": 0,
        "rejects": 0,
        "time_disagreements": 0,
        "unmapped": 2,
        "last_fetched_at": None,
    }
    assert by_source["derived"]["kind"] == "incidents" and by_source["derived"]["records"] == 3
    assert sum(s["files_loaded"] for s in status["sources"]) == FIXTURE_FILES


def test_status_shows_rejects_failed_files_and_the_exit_code(tmp_path):
    db = tmp_path / "s.duckdb"
    assert run("ingest", FIXTURES / "eve" / "bad" / "ids01-broken.json", "--source", "ids", "--db", db).code == 3
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert run("ingest", broken, "--format", "eve", "--source", "ids", "--db", db).code == 3
    (ids,) = _status(db)["sources"]
    assert (ids["records"], ids["rejects"], ids["files_loaded"], ids["files_failed"], ids["last_exit"]) == (
        2,
        6,
        1,
        1,
        3,
    )


def test_a_killed_run_shows_as_unfinished(fixture_store, tmp_path):
    db = tmp_path / "s.duckdb"
    db.write_bytes(fixture_store.read_bytes())
    with duckdb.connect(str(db)) as con:
        con.execute(
            "INSERT INTO ingest_runs (run_id, command, cyberlog_version, started_at) "
            "VALUES ('killed', 'nightly', 'x', now() + INTERVAL 1 HOUR)"
        )
    store = _status(db)["store"]
    assert (store["runs"], store["runs_unfinished"], store["last_run_exit"]) == (2, 1, None)


def test_status_as_text_and_without_a_store(fixture_store, tmp_path):
    result = run("status", "--db", fixture_store)
    assert result.code == 0
    assert "runs_unfinished:" in result.out and "source" in result.out and "waf" in result.out
    missing = run("status", "--db", tmp_path / "none.duckdb")
    assert missing.code == 2 and "no store here yet" in missing.err


def test_status_of_a_store_from_before_remote_sources(fixture_store, tmp_path):
    db = tmp_path / "old.duckdb"
    db.write_bytes(fixture_store.read_bytes())
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE fetch_state")
    assert all(s["last_fetched_at"] is None for s in _status(db)["sources"])


def test_status_lists_actor_names_the_galaxies_do_not_know(fixture_store):
    result = run("status", "--json", "--db", fixture_store)
    assert result.code == 0, result.err
    unresolved = json.loads(result.out)["store"]["actors_unresolved"]
    assert "Russia (unnamed initiator)" in unresolved and "GRU" in unresolved
    stored = {str(a) for (a,) in rows(fixture_store, "SELECT DISTINCT actor FROM incident_actors")}
    assert "Ghostwriter" in stored and "Ghostwriter" not in unresolved  # the galaxies know it
    assert set(unresolved) < stored
    text = run("status", "--db", fixture_store).out
    assert f"actors_unresolved:    {len(unresolved)} (" in text
