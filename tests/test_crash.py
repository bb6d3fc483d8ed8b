"""Crash safety: a nightly killed at random moments loses nothing and duplicates nothing.

A real `cyberlog nightly` over several feeds (curated CSVs from two sources that describe
the same attacks, so matching has work, GDELT exports with a feed's usual faults, and a
Suricata EVE log streamed and merged inside its transaction) runs
in a subprocess and is killed with SIGKILL at a random moment, twice, from an empty store.
After every kill the store must open, every file it holds must be whole (its rows exactly
those of a clean run's copy of that file), and the next nightly must carry on. Then one
nightly runs to the end, and the store must equal a clean run's exactly.

Trials: $CYBERLOG_KILL_TRIALS (default 3, two kills each; run it with 50 to soak).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import ROOT

TRIALS = int(os.environ.get("CYBERLOG_KILL_TRIALS", "3"))
KILLS = 2  # per trial, each at a random moment of a clean run's length
# what must match a clean run exactly: (table, the columns that identify a row's content)
CONTENT = {
    "incidents": "source, source_ref, content_hash",
    "incident_targets": "(SELECT source_ref FROM incidents i WHERE i.incident_id = t.incident_id), position, "
    "organisation",
    "diplomatic_events": "source, source_ref, content_hash",
    "alerts": "source, source_ref, content_hash",
    "derived_incidents": "target_key, category, started_at, ended_at, alerts",
    "rejects": "source, line, field, reason",
    "incident_links": "incident_a, incident_b, decision",
}


def nightly(config: Path, db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", "nightly", "--config", str(config), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def _content(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        got = {}
        for table, columns in CONTENT.items():
            alias = " t" if table == "incident_targets" else ""
            got[table] = con.execute(f"SELECT {columns} FROM {table}{alias} ORDER BY ALL").fetchall()
        got["clusters"] = con.execute(
            "SELECT list(source_ref ORDER BY source_ref) AS refs FROM v_incidents GROUP BY cluster_id ORDER BY refs"
        ).fetchall()
    return got


def _per_file(db: Path) -> dict[str, tuple[int, int, int]]:
    """For every file the store holds: its name and the rows it brought, by table."""
    with duckdb.connect(str(db), read_only=True) as con:
        orphans = con.execute(
            """SELECT count(*) FROM (
                   SELECT file_id FROM incidents UNION ALL SELECT file_id FROM diplomatic_events
                   UNION ALL SELECT file_id FROM rejects UNION ALL SELECT file_id FROM incident_targets
                   UNION ALL SELECT file_id FROM alerts)
               WHERE file_id NOT IN (SELECT file_id FROM ingest_files WHERE status = 'loaded')
                 AND file_id NOT IN (SELECT file_id FROM incidents WHERE source = 'derived')"""  # derived from alerts
        ).fetchall()[0][0]
        assert orphans == 0, "rows from a file the store does not hold as loaded"
        rows = con.execute(
            """SELECT regexp_extract(f.path, '[^/]+$') AS name,
                      (SELECT count(*) FROM incidents i WHERE i.file_id = f.file_id),
                      (SELECT count(*) FROM diplomatic_events e WHERE e.file_id = f.file_id)
                          + (SELECT count(*) FROM alerts a WHERE a.file_id = f.file_id),
                      (SELECT count(*) FROM rejects r WHERE r.file_id = f.file_id)
               FROM ingest_files f WHERE f.status = 'loaded'"""
        ).fetchall()
    names = [r[0] for r in rows]
    assert len(names) == len(set(names)), "a file loaded twice"
    return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def test_killed_nightly_runs_lose_nothing_and_duplicate_nothing(big_feeds, tmp_path):
    feeds = big_feeds
    clean_db = tmp_path / "clean.duckdb"
    started = time.monotonic()
    clean = nightly(feeds, clean_db)
    assert clean.wait(timeout=600) == 0, clean.stderr.read().decode() if clean.stderr else ""
    clean_seconds = time.monotonic() - started
    whole = _per_file(clean_db)
    expected = _content(clean_db)
    assert len(whole) == 9 and expected["incident_links"] and expected["rejects"] and expected["derived_incidents"]

    rng = random.Random(2022)
    for trial in range(TRIALS):  # each from an empty store, so every kill lands in real work
        db = tmp_path / f"killed-{trial}.duckdb"
        for _ in range(KILLS):
            proc = nightly(feeds, db)
            time.sleep(rng.uniform(0.05, clean_seconds))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            if db.exists():  # else killed before the store was created
                for name, counts in _per_file(db).items():  # the store opens; no rows without their file
                    assert counts == whole[name], f"{name} is partial after a kill: {counts} != {whole[name]}"
        final = nightly(feeds, db)
        assert final.wait(timeout=600) == 0, final.stderr.read().decode() if final.stderr else ""
        assert _per_file(db) == whole
        assert _content(db) == expected
