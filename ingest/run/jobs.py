"""Runs: what `cyberlog ingest` and `cyberlog nightly` do, recorded in the ledger.

A run row is committed before any file is read, so a killed run shows up as one that
never finished; each file then commits on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ingest import __version__
from ingest.errors import ExitCode
from ingest.load.ledger import FileResult, Ledger
from ingest.run import guard
from ingest.store import scalar

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from ingest.canon.filters import EventFilter
    from ingest.derive.bursts import BurstResult, BurstSettings, Derived
    from ingest.derive.clusters import IdentitySettings, MatchResult
    from ingest.formats.base import Format

COUNTS = ("records_read", "inserted", "updated", "unchanged", "rejected")


@dataclass
class RunResult:
    run_id: str
    files: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    identity: MatchResult | None = None  # cross-source matching after the files, when anything changed
    event_identity: MatchResult | None = None  # one real-world event in several event records
    bursts: BurstResult | None = None  # incidents derived from bursts of alerts, when alerts came in
    claims: Derived | None = None  # incidents derived from claimed target lists, when lists came in
    errors_log: Path = field(default_factory=lambda: guard.errors_log(None))  # where a bug's traceback goes

    def total(self, name: str) -> int:
        return sum(f.count(name) for f in self.files if f.counts)  # a skipped file has none

    def status_count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def bugs(self) -> int:
        """Files that failed by a bug in cyberlog rather than by their input."""
        return sum(1 for f in self.files if f.bug)

    def decide_exit(self, max_rejects: int) -> ExitCode:
        """1 when a file failed by a bug; 3 when a file failed or rejects exceed the tolerance; else 0."""
        bad = self.status_count("failed") > 0 or self.total("rejected") > max_rejects
        self.exit_code = ExitCode.BUG if self.bugs() else ExitCode.DATA if bad else ExitCode.OK
        return self.exit_code


@dataclass(frozen=True)
class Job:
    """One file to load, with how to read it."""

    path: Path
    fmt: Format | None
    source: str | None
    zone: ZoneInfo | None
    encoding: str
    event_filter: EventFilter | None = None
    replaces: str | None = None  # `rejects replay`: the file_id whose rejects this load re-validates
    all_records: bool = False  # `rejects replay --all-records`: merge every record, not only the rejects
    format_name: str | None = None  # a nightly source's format, by name: imported only for a file to load

    def format(self) -> Format | None:
        """The file's format, given or named (a file the ledger skips never imports its format's
        module: a nightly with nothing new over twenty sources saves their import); None to detect."""
        if self.fmt is not None or self.format_name is None:
            return self.fmt
        from ingest import formats

        return formats.get(self.format_name)

    def format_label(self) -> str | None:
        return self.fmt.name if self.fmt is not None else self.format_name


def start_run(con: duckdb.DuckDBPyConnection, command: str, config_path: Path | None) -> RunResult:
    run = RunResult(str(uuid.uuid4()))
    con.execute(
        "INSERT INTO ingest_runs (run_id, command, config_path, cyberlog_version, started_at) "
        "VALUES ($run, $command, $config, $version, $now)",
        {
            "run": run.run_id,
            "command": command,
            "config": str(config_path) if config_path else None,
            "version": __version__,
            "now": datetime.now(UTC),
        },
    )
    return run


def execute(
    con: duckdb.DuckDBPyConnection,
    run: RunResult,
    jobs: Iterable[Job],
    on_file: Callable[[FileResult], None],
    progress: Callable[[Path], Callable[[int], None] | None] | None = None,
) -> None:
    """Load each file in turn; a failed file is recorded and the run goes on.

    Files the ledger knows by path, size and mtime are skipped before the loader (and the
    parsing machinery it imports) is even needed: a nightly run with nothing new is quick.
    """
    ledger = Ledger(con)
    for job in jobs:
        known = (
            None
            if job.replaces
            else ledger.same_file(job.path, job.source or (fmt.default_source if (fmt := job.format()) else None))
        )
        if known:
            result = FileResult(job.path, "skipped", known, job.format_label())
        else:
            result = _load_guarded(con, run, job, ledger, progress(job.path) if progress else None)
        run.files.append(result)
        on_file(result)


def _load_guarded(
    con: duckdb.DuckDBPyConnection, run: RunResult, job: Job, ledger: Ledger, progress: Callable[[int], None] | None
) -> FileResult:
    """One file behind the run's guard: whatever it raises (but SIGINT, SIGTERM, exit) fails
    that file alone, and a bug among them ends the run as exit 1 once it is done."""
    from ingest.load.files import NO_FILTER, load_file  # the parsing machinery, only for a new file

    try:
        return load_file(
            con,
            job.path,
            run_id=run.run_id,
            fmt=job.format(),
            source=job.source,
            zone=job.zone,
            encoding=job.encoding,
            progress=progress,
            event_filter=job.event_filter or NO_FILTER,
            ledger=ledger,
            force=job.replaces is not None,
            replay_of=None if job.all_records else job.replaces,
        )
    except Exception as exc:  # the guard per file: not hidden, said and logged (see ingest.run.guard)
        fmt = job.format() or guard.detected(job.path)
        result = FileResult(job.path, "failed", job.source or (fmt.default_source if fmt else None))
        result.format = fmt.name if fmt else None
        return guard.failed(con, run.run_id, run.errors_log, result, exc)


def derive_bursts(con: duckdb.DuckDBPyConnection, run: RunResult, settings: BurstSettings | None) -> None:
    """Incidents from bursts of the alerts this run (or one killed before this step) loaded,
    by the config's rule (kept in the store) or, without a config, the rule kept last."""
    pending = """SELECT count(*) > 0 FROM alerts WHERE run_id IN (
                     SELECT run_id FROM ingest_runs WHERE bursts_done_at IS NULL)"""
    waiting = bool(scalar(con, pending))
    if settings is not None or waiting:  # a rule to keep, or alerts to derive from: the rule's module
        from ingest.derive.bursts import BurstSettings, keep_settings, kept_settings

        previous = kept_settings(con)
        if settings is None:
            settings = previous or BurstSettings()
        elif settings != previous:
            keep_settings(con, settings)
        covered = """SELECT count(*) > 0 FROM alerts WHERE run_id IN (
                         SELECT run_id FROM ingest_runs WHERE bursts_done_at IS NOT NULL)"""
        # a new rule holds for every alert, not only for those that come after it
        renewed = settings != (previous or BurstSettings()) and bool(scalar(con, covered))
        if renewed or waiting:
            from ingest.derive.bursts import derive  # Arrow and the rule, only when there is work

            run.bursts = derive(con, run.run_id, settings, everything=renewed)
            return
    con.execute("UPDATE ingest_runs SET bursts_done_at = $now WHERE bursts_done_at IS NULL", {"now": datetime.now(UTC)})


