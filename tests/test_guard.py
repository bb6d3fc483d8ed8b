"""Poison-proof runs: one file that fails, by its input or by a bug, fails alone; the run goes
on, derives and matches, and ends with the right exit code; SIGINT and SIGTERM roll the file
back and record the run as 130 or 143."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import ROOT, rows, run, scalar
from stores import CFR, CURATED

from ingest import cli, formats
from ingest import store as store_module
from ingest.errors import Terminated
from ingest.reports import results
from ingest.run import orchestrate
from ingest.run.jobs import Job

GOOD_EVENTS = ROOT / "fixtures" / "events_csv" / "good" / "ukraine-2022.csv"  # 20 events
EVENTS_CSV = formats.get("events_csv")


def _overflowing(path: Path, encoding: str, progress: Any) -> Iterator[Any]:
    raise OverflowError("date value out of range")
    yield  # a reader


def _job(path: Path, fmt: formats.Format | None = None) -> Job:
    return Job(path, fmt, None, None, "utf-8")


def test_a_bug_in_one_file_fails_that_file_alone_and_the_run_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    poison = dataclasses.replace(EVENTS_CSV, read=_overflowing)
    said: list[str] = []
    jobs = [_job(CURATED), _job(GOOD_EVENTS, poison), _job(CFR)]
    result = orchestrate.run_jobs(db, "ingest", None, jobs, [], orchestrate.Rules(), wait=None, say=said.append)
    log = tmp_path / "store.duckdb.errors.log"
    reason = f"OverflowError: date value out of range — a bug: traceback in {log}"
    assert [(f.status, f.bug, f.error) for f in result.files] == [
        ("loaded", False, None),
        ("failed", True, reason),
        ("loaded", False, None),
    ]
    assert f"error: failed {GOOD_EVENTS} (events_csv): {reason}" in said
    assert orchestrate.outcome(result)[-1] == f"error: 1 file failed by a bug in cyberlog: see {log}"
    assert result.exit_code == 1 and result.identity is not None and result.identity.clusters > 0
    text = log.read_text("utf-8")
    assert f"file {GOOD_EVENTS} (events_csv)" in text and "Traceback" in text and "in _overflowing" in text
    assert rows(db, "SELECT status, error FROM ingest_files WHERE path = $p", {"p": str(GOOD_EVENTS)}) == [
        ("failed", reason)
    ]
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0  # nothing of it kept
    assert rows(db, "SELECT exit_code, files_loaded, files_failed, identity_done_at IS NOT NULL FROM ingest_runs") == [
        (1, 2, 1, True)
    ]


def test_a_symlink_loop_fails_as_data_and_is_in_the_ledger(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    itself = tmp_path / "itself.csv"
    itself.symlink_to(itself)
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "again").symlink_to(tmp_path / "loop" / "again" / "x")
    deep = tmp_path / "loop" / "again" / "x.csv"
    result = run("ingest", itself, deep, GOOD_EVENTS, "--db", db)
    assert result.code == 3 and "Traceback" not in result.err
    assert f"cyberlog: error: failed {itself}: " in result.err and f"cyberlog: error: failed {deep}: " in result.err
    assert "loaded " in result.err and scalar(db, "SELECT count(*) FROM diplomatic_events") == 20
    assert rows(db, "SELECT path, status FROM ingest_files ORDER BY started_at") == [
        (str(itself), "failed"),
        (str(deep), "failed"),
        (str(GOOD_EVENTS), "loaded"),
    ]
    assert not (tmp_path / "store.duckdb.errors.log").exists()  # the input's fault, no bug


def test_a_stix_bundle_dated_9999_does_not_stop_the_run(tmp_path: Path) -> None:
    bundle = json.loads((ROOT / "fixtures" / "stix" / "good" / "cert-ukraine-2022-02.json").read_text("utf-8"))
    for obj in bundle["objects"]:
        for key in ("created", "modified", "first_seen", "published"):
            if key in obj:
                obj[key] = "9999-12-31T23:59:59Z"
    far = tmp_path / "far.json"
    far.write_text(json.dumps(bundle), "utf-8")
    result = run("--log-format", "json", "ingest", far, GOOD_EVENTS, "--db", tmp_path / "s.duckdb")
    records = [json.loads(line) for line in result.err.splitlines()]
    # loaded, rejected (3) or failed by a bug (1) as cyberlog's times evolve: never a stop, never a traceback
    assert result.code in (0, 1, 3) and "Traceback" not in result.err
    assert scalar(tmp_path / "s.duckdb", "SELECT count(*) FROM diplomatic_events") == 20
    failed = [r for r in records if r["message"].startswith(f"failed {far}")]
    assert all(r["level"] == "error" for r in failed) and (not failed or result.code in (1, 3))


def _config(tmp_path: Path, poison: str) -> Path:
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        f'[[sources]]\nname = "curated"\nformat = "incidents_csv"\npath = "{CURATED}"\n\n'
        f'[[sources]]\nname = "poison"\nformat = "events_csv"\npath = "{poison}"\n\n'
        f'[[sources]]\nname = "cfr"\nformat = "cfr_tracker"\npath = "{CFR}"\n',
        "utf-8",
    )
    return config


def test_a_nightly_goes_past_a_poisoned_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(formats._REGISTRY, "events_csv", dataclasses.replace(EVENTS_CSV, read=_overflowing))
    db = tmp_path / "store.duckdb"
    result = run("nightly", "--config", _config(tmp_path, str(GOOD_EVENTS)), "--db", db)
    log = tmp_path / "store.duckdb.errors.log"
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.endswith(f"cyberlog: error: 1 file failed by a bug in cyberlog: see {log}\n")
    assert rows(db, "SELECT source, status FROM ingest_files ORDER BY started_at") == [
        ("curated", "loaded"),
        ("poison", "failed"),
        ("cfr", "loaded"),
    ]
    assert scalar(db, "SELECT count(DISTINCT source) FROM incidents") == 2
    assert rows(db, "SELECT exit_code, identity_done_at IS NOT NULL, bursts_done_at IS NOT NULL FROM ingest_runs") == [
        (1, True, True)
    ]


def test_a_nightly_with_an_unreadable_source_exits_3(tmp_path: Path) -> None:
    broken = tmp_path / "events-utf16.csv"
    broken.write_bytes(b"\xff\xfe" + GOOD_EVENTS.read_text("utf-8")[:200].encode("utf-16-le") + b"x")
    db = tmp_path / "store.duckdb"
    result = run("--quiet", "nightly", "--config", _config(tmp_path, str(broken)), "--db", db)
    assert result.code == 3
    assert result.err == f"cyberlog: error: failed {broken}: cannot decode the file as utf-16-le: truncated data\n"
    assert [r[0] for r in rows(db, "SELECT status FROM ingest_files ORDER BY started_at")] == [
        "loaded",
        "failed",
        "loaded",
    ]


# real processes: a reader that waits for the signal -------------------------------------

CHILD = """
import dataclasses, sys
from ingest import cli, formats

