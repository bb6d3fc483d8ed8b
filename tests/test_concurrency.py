"""Concurrent use: one writer at a time; readers wait for it or exit 5, and never see a
half-loaded file.

DuckDB lets one process write a store or many processes read it, never both at once. So a
second nightly exits 5 at once; a query or report during a nightly exits 5 at once, or
with --wait SECONDS (CYBERLOG_WAIT) waits for the writer to finish and then reads a store
where every file is whole; a nightly that finds an analyst's query holding the store
waits the same way.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import ROOT, run, scalar
from test_crash import nightly


def _cli(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _until_busy(db: Path, writer: subprocess.Popen[bytes]) -> None:
    """Wait until the writer holds the store (a read is refused)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and writer.poll() is None:
        if db.exists() and run("query", "SELECT 1", "--db", db).code == 5:
            return
        time.sleep(0.05)
    raise AssertionError("the nightly never held the store")


def test_a_second_nightly_exits_5_at_once_and_the_first_finishes(big_feeds, tmp_path):
    db = tmp_path / "store.duckdb"
    first = nightly(big_feeds, db)
    _until_busy(db, first)
    second = run("nightly", "--config", big_feeds, "--db", db)
    assert second.code == 5
    assert second.err.startswith(f"cyberlog: error: {db}: store is busy: another cyberlog process (PID {first.pid})")
    assert first.wait(timeout=600) == 0
    assert scalar(db, "SELECT count(*) FROM ingest_runs") == 1


def test_a_reader_waits_for_the_writer_and_sees_only_whole_files(big_feeds, tmp_path):
    db = tmp_path / "store.duckdb"
    writer = nightly(big_feeds, db)
    _until_busy(db, writer)
    impatient = run("query", "SELECT count(*) FROM incidents", "--db", db)
    assert impatient.code == 5 and "store is busy" in impatient.err
    patient = _cli(
        "query",
        "SELECT count(*) AS n FROM incidents WHERE source <> 'derived'",
        "--format",
        "csv",
        "--wait",
        "600",
        "--db",
        db,
    )
    report = _cli("report", "run", "ingest_health", "--format", "csv", "--db", db, "--wait", "600")
    assert writer.wait(timeout=600) == 0
    out, err = patient.communicate(timeout=120)
    assert patient.returncode == 0, err
    assert out.splitlines() == ["n", "7500"]  # all five curated files, never a part of one
    out, err = report.communicate(timeout=120)
    assert report.returncode == 0 and len(out.splitlines()) == 6, err  # header + alpha, beta, gdelt, ids, derived


def test_wait_gives_up_with_exit_5_naming_the_wait(loaded):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(loaded)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        result = run("report", "run", "timeline", "--wait", "0.5", "--db", loaded)
        assert result.code == 5
        assert result.err.endswith("try again when it finishes (waited 0.5 s)\n")
    finally:
        holder.communicate("")


def test_a_nightly_waits_for_an_analysts_query_to_finish(loaded, monkeypatch):
    """A read-only connection keeps writers out too: the 2 a.m. query must not cost a night."""
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(loaded)!r}, read_only=True)
            print("ready", flush=True)
            time.sleep(1.5)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdout.readline() == "ready\n"
    assert run("nightly", "--config", ROOT / "fixtures" / "cyberlog.toml", "--db", loaded).code == 5
    monkeypatch.setenv("CYBERLOG_WAIT", "60")
    result = run("nightly", "--config", ROOT / "fixtures" / "cyberlog.toml", "--db", loaded)
    assert result.code == 0, result.err
    assert reader.wait(timeout=60) == 0


def test_a_bad_wait_is_a_usage_error(loaded, monkeypatch):
    monkeypatch.setenv("CYBERLOG_WAIT", "soon")
    result = run("query", "SELECT 1", "--db", loaded)
    assert result.code == 2 and "--wait" in result.err and "CYBERLOG_WAIT" in result.err
