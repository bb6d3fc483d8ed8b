"""Reads never wait for the nightly: a run that changed the store publishes a read-only
snapshot beside it, and readers open it while another process writes the store, saying
so and how fresh it is. Real processes hold the store; nothing here is simulated."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run

from ingest import connect, snapshot
from ingest.store import open_store

WAIT = ("--wait", "60")  # a reader may hold the store for a moment as the run starts
HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); time.sleep(60)"


def _nightly(tmp_path: Path) -> Path:
    db = tmp_path / "store.duckdb"
    result = run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db)
    assert result.code == 0, result.err
    return db


def _published(loaded: Path) -> Path:
    """The fixture store with its snapshot, as the nightly that built it left them."""
    with open_store(loaded, write=True) as con:
        snapshot.publish(con, loaded)
    return loaded


def _holding(db: Path) -> subprocess.Popen[str]:
    """Another process with the store open for writing, as a nightly has it."""
    writer = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline() == "holding\n"
    return writer


def test_a_run_publishes_a_snapshot_and_a_run_with_nothing_new_leaves_it(tmp_path):
    db = _nightly(tmp_path)
    published = snapshot.path_of(db)
    assert published.exists() and published.stat().st_size > 0
    first = published.stat().st_mtime_ns
    time.sleep(0.05)
    assert run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db).code == 0
    assert published.stat().st_mtime_ns == first  # every file skipped: nothing to publish
    assert not list(tmp_path.glob("*.part"))
    status = run("status", "--db", db)
    assert "snapshot:             published " in status.out


def test_a_query_while_another_process_writes_reads_the_snapshot_and_says_so(loaded):
    db = _published(loaded)
    expected = run("query", "SELECT count(*) AS n FROM incidents", "--format", "csv", "--db", db).out
    writer = _holding(db)
    try:
        answered = run("query", "SELECT count(*) AS n FROM incidents", "--format", "csv", "--db", db)
        assert (answered.code, answered.out) == (0, expected)
        assert answered.err.count("\n") == 1 and "note: the store is busy: another process (PID " in answered.err
        assert "read its snapshot, published " in answered.err and " s ago" in answered.err
        report = run("report", "run", "timeline", "--format", "json", "--db", db)
        assert report.code == 0 and report.out.startswith("[")
        assert run("status", "--db", db).code == 0
        os.environ["CYBERLOG_SNAPSHOT"] = "never"
        try:
            refused = run("query", "SELECT 1", "--db", db)
        finally:
            del os.environ["CYBERLOG_SNAPSHOT"]
        assert refused.code == 5 and "store is busy" in refused.err
    finally:
        writer.kill()
        writer.wait()


def test_a_snapshot_that_cannot_be_written_is_a_warning_and_the_change_stands(tmp_path):
    db = _nightly(tmp_path)
    published = snapshot.path_of(db)
    published.unlink()
    published.mkdir()  # in the way: the new snapshot cannot replace it
    (published / "x").touch()
    linked = run(
        "query",
        "SELECT min(incident_a) AS a FROM incident_links WHERE decision = 'matched'",
        "--format",
        "csv",
        "--db",
        db,
    )
    undone = run("clusters", "undo", linked.out.splitlines()[-1], "--db", db)
    assert undone.code == 0, undone.err
    assert "warning: the snapshot readers use while the store is busy was not updated: " in undone.err
    assert re.search(r"undone \d+ links?; the next nightly keeps this decision", undone.err)
    ingested = run("ingest", _incidents(tmp_path / "new.csv", 0, 3), "--source", "new", "--db", db)
    assert ingested.code == 0 and "was not updated" in ingested.err
    assert run("query", "SELECT count(*) FROM incidents WHERE source = 'new'", "--db", db).out.count("3") >= 1
    assert not list(tmp_path.glob("*.part"))


def test_always_reads_the_snapshot_even_when_the_store_is_free(loaded, monkeypatch):
    db = _published(loaded)
    monkeypatch.setenv("CYBERLOG_SNAPSHOT", "always")
    answered = run("query", "SELECT 1 AS n", "--db", db)
    assert answered.code == 0 and "note: CYBERLOG_SNAPSHOT=always: read its snapshot" in answered.err
    monkeypatch.setenv("CYBERLOG_SNAPSHOT", "sometimes")
    wrong = run("query", "SELECT 1 AS n", "--db", db)
    assert wrong.code == 2 and "CYBERLOG_SNAPSHOT must be one of busy, always, never" in wrong.err


def test_without_a_snapshot_a_busy_store_is_still_exit_5(loaded):
    db = _published(loaded)
    snapshot.path_of(db).unlink()
    writer = _holding(db)
    try:
        assert run("query", "SELECT 1", "--db", db).code == 5
    finally:
        writer.kill()
        writer.wait()


def test_the_notebook_api_reads_the_snapshot_too(loaded, caplog):
    db = _published(loaded)
    writer = _holding(db)
    try:
        with connect(db) as store:
            assert store.query("SELECT count(*) FROM incidents").fetchall()[0][0] > 0
    finally:
        writer.kill()
        writer.wait()
    assert any("read its snapshot" in r.getMessage() for r in caplog.records)


def _incidents(path: Path, first: int, rows: int) -> Path:
    lines = ["ref,title,attack_types,started_at,time_precision,target_org,target_country,target_sector"]
    lines += [
        f"r{n},DDoS number {n},ddos,2022-02-{1 + n % 28:02d},day,Bank {n},UKR,finance"
        for n in range(first, first + rows)
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@pytest.mark.slow
def test_readers_answer_throughout_a_long_nightly_and_never_see_half_a_run(tmp_path):
    """A run of two big files: readers before, during and after it all answer; during it they
    see the store as the last run left it, never the first file without the second."""
    db = tmp_path / "store.duckdb"
    seed = _incidents(tmp_path / "seed.csv", 0, 10)
    assert run("ingest", seed, "--source", "seed", "--db", db).code == 0
    drop = tmp_path / "drop"
    drop.mkdir()
    _incidents(drop / "a.csv", 1_000, 150_000)
    _incidents(drop / "b.csv", 200_000, 150_000)
    count = [sys.executable, "-m", "ingest", "query", "SELECT count(*) FROM incidents", "--format", "csv"]
    nightly = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingest",
            "ingest",
            drop / "a.csv",
            drop / "b.csv",
            "--source",
            "drop",
            *WAIT,
            "--db",
            db,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[tuple[int, int, bool]] = []
    while nightly.poll() is None:
        reader = subprocess.run([*count, "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        seen.append((reader.returncode, int(reader.stdout.splitlines()[-1]), "read its snapshot" in reader.stderr))
    assert nightly.wait() == 0, nightly.stderr.read() if nightly.stderr else ""
    after = subprocess.run([*count, "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert after.returncode == 0 and int(after.stdout.splitlines()[-1]) == 300_010
    during = [n for code, n, from_snapshot in seen if from_snapshot]
    assert len(during) >= 2, seen  # the run was long enough to be read through
    assert all(code == 0 for code, _, _ in seen), seen
    assert {n for _, n, _ in seen} <= {10, 300_010}, seen  # the last run's state, or this one's whole
    assert set(during) == {10}