def read(path, encoding, progress):
    print("reading", flush=True)
    sys.stdin.readline()  # the test's signal comes while the file is being read
    yield from ()

formats._REGISTRY["events_csv"] = dataclasses.replace(formats.get("events_csv"), read=read)
sys.argv = ["cyberlog", *sys.argv[1:]]
cli.main()
"""


# Ctrl-C and SIGTERM: the exit code and the word each is said with
SIGNALS = pytest.mark.parametrize(
    ("sent", "code", "what"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)


@SIGNALS
def test_a_signal_rolls_the_file_back_and_records_the_run(
    tmp_path: Path, sent: signal.Signals, code: int, what: str
) -> None:
    db = tmp_path / "store.duckdb"
    args = ["ingest", str(CURATED), str(GOOD_EVENTS), str(CFR), "--db", str(db)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "reading\n"
    child.send_signal(sent)
    _, err = child.communicate(timeout=60)
    assert child.returncode == code
    assert err.splitlines()[-1] == f"cyberlog: {what}: the file being loaded was rolled back; run recorded as {code}"
    assert "Traceback" not in err
    assert rows(db, "SELECT exit_code, finished_at IS NOT NULL, files_loaded FROM ingest_runs") == [(code, True, 1)]
    assert rows(db, "SELECT source FROM ingest_files") == [("curated-incidents",)]  # CFR never started
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0


SLOW_STATEMENT = """
import sys
from ingest import cli
from ingest.load import staging