def derive_claims(con: duckdb.DuckDBPyConnection, run: RunResult) -> None:
    """Incidents from the runs of claimed target lists (DDoSia) of the sources that got lists."""
    if scalar(con, "SELECT count(*) > 0 FROM claim_snapshots"):
        from ingest.derive.claims import derive  # Arrow and the public suffix list, only when there are lists

        run.claims = derive(con, run.run_id)


def match_identities(con: duckdb.DuckDBPyConnection, run: RunResult, settings: IdentitySettings | None) -> None:
    """Recognise this run's new and changed incidents in other sources' records, and those
    of an earlier run killed after loading but before matching; then mark them done. No
    settings: the defaults."""
    changed = (
        run.total("inserted")
        or run.total("updated")
        or (run.bursts and run.bursts.changed)
        or (run.claims and run.claims.changed)
    )
    unmatched = """SELECT count(*) > 0 FROM incidents WHERE run_id IN (
                       SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL AND run_id <> $run)"""
    if (changed or scalar(con, unmatched, {"run": run.run_id})) and scalar(
        con, "SELECT count(DISTINCT source) > 1 FROM incidents"
    ):  # one source: no pairs
        from ingest.derive.clusters import IdentitySettings, match  # Arrow and the matcher, only when there is work

        run.identity = match(con, run.run_id, settings or IdentitySettings())
    new_events = """SELECT count(*) > 0 FROM diplomatic_events WHERE run_id IN (
                        SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL)"""
    if scalar(con, new_events):
        from ingest.derive.clusters import IdentitySettings, match_events

        run.event_identity = match_events(con, run.run_id, settings or IdentitySettings())
    con.execute(
        "UPDATE ingest_runs SET identity_done_at = $now WHERE identity_done_at IS NULL", {"now": datetime.now(UTC)}
    )


