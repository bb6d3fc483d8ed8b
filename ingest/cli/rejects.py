"""`cyberlog rejects list`, `show` and `replay`: rejected records, and reading them again after a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.common import Db, JsonOut, Wait, reading_rules, run_and_say, say
from ingest.cli.output import CrlfOpt, FormatOpt, OutOpt, look, pick
from ingest.errors import ExitCode
from ingest.load.rejects import RejectFilter, listing, rejected_files, show
from ingest.reports import export, results
from ingest.run import orchestrate

app = typer.Typer(help="Rejected records: list and show them, and replay them after a fix.", no_args_is_help=True)

SourceOpt = Annotated[str | None, typer.Option("--source", help="Only this source's rejects.")]
RunOpt = Annotated[str | None, typer.Option("--run", help="Only rejects of this run (its run_id).")]
FileOpt = Annotated[str | None, typer.Option("--file", help="Only rejects of this file (its file_id, or a path).")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Only rejects whose reason contains this text.")]
ReplayConfig = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Each source's timezone, encoding and rules from this cyberlog.toml."),
]
ReplayZone = Annotated[str | None, typer.Option("--timezone", help="IANA zone for times written without an offset.")]
ReplayEncoding = Annotated[str | None, typer.Option("--encoding", help="Text encoding of the files.")]


@app.command("list")
def rejects_list(
    source: SourceOpt = None,
    run_id: RunOpt = None,
    file: FileOpt = None,
    reason: ReasonOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Also rejects already replayed.")] = False,
    format: FormatOpt = None,
    out: OutOpt = None,
    crlf: CrlfOpt = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Print the rejected records, newest first, with where and why: outstanding ones unless --all."""
    sql, params = listing(RejectFilter(source, run_id, file, reason), replayed_too=all_)
    fmt = pick(format, out)
    with results.reading(db, wait) as con:
        results.emit(con, sql, params, fmt, out, look(crlf=crlf))


@app.command("show")
def rejects_show(
    reject_id: Annotated[str, typer.Argument(help="A reject's id (rej_..., from `cyberlog rejects list`).")],
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Show one reject whole: where, every error, the raw record, and whether it was replayed."""
    with results.reading(db, wait) as con:
        found = show(con, reject_id)
    for name, value in found:
        typer.echo(f"{name + ':':<14}{export.text(value)}")


@app.command("replay")
def rejects_replay(
    source: SourceOpt = None,
    run_id: RunOpt = None,
    file: FileOpt = None,
    reason: ReasonOpt = None,
    config: ReplayConfig = None,
    timezone: ReplayZone = None,
    encoding: ReplayEncoding = None,
    all_records: Annotated[
        bool,
        typer.Option(
            "--all-records", help="Merge every record of the files again, not only the rejects: may change loaded ones."
        ),
    ] = False,
    as_json: JsonOut = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Re-validate outstanding rejects after a fix (a newer cyberlog, a source's timezone or
    encoding): each file they came from is read again; its rejected records that now pass
    are stored, exactly once, the others rejected anew, and the old rejects marked replayed.
    Records that loaded before are left as they are unless --all-records; any stored record
    a replay replaces is said, one line each."""
    from ingest.run.config import load_config

    tz = reading_rules(timezone, encoding)
    settings = load_config(config) if config else None
    with results.reading(db, wait) as con:
        files = rejected_files(con, RejectFilter(source, run_id, file, reason))
    jobs, warnings = orchestrate.replay_jobs(files, settings, tz, encoding, all_records)
    if not jobs:
        for warning in warnings:
            say(f"warning: {warning}")
        say("no outstanding rejects to replay")
        raise typer.Exit(0 if not warnings else int(ExitCode.DATA))
    rules = orchestrate.Rules()
    if settings:
        rules = orchestrate.Rules(0, settings.identity.settings(), settings.bursts.settings())
    after = orchestrate.mark_replayed(jobs)
    raise typer.Exit(run_and_say(db, "replay", config, jobs, warnings, rules, wait, as_json, after=after))