real, calls = staging.run, []

def run(con, found, params):  # the first SQL the file's load runs (its staging); then its cleanup, as it is
    calls.append(found)
    if len(calls) > 1:
        return real(con, found, params)
    print("querying", flush=True)
    # about 7 s on 2 cores: long enough to be running when the signal comes, short enough to
    # end when DuckDB does not notice the signal (then the interrupt comes as the statement ends)
    con.execute("SELECT count(*) FROM range(2000000000) t(i) WHERE i % 7 = 3").fetchall()

staging.run = run
sys.argv = ["cyberlog", *sys.argv[1:]]
cli.main()
"""


@pytest.mark.slow  # DuckDB may not notice the interrupt until the statement ends
@SIGNALS
def test_a_signal_during_a_duckdb_statement_ends_the_run_as_130_or_143(
    tmp_path: Path, sent: signal.Signals, code: int, what: str
) -> None:
    """DuckDB stops the statement and raises its own RuntimeError for the signal (without the
    SIGTERM handler's Terminated), or (from another process, often) finishes it first: either
    way 130 for Ctrl-C and 143 for SIGTERM, the file rolled back, not a bug."""
    db = tmp_path / "store.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_STATEMENT, "ingest", str(GOOD_EVENTS), str(CFR), "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "querying\n"
    # once the statement runs: a SIGINT that lands while DuckDB still plans it can go
    # unnoticed for seconds (DuckDB 2.0)
    time.sleep(0.5)
    child.send_signal(sent)
    _, err = child.communicate(timeout=60)
    assert (child.returncode, err) == (
        code,
        f"cyberlog: {what}: the file being loaded was rolled back; run recorded as {code}\n",
    )
    assert rows(db, "SELECT exit_code, files_loaded, files_failed FROM ingest_runs") == [(code, 0, 0)]
    assert not (tmp_path / "store.duckdb.errors.log").exists()


SLOW_QUERY = "SELECT count(*) FROM range(2000000000) t(i) WHERE i % 7 = 3"  # about 7 s on 2 cores


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_an_interrupted_query_is_neither_a_bad_query_nor_run_again(tmp_path: Path, fmt: str) -> None:
    """DuckDB's InterruptException is a duckdb.Error, as a bad query's error is: a query stopped
    by Ctrl-C must end as stopped, not be said to be wrong (a QueryError), nor sent down the
    CSV writer's Python road to run again from the start."""
    db = tmp_path / "store.duckdb"
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    out = tmp_path / "out.txt"
    with store_module.open_store(db, write=False) as con:
        timer = threading.Timer(0.3, con.interrupt)
        timer.start()
        try:
            with pytest.raises(duckdb.Error) as stopped:
                results.emit(con, SLOW_QUERY, {}, fmt, out)
        finally:
            timer.cancel()
    assert store_module.interrupted_query(stopped.value)
    assert not out.exists() and not list(tmp_path.glob(".out.txt.*"))  # nor its partial copy


@pytest.mark.slow  # DuckDB may not notice the signal until the statement ends
@SIGNALS
def test_a_signal_during_a_query_exits_130_or_143_without_a_traceback(
    tmp_path: Path, sent: signal.Signals, code: int, what: str
) -> None:
    """DuckDB raises a plain RuntimeError("Query interrupted") for a signal during a query's
    statement, for SIGTERM too (its handler's Terminated is dropped): once a traceback and 1."""
    db = tmp_path / "store.duckdb"
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest", "query", SLOW_QUERY, "--format", "csv", "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CYBERLOG_SNAPSHOT": "never"},
    )
    time.sleep(1.5)  # started, and inside the statement (DuckDB 2.0 may miss a signal while it plans)
    child.send_signal(sent)
    _, err = child.communicate(timeout=60)
    assert (child.returncode, err) == (code, f"cyberlog: {what}: stopped before it finished\n")


