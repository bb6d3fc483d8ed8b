"""What the commands share: how diagnostics go to stderr, the options many commands take,
and the printing of a run's and a lake's outcome."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.errors import UsageError
from ingest.run import orchestrate
from ingest.run.jobs import Job, RunResult, summary

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

PROGRESS_MIN_BYTES = 4 << 20

Db = Annotated[
    Path | None,
    typer.Option("--db", envvar="CYBERLOG_DB", help="Store file [default: ./cyberlog.duckdb].", show_default=False),
]
JsonOut = Annotated[
    bool,
    typer.Option(
        "--json", help="Print the run's summary as JSON on stdout: its counts, exit code, and each file's outcome."
    ),
]
PlanJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the run's summary as JSON on stdout: its counts, exit code, and each file's outcome "
        "(with --dry-run: the plan).",
    ),
]
LakeJson = Annotated[
    bool,
    typer.Option("--json", help="With --lake: print what was written, per table, as JSON on stdout."),
]
LakeWriter = Annotated[
    str | None,
    typer.Option(
        "--writer",
        help="Write this store's share of a lake many machines write to, under this name "
        "(letters, digits, '.', '_', '-').",
        show_default=False,
    ),
]
Wait = Annotated[
    float | None,
    typer.Option(
        "--wait",
        min=0,
        envvar="CYBERLOG_WAIT",
        show_default=False,
        help="If another process holds the store, wait up to this many seconds before exit 5 [default: 0].",
    ),
]
MaxRejects = Annotated[
    int | None, typer.Option("--max-rejects", min=0, help="Rejected records tolerated before exit 3 [default: 0].")
]


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass
class _Log:
    """How diagnostics go to stderr: set once by the root options."""

    quiet: bool = False  # warnings and errors only
    verbose: bool = False  # every reject of a file, not the first few
    format: LogFormat = LogFormat.text  # json: one object per line, for cron and log shippers


LOG = _Log()


def reading_rules(timezone: str | None, encoding: str | None) -> ZoneInfo | None:
    """--timezone and --encoding checked before any file is read: a wrong one is the user's."""
    try:
        if encoding is not None:
            "".encode(encoding)
        if not timezone:
            return None
        from ingest.canon.times import zone

        return zone(timezone)
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def say(message: str, level: str | None = None) -> None:
    level = level or next((name for name in ("warning", "error") if message.startswith(f"{name}: ")), "info")
    if LOG.quiet and level == "info":
        return
    if LOG.format == LogFormat.json:
        text = message.removeprefix(f"{level}: ")
        record = {"time": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "level": level, "message": text}
        typer.echo(json.dumps(record, ensure_ascii=False), err=True)
    else:
        typer.echo(f"cyberlog: {message}", err=True)


@contextmanager
def progress() -> Iterator[orchestrate.Progress | None]:
    """A progress bar per large file, only when stderr is a terminal (and not --quiet or JSON logs)."""
    if not sys.stderr.isatty() or LOG.quiet or LOG.format == LogFormat.json:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:

        def for_file(path: Path) -> Callable[[int], None] | None:
            size = path.stat().st_size if path.is_file() else 0
            if size < PROGRESS_MIN_BYTES:
                return None
            task = bar.add_task(path.name, total=size)
            return lambda n: bar.advance(task, n)

        yield for_file


def run_and_say(
    db: Path | None,
    command: str,
    config: Path | None,
    jobs: list[Job],
    warnings: list[str],
    rules: orchestrate.Rules,
    wait: float | None,
    as_json: bool,
    *,
    after: orchestrate.After | None = None,
    remote: orchestrate.Remote | None = None,
) -> int:
    """A run, said file by file and summed up; its exit code."""
    run = orchestrate.run_jobs(
        db,
        command,
        config,
        jobs,
        warnings,
        rules,
        wait=wait,
        say=say,
        warn=lambda line: say(line, "warning"),  # rejects: kept by --quiet, level "warning" in JSON logs
        verbose=LOG.verbose,
        progress=progress,
        after=after,
        remote=remote,
    )
    return finish(run, as_json)


def finish(run: RunResult, as_json: bool) -> int:
    for line in orchestrate.outcome(run):
        say(line)
    if as_json:
        typer.echo(json.dumps(summary(run), indent=2))
    return int(run.exit_code)


def export_lake(lake: Path, as_json: bool, wait: float | None, db: Path | None, writer: str | None = None) -> None:
    from ingest.lake import remote
    from ingest.reports import export

    results = remote.update(lake, db, wait, writer)
    if as_json:
        found = {"lake": str(lake.resolve()), "writer": writer, "tables": [vars(r) for r in results]}
        typer.echo(json.dumps(found, indent=1))
        return
    for r in results:
        if r.written or r.removed:
            say(
                f"lake {r.name}: {export.counted(r.written, 'partition')} written "
                f"({export.counted(r.rows_written, 'row')}), "
                f"{r.unchanged} unchanged, {r.removed} removed"
            )
    written = sum(r.written for r in results)
    removed = sum(r.removed for r in results)
    unchanged = sum(r.unchanged for r in results)
    say(f"lake {lake}: {written} partitions written, {unchanged} unchanged, {removed} removed")
