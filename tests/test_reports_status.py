"""A store's status as the library reads it (ingest.reports.status), without the CLI: the
store and its runs, a row per source, unknown actors, and stores older than the views."""

from __future__ import annotations

from pathlib import Path

import duckdb
from stores import CFR, CURATED, empty, load

from ingest.reports import results, status
from ingest.store import SCHEMA_VERSION


def test_an_empty_store(tmp_path: Path) -> None:
    db = empty(tmp_path / "store.duckdb")
    with results.reading(db) as con:
        found = status.read(con, db)
    assert found.store == {
        "store": str(db),
        "size_bytes": db.stat().st_size,
        "schema_version": SCHEMA_VERSION,
        "runs": 0,
        "last_run": None,
        "last_run_exit": None,
        "runs_unfinished": 0,
        "runs_not_matched": 0,
        "runs_not_derived": 0,
        "snapshot": "none yet (the next run that changes the store publishes one)",
    }
    assert found.actors_unresolved == [] and found.sources == []
    assert found.columns[:3] == ["source", "kind", "records"]


def test_a_loaded_store(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    run = load(db, CURATED, CFR)
    with results.reading(db) as con:
        found = status.read(con, db)
    assert found.store["runs"] == 1 and found.store["last_run_exit"] == 0
    assert found.store["last_run"].startswith("ingest at 2")
    assert found.store["snapshot"].startswith("published 2") and found.store["snapshot"].endswith(" s ago")
    by_source = {row[0]: dict(zip(found.columns, row, strict=True)) for row in found.sources}
    assert {s: (r["kind"], r["records"], r["files_loaded"]) for s, r in by_source.items()} == {
        "cfr": ("incidents", 3, 1),
        "curated-incidents": ("incidents", 9, 1),
    }
    assert run.exit_code == 0


def test_actors_the_galaxies_do_not_know_most_records_first(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    load(db, CFR)
    with results.reading(db) as con:
        actors = con.execute("SELECT actor FROM incident_actors").fetchall()
        unresolved = status.unresolved_actors(con)
    assert set(unresolved) < {a for (a,) in actors} and "GRU" in unresolved


def test_a_store_older_than_fetch_state_and_v_unmapped_reads_them_as_empty(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    load(db, CFR)
    with duckdb.connect(str(db)) as con:
        assert status.has_table(con, "fetch_state") and not status.has_table(con, "v_unmapped")
        con.execute("DROP TABLE fetch_state")
        con.execute("DROP VIEW v_unmapped_terms")
        con.execute("DROP VIEW v_unmapped")
    with results.reading(db) as con:
        assert not status.has_table(con, "fetch_state")
        found = status.read(con, db)
    row = dict(zip(found.columns, found.sources[0], strict=True))
    assert row["source"] == "cfr" and row["unmapped"] == 0 and row["last_fetched_at"] is None