def test_an_interrupt_in_the_checked_reader_is_not_taken_for_a_line_it_cannot_read(tmp_path, monkeypatch):
    # DuckDB's InterruptException is a duckdb.Error, as a line it cannot read is: the first
    # must end the run (130), not send the file to the careful reader to be read again
    import duckdb

    from ingest.load import staging

    real, calls = staging.run, []

    def first_interrupted(con, found, params):
        calls.append(found)
        if len(calls) == 1:
            raise duckdb.InterruptException("Query interrupted")
        return real(con, found, params)

    monkeypatch.setattr(staging, "run", first_interrupted)
    db = tmp_path / "store.duckdb"
    result = run("ingest", GOOD_EVENTS, "--db", db)
    assert result.code == 130, result.err
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0


def test_a_bug_through_the_command_line_exits_1_at_the_end(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    child = CHILD.replace('print("reading", flush=True)', 'raise OverflowError("date value out of range")')
    done = subprocess.run(
        [sys.executable, "-c", child, "ingest", str(GOOD_EVENTS), str(CURATED), "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    log = tmp_path / "store.duckdb.errors.log"
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == (
        f"cyberlog: error: failed {GOOD_EVENTS} (events_csv): OverflowError: date value out of range "
        f"— a bug: traceback in {log}"
    )
    assert lines[1].startswith(f"cyberlog: loaded {CURATED} ")
    assert lines[-1] == f"cyberlog: error: 1 file failed by a bug in cyberlog: see {log}"


# a closed stdout ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["query", "SELECT * FROM range(200000)", "--format", "csv"],
        ["query", "SELECT * FROM range(200000)", "--format", "json"],
    ],
)
def test_output_into_a_closed_pipe_ends_quietly_with_0(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "store.duckdb"
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest", *args, "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline()  # `| head -1`: one line, then the reader goes
    child.stdout.close()
    assert (child.wait(timeout=60), child.stderr.read()) == (0, "")


# faults of the machine ---------------------------------------------------------------------


def _big_csv(path: Path, rows: int) -> Path:
    lines = ["ref,title,attack_types,started_at,time_precision,target_org,target_country,target_sector"]
    lines += [
        f"r{n},DDoS number {n} {'on the bank site ' * 10},ddos,2022-02-{1 + n % 28:02d},day,Bank {n},UKR,finance"
        for n in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_a_full_disk_stops_the_run_with_6_and_the_store_still_opens(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    assert run("ingest", CFR, "--db", db).code == 0
    room = db.stat().st_size + (256 << 10)

    def small_disk() -> None:  # writes past `room` bytes fail with EFBIG, like ENOSPC on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    big = _big_csv(tmp_path / "big.csv", 30_000)
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "ingest", str(GOOD_EVENTS), str(big), str(CURATED), "--db", str(db)],
        cwd=ROOT,
        preexec_fn=small_disk,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 6 and "Traceback" not in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("cyberlog: error: the machine: a write failed (") and "File too large" in last
    assert last.endswith(
        "free some space and run again; the file being loaded was rolled back, the files before it are kept"
    )
    # the store opens, with the files before the big one and nothing of it
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 20
    assert rows(db, "SELECT DISTINCT source FROM incidents") == [("cfr",)]
    assert run("ingest", CURATED, "--db", db).code == 0  # and takes the next run


def _damaged(tmp_path: Path, how: str) -> Path:
    db = tmp_path / "store.duckdb"
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    data = db.read_bytes()
    if how == "truncated":
        db.write_bytes(data[:100_000])
    else:  # blocks overwritten: their checksums fail
        db.write_bytes(data[:12_288] + bytes(range(256)) * 320 + data[12_288 + 256 * 320 :])
    return db


@pytest.mark.parametrize(("how", "what"), [("truncated", "Could not read enough bytes"), ("overwritten", "checksum")])
@pytest.mark.parametrize("command", [["query", "SELECT 1"], ["ingest", str(CFR)]])
def test_a_damaged_store_says_so_with_6(tmp_path: Path, how: str, what: str, command: list[str]) -> None:
    db = _damaged(tmp_path, how)
    result = run(*command, "--db", db)
    assert result.code == 6 and result.err.startswith(f"cyberlog: error: {db}: the store is damaged (")
    assert what in result.err and result.err.endswith(
        "): restore it from a backup, or move it aside and run the nightly to build it again\n"
    )


def test_quiet_keeps_failures_and_rejects_never_successes(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    bad = ROOT / "fixtures" / "incidents_csv" / "bad" / "unknown_sector.csv"  # line 3 rejected
    result = run("--quiet", "ingest", missing, bad, GOOD_EVENTS, "--db", tmp_path / "s.duckdb")
    assert result.code == 3
    lines = result.err.splitlines()
    assert lines[0] == f"cyberlog: error: failed {missing}: cannot read the file: No such file or directory"
    assert len(lines) == 2 and lines[1].startswith(f"cyberlog:   {bad}:3: ")


def test_the_json_summary_says_which_file_failed_by_a_bug_and_where_its_traceback_is(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    child = CHILD.replace('print("reading", flush=True)', 'raise OverflowError("date value out of range")')
    done = subprocess.run(
        [sys.executable, "-c", child, "ingest", str(GOOD_EVENTS), str(CURATED), "--db", str(db), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    summary = json.loads(done.stdout)
    assert (done.returncode, summary["exit_code"], summary["files_failed_by_a_bug"]) == (1, 1, 1)
    assert summary["errors_log"] == str(tmp_path / "store.duckdb.errors.log")
    assert [(f["status"], f["bug"]) for f in summary["files"]] == [("failed", True), ("loaded", False)]


@pytest.mark.parametrize(
    ("raised", "code", "said"), [(KeyboardInterrupt, 130, "interrupted"), (Terminated, 143, "terminated")]
)
def test_a_signal_outside_a_run_exits_130_or_143_not_1(tmp_path, monkeypatch, capsys, raised, code, said):
    """A query waiting for a busy store when Ctrl-C (or SIGTERM, which the CLI's handler
    raises as Terminated) arrives: click would end it "Aborted!" with 1, the code of a bug."""
    db = tmp_path / "store.duckdb"
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys\ncon = duckdb.connect({str(db)!r})\nprint('ready', flush=True)\nsys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"

        def signal_arrives(seconds: float) -> None:  # the moment the query starts to wait
            raise raised

        monkeypatch.setattr(store_module.time, "sleep", signal_arrives)
        monkeypatch.setenv("CYBERLOG_SNAPSHOT", "never")  # the wait itself, not the snapshot readers take
        monkeypatch.setattr(sys, "argv", ["cyberlog", "query", "SELECT 1", "--wait", "30", "--db", str(db)])
        with pytest.raises(SystemExit) as ended:
            cli.main()
        assert ended.value.code == code
        assert capsys.readouterr().err.splitlines()[-1] == f"cyberlog: {said}: stopped before it finished"
    finally:
        holder.communicate("")


def _block_damaged(tmp_path: Path) -> Path:
    """A store that opens, one of whose data blocks (diplomatic_events') fails its checksum:
    found only by a statement that reads it."""
    db = tmp_path / "store.duckdb"
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    ((block, offset),) = rows(
        db,
        "SELECT block_id, block_offset FROM pragma_storage_info('diplomatic_events') "
        "WHERE column_name = 'title' AND segment_type = 'VARCHAR' AND block_id >= 0",
    )
    with db.open("r+b") as store:  # after the three 4 KiB headers, 256 KiB blocks, each with an 8-byte checksum
        store.seek(3 * 4096 + int(block) * 262_144 + 8 + int(offset))  # type: ignore[call-overload]
        store.write(b"\xaa" * 64)
    return db


@pytest.mark.parametrize(
    "command",
    [
        ["query", "SELECT title FROM diplomatic_events"],
        ["query", "SELECT title FROM diplomatic_events", "--format", "csv"],
        ["report", "run", "incidents_near_events"],
        ["status"],
        ["ingest", "edited.csv"],
    ],
)
def test_a_block_found_damaged_by_a_statement_says_so_with_6(tmp_path: Path, command: list[str]) -> None:
    db = _block_damaged(tmp_path)
    edited = tmp_path / "edited.csv"  # other bytes than the loaded file: merged, reading the damaged block
    edited.write_text(GOOD_EVENTS.read_text("utf-8").replace("Scholz", "Olaf Scholz"), "utf-8")
    result = run(*[str(edited) if part == "edited.csv" else part for part in command], "--db", db)
    assert result.code == 6 and "Traceback" not in result.err, result.err
    last = result.err.splitlines()[-1]
    assert last.startswith("cyberlog: error: ") and "the store is damaged (Corrupt database file: " in last
    assert last.endswith("): restore it from a backup, or move it aside and run the nightly to build it again")


@pytest.mark.parametrize(
    "command",
    [
        ["query", "SELECT range AS n, md5(range::VARCHAR) AS h FROM range(300000)", "--format", "csv"],
        ["query", "SELECT range AS n, md5(range::VARCHAR) AS h FROM range(300000)", "--format", "json"],
        ["query", "SELECT range AS n, md5(range::VARCHAR) AS h FROM range(300000)", "--format", "markdown"],
        ["query", "SELECT range AS n, md5(range::VARCHAR) AS h FROM range(300000)"],
        ["report", "run", "incidents_near_events", "--format", "csv"],
        ["rejects", "list"],
        ["status"],
    ],
)
def test_a_reader_that_stops_reading_ends_the_command_quietly_with_0(fixture_store: Path, command: list[str]) -> None:
    """`cyberlog … | head -1`: the pipe closes under a writer (the first rows above 64 KiB);
    as `head` users expect, no message and exit 0, whatever the writer was doing."""
    argv = " ".join(f"'{part}'" for part in [sys.executable, "-m", "ingest", *command, "--db", str(fixture_store)])
    done = subprocess.run(
        ["bash", "-c", f"{argv} | head -1 > /dev/null; echo ${{PIPESTATUS[0]}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.stdout, done.stderr) == ("0\n", "")


def test_a_finished_command_leaves_with_its_code_and_every_byte_written(fixture_store: Path, tmp_path: Path) -> None:
    """`cyberlog` skips the interpreter's teardown (ingest.__main__): what it printed is still
    flushed whole, its exit code kept, and the exit handlers run."""
    out, db, sql = tmp_path / "rows.json", str(fixture_store), "SELECT range AS n FROM range(100000)"
    with out.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "ingest", "query", sql, "--format=json", f"--db={db}"],
            stdout=sink,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    assert (done.returncode, done.stderr) == (0, b"")
    assert [row["n"] for row in json.loads(out.read_bytes())] == list(range(100000))
    bad = subprocess.run(
        [sys.executable, "-m", "ingest", "query", "SELECT * FROM nosuch", "--db", str(fixture_store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert (bad.returncode, bad.stderr.splitlines()[0][:32]) == (4, "cyberlog: error: Catalog Error: ")
    handler = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handlers ran', file=sys.stderr))\n"
        "sys.argv = ['cyberlog', 'query', 'SELECT 42 AS answer', '--format', 'csv', '--db', sys.argv[1]]\n"
        "from ingest.__main__ import main\n"
        "main()\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", handler, str(fixture_store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "answer\n42\n", "exit handlers ran\n")
