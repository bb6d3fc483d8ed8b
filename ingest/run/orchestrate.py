"""A run from its jobs to its ledger row: the jobs of `ingest`, `nightly` and `rejects
replay`; each file loaded and reported as it is done; then bursts and identity; and the
lines that sum the run up.

The caller says how to report (a `say` function, a progress bar per file) and, for the
nightly, where more jobs come from while the run goes (remote sources' downloads): the
run itself prints nothing and knows nothing of HTTP.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb

from ingest import snapshot
from ingest.errors import ExitCode, Interrupted, MachineFault, Terminated, stopped_statement
from ingest.inputs import misp_feed
from ingest.load.ledger import FileResult
from ingest.run import guard
from ingest.run.jobs import (
    Job,
    RunResult,
    derive_bursts,
    derive_claims,
    execute,
    finish_run,
    match_identities,
    reject_sample,
    start_run,
)
from ingest.store import interrupted_query, open_store, resolve_db

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from ingest.derive.bursts import BurstSettings
    from ingest.derive.clusters import IdentitySettings
    from ingest.formats.base import Format
    from ingest.load import rejects
    from ingest.run.config import Config
    from ingest.run.settled import LocalSource

REJECTS_SHOWN = 5  # a file's first rejects are said after it; all of them when verbose

Say = Callable[[str], None]
OnFile = Callable[[FileResult], None]
Progress = Callable[[Path], Callable[[int], None] | None]  # a file -> a callback for bytes read, or None
After = Callable[[duckdb.DuckDBPyConnection, RunResult], None]


class MoreJobs(Protocol):
    """Jobs that appear while the run goes (remote sources' downloads), told of each file loaded."""

    def jobs(self) -> Iterator[Job]: ...

    def on_file(self, result: FileResult) -> None: ...


Remote = Callable[[duckdb.DuckDBPyConnection, RunResult, OnFile], MoreJobs]


@dataclass(frozen=True)
class Rules:
    """What a run decides by: the rejects it tolerates before exit 3, the identity rule, and
    the burst rule (None: the one the store kept last)."""

    max_rejects: int = 0
    identity: IdentitySettings | None = None  # None: the defaults (the matcher's module is imported when there is work)
    bursts: BurstSettings | None = None


def counted(n: int, noun: str, nouns: str | None = None) -> str:
    """`ingest.reports.export.counted`, imported when a run has something to count."""
    from ingest.reports import export

    return export.counted(n, noun, nouns)


def describe(result: FileResult) -> str:
    """One line on one file of a run."""
    if result.status == "skipped":
        return f"skipped {result.path}: already loaded ({result.source})"
    if result.status == "failed":
        of = f" ({result.format})" if result.bug and result.format else ""
        return f"failed {result.url or result.path}{of}: {result.error}"
    c = result.count
    line = (
        f"loaded {result.path} ({result.format} -> {result.source}): {c('records_read')} read, "
        f"{c('inserted')} inserted, {c('updated')} updated, {c('unchanged')} unchanged, {c('rejected')} rejected"
    )
    if result.skipped:
        reasons = sorted(result.skipped.items(), key=lambda item: (-item[1], item[0]))
        line += f", {sum(result.skipped.values())} skipped (" + "; ".join(f"{n} {why}" for why, n in reasons) + ")"
    if "left_as_loaded" in result.counts:  # a replay of the rejects alone
        line += f"; left as loaded: {c('left_as_loaded')} (--all-records reads them again too)"
    return line


def said_replaced(result: FileResult) -> list[str]:
    """A replay's records that replaced ones stored before (an accepted record changed), one line each."""
    return [
        f"  {result.path}:{line if line is not None else pointer}: ref {ref!r}: replaced the record stored before"
        for line, pointer, ref in result.replaced
    ]


def reporter(con: duckdb.DuckDBPyConnection, say: Say, verbose: bool = False, warn: Say | None = None) -> OnFile:
    """Says each file as it is done (a failed one as an error), with its first rejects (all if
    verbose) and where the rest are, through `warn` when given (a log's warning level)."""
    warn = warn or say

    def on_file(result: FileResult) -> None:
        say(f"error: {describe(result)}" if result.status == "failed" else describe(result))
        for replaced in said_replaced(result):
            warn(replaced)
        if result.count("rejected") and result.file_id:
            shown = result.count("rejected") if verbose else REJECTS_SHOWN
            for line, pointer, field_name, reason in reject_sample(con, result.file_id, shown):
                where = line if line is not None else (pointer or "(document)")
                warn(f"  {result.path}:{where}: {field_name or '(record)'}: {reason}")
            more = result.count("rejected") - shown
            if more > 0:
                sql = f"SELECT * FROM rejects WHERE file_id = '{result.file_id}'"
                warn(f'  ... and {more} more: cyberlog query "{sql}"')

    return on_file


def run_jobs(
    db: Path | None,
    command: str,
    config: Path | None,
    jobs: Iterable[Job],
    warnings: list[str],
    rules: Rules,
    *,
    wait: float | None,
    say: Say,
    warn: Say | None = None,
    verbose: bool = False,
    progress: Callable[[], AbstractContextManager[Progress | None]] | None = None,
    after: After | None = None,
    remote: Remote | None = None,
) -> RunResult:
    """One run, recorded in the ledger whatever happens. A file that fails, even by a bug,
    fails alone (see `ingest.run.guard`); SIGINT or SIGTERM rolls the file being loaded back,
    records the run as 130 or 143 and raises `Interrupted`; a bug outside the files (bursts,
    identity) is recorded as exit 1, then raised."""
    with open_store(db, write=True, wait=wait) as con:
        run = start_run(con, command, config)
        run.warnings += warnings
        run.errors_log = guard.errors_log(db)
        try:
            with progress() if progress else nullcontext() as bars:
                _load(con, run, jobs, reporter(con, say, verbose, warn), bars, remote)
            if after:
                after(con, run)
            derive_claims(con, run)
            derive_bursts(con, run, rules.bursts)
            match_identities(con, run, rules.identity)
        except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM as ingest.errors.Terminated
            raise _interrupted(con, run, exc) from None
        except BaseException as exc:
            if interrupted_query(exc):  # SIGINT while bursts or identity ran a statement
                raise _interrupted(con, run, stopped_statement()) from None
            fault = exc if isinstance(exc, MachineFault) else guard.machine_fault(exc)
            if fault is None:
                run.exit_code = ExitCode.BUG  # recorded, then the traceback: a bug to report
                finish_run(con, run)
                raise
            run.exit_code = ExitCode.SYSTEM  # a full disk or a damaged store: one line, exit 6
            with suppress(duckdb.Error):  # a store DuckDB gave up on keeps the run as never finished
                finish_run(con, run)
            raise fault from None
        run.decide_exit(rules.max_rejects)
        finish_run(con, run)
        _publish(con, run, resolve_db(db), warn or say)
    return run


def _publish(con: duckdb.DuckDBPyConnection, run: RunResult, path: Path, warn: Say) -> None:
    """A run that changed the store (or a store with no snapshot yet) publishes the snapshot
    readers open while the next run writes; one that could not be copied is said, not fatal."""
    changed = run.status_count("loaded") or run.status_count("failed") or run.identity or run.bursts or run.claims
    if not changed and snapshot.path_of(path).exists():
        return
    if problem := snapshot.refresh(con, path):
        warn(f"warning: {problem}")


def _interrupted(con: duckdb.DuckDBPyConnection, run: RunResult, exc: KeyboardInterrupt) -> Interrupted:
    """The file being loaded rolled back, the run recorded as 130 (SIGINT) or 143 (SIGTERM)."""
    from ingest.load.files import abandon

    abandon(con)
    run.exit_code = ExitCode.TERMINATED if isinstance(exc, Terminated) else ExitCode.INTERRUPTED
    finish_run(con, run)
    what = "terminated" if isinstance(exc, Terminated) else "interrupted"
    message = f"{what}: the file being loaded was rolled back; run recorded as {int(run.exit_code)}"
    return Interrupted(message, run.exit_code)


def _load(
    con: duckdb.DuckDBPyConnection,
    run: RunResult,
    jobs: Iterable[Job],
    report: OnFile,
    bars: Progress | None,
    remote: Remote | None,
) -> None:
    if remote is None:
        execute(con, run, jobs, report, bars)
        return
    more = remote(con, run, report)  # fetched files are loaded as they arrive

    def on_file(result: FileResult) -> None:
        more.on_file(result)
        report(result)

    execute(con, run, itertools.chain(jobs, more.jobs()), on_file, bars)


def outcome(run: RunResult) -> list[str]:
    """The run summed up: its warnings, its files and records, and what bursts and identity did."""
    lines = [f"warning: {warning}" for warning in run.warnings]
    lines.append(
        f"run {run.run_id}: {run.status_count('loaded')} loaded, {run.status_count('skipped')} skipped, "
        f"{run.status_count('failed')} failed; {run.total('inserted')} inserted, {run.total('updated')} updated, "
        f"{run.total('unchanged')} unchanged, {run.total('rejected')} rejected"
    )
    if b := run.bursts:
        if b.everything:
            lines.append(
                f"bursts (the [bursts] rule changed: every alert derived again): {b.inserted} new derived "
                f"incidents, {b.updated} changed, {b.removed} removed"
            )
        else:
            lines.append(f"bursts: {b.inserted} new derived incidents, {b.updated} extended, {b.removed} merged away")
    if c := run.claims:
        lines.append(
            f"claims: {counted(c.inserted, 'new claimed attack')} from target lists, "
            f"{c.updated} extended, {c.removed} joined to another"
        )
    if m := run.identity:
        lines.append(
            f"identity: {counted(m.matched, 'new cross-source match', 'new cross-source matches')}, "
            f"{m.stale} no longer hold; {counted(m.clusters, 'cluster')}"
        )
    if e := run.event_identity:
        lines.append(
            f"event identity: {counted(e.matched, 'record')} joined to an event, {e.stale} no longer; "
            f"{counted(e.clusters, 'event cluster')}"
        )
    if bugs := run.bugs():
        lines.append(f"error: {counted(bugs, 'file')} failed by a bug in cyberlog: see {run.errors_log}")
    return lines


# the jobs ---------------------------------------------------------------------------------


def file_jobs(
    paths: list[Path], fmt: Format | None, source: str | None, zone: ZoneInfo | None, encoding: str
) -> list[Job]:
    """`cyberlog ingest`: a job per file; a MISP feed folder stands for its event files."""
    return [Job(file, fmt, source, zone, encoding) for path in paths for file in misp_feed.expand(path)]


def nightly_jobs(config_path: Path, sources: Iterable[LocalSource]) -> tuple[list[Job], list[str]]:
    """The local sources' files, and a warning for each source whose glob matches none."""
    from ingest.run.settled import source_files

    jobs, warnings = [], []
    for src in sources:
        files = source_files(config_path, src)
        if not files:
            warnings.append(f"source {src.name}: no files match {src.path}")
        tz = None
        if src.timezone:
            from ingest.canon.times import zone  # zoneinfo and the time parsers, only for a source with a zone

            tz = zone(src.timezone)
        jobs += [Job(path, None, src.name, tz, src.encoding, src.filter, format_name=src.format) for path in files]
    return jobs, warnings


def replay_jobs(
    files: list[rejects.RejectedFile],
    settings: Config | None,
    zone: ZoneInfo | None,
    encoding: str | None,
    all_records: bool = False,
) -> tuple[list[Job], list[str]]:
    """`rejects replay`: a job per file still as it was loaded, read as its source in the
    config says unless `zone` or `encoding` say otherwise; a warning for each other file.
    Only the rejects' records are merged again unless `all_records`."""
    from ingest import formats
    from ingest.canon.times import zone as zone_named

    by_name = {s.name: s for s in settings.sources} if settings else {}
    jobs, warnings = [], []
    for file in files:
        if not file.unchanged():
            warnings.append(
                f"{file.path}: gone or changed since it was loaded: "
                f"its {counted(file.rejects, 'reject')} cannot be replayed"
            )
            continue
        own = by_name.get(file.source)
        tz = zone or (zone_named(own.timezone) if own and own.timezone else None)
        fmt = formats.get(file.format)
        read_as = encoding or (own.encoding if own else "utf-8")
        kept = own.filter.event_filter() if own and own.filter else None
        jobs.append(Job(file.path, fmt, file.source, tz, read_as, kept, replaces=file.file_id, all_records=all_records))
    return jobs, warnings


def mark_replayed(jobs: list[Job]) -> After:
    """After a replay's files: the old rejects of each file that loaded again are replayed."""
    replaces = {str(job.path): job.replaces for job in jobs if job.replaces}

    def mark(con: duckdb.DuckDBPyConnection, run: RunResult) -> None:
        for result in run.files:
            old = replaces.get(str(result.path))
            if old and result.status == "loaded":
                from ingest.load import rejects

                rejects.mark_replayed(con, old, run.run_id)

    return mark