def _by_source(run: RunResult) -> list[tuple[object, ...]]:
    sources: dict[str, list[int]] = {}
    for f in run.files:
        counts = sources.setdefault(f.source or "(unknown)", [0] * 8)
        counts[("loaded", "skipped", "failed").index(f.status)] += 1
        for i, name in enumerate(("records_read", "inserted", "updated", "rejected"), 3):
            counts[i] += f.count(name)
        counts[7] += sum(f.skipped.values())
    return [(run.run_id, source, *counts) for source, counts in sorted(sources.items())]


def finish_run(con: duckdb.DuckDBPyConnection, run: RunResult) -> None:
    con.execute(
        "UPDATE ingest_runs SET finished_at = $now, exit_code = $code, files_loaded = $loaded, "
        "files_skipped = $skipped, files_failed = $failed, records_read = $records_read, "
        "inserted = $inserted, updated = $updated, unchanged = $unchanged, rejected = $rejected "
        "WHERE run_id = $run",
        {
            "now": datetime.now(UTC),
            "code": int(run.exit_code),
            "run": run.run_id,
            "loaded": run.status_count("loaded"),
            "skipped": run.status_count("skipped"),
            "failed": run.status_count("failed"),
            **{name: run.total(name) for name in COUNTS},
        },
    )
    rows = _by_source(run)
    if rows:  # one statement (executemany commits a row at a time: 1 ms a source)
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
        con.execute(f"INSERT INTO ingest_run_sources VALUES {values}", [value for row in rows for value in row])


def reject_sample(
    con: duckdb.DuckDBPyConnection, file_id: str, limit: int
) -> list[tuple[int | None, str | None, str | None, str]]:
    """The first rejects of a file, for the run summary."""
    rows = con.execute(
        "SELECT line, pointer, field, reason FROM rejects WHERE file_id = $file "
        "ORDER BY line NULLS LAST, pointer LIMIT $limit",
        {"file": file_id, "limit": limit},
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def summary(run: RunResult) -> dict[str, object]:
    """The run as JSON-ready data for `--json`."""
    return {
        "run_id": run.run_id,
        "exit_code": int(run.exit_code),
        "files_loaded": run.status_count("loaded"),
        "files_skipped": run.status_count("skipped"),
        "files_failed": run.status_count("failed"),
        "files_failed_by_a_bug": run.bugs(),
        "errors_log": str(run.errors_log) if run.bugs() else None,
        **{name: run.total(name) for name in COUNTS},
        **(
            {"left_as_loaded": run.total("left_as_loaded")}
            if any("left_as_loaded" in f.counts for f in run.files)
            else {}
        ),
        "warnings": run.warnings,
        "identity": run.identity.as_dict() if run.identity else None,
        "event_identity": run.event_identity.as_dict() if run.event_identity else None,
        "bursts": run.bursts.as_dict() if run.bursts else None,
        "files": [
            {
                "path": str(f.path),
                "status": f.status,
                "format": f.format,
                "source": f.source,
                "sha256": f.sha256,
                "file_id": f.file_id,
                "error": f.error,
                "bug": f.bug,
                **{name: f.count(name) for name in COUNTS},
                **({"left_as_loaded": f.count("left_as_loaded")} if "left_as_loaded" in f.counts else {}),
                **(
                    {"replaced": [{"line": ln, "pointer": at, "ref": ref} for ln, at, ref in f.replaced]}
                    if f.replaced
                    else {}
                ),
                "skipped": f.skipped,
            }
            for f in run.files
        ],
    }
