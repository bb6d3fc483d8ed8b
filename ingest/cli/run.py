"""`cyberlog ingest`, `nightly`, `init` and `formats`: runs, and what they start from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ingest.cli.common import Db, JsonOut, MaxRejects, PlanJson, Wait, export_lake, reading_rules, run_and_say, say
from ingest.errors import ExitCode, UsageError
from ingest.run import orchestrate

if TYPE_CHECKING:
    from ingest.formats.base import Format

app = typer.Typer()


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (or MISP feed folders) to ingest.", show_default=False)],
    format: Annotated[
        str | None, typer.Option("--format", help="Input format [default: detected from content].")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source name stored with every record [default: the format's].")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA zone for times written without an offset.")
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of the files.")] = "utf-8",
    max_rejects: MaxRejects = None,
    lake: Annotated[
        Path | None,
        typer.Option(
            "--lake",
            help="Then add the store's rows to this Parquet lake as this machine's share (see --writer).",
            show_default=False,
        ),
    ] = None,
    writer: Annotated[
        str | None,
        typer.Option(
            "--writer",
            help="With --lake: the share's name, one per machine or worker [default: this machine's host name].",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOut = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Ingest files now: each file in its own transaction, already-loaded files skipped.
    With --lake DIR the store (this machine's working store) then brings its share of the
    lake up to date, so many machines can ingest disjoint file sets into one lake."""
    fmt = _format(format) if format else None
    if lake is None and writer is not None:
        raise UsageError("--writer names a share of a lake: use it with --lake DIR")
    if lake is not None:
        from ingest.lake import parquet as lakes

        writer = lakes.check_writer(writer) if writer is not None else lakes.default_writer()
    tz = reading_rules(timezone, encoding)
    jobs = orchestrate.file_jobs(paths, fmt, source, tz, encoding)
    code = run_and_say(db, "ingest", None, jobs, [], orchestrate.Rules(max_rejects or 0), wait, as_json)
    # rejects (exit 3) leave the good rows committed: they go to the lake as well
    if lake is not None and code in (ExitCode.OK, ExitCode.DATA):
        export_lake(lake, False, wait, db, writer)
    raise typer.Exit(code)


def _format(name: str) -> Format:
    from ingest import formats  # the parsing machinery, only when a format is named

    return formats.get(name)


@app.command()
def nightly(
    config: Annotated[Path, typer.Option("--config", "-c", help="The cyberlog.toml naming the sources.")] = Path(
        "cyberlog.toml"
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be fetched and ingested; change nothing.")
    ] = False,
    max_rejects: MaxRejects = None,
    as_json: PlanJson = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """The nightly job: fetch what is new from every remote source and ingest whatever is
    new in every configured source."""
    from ingest.run import settled as kept

    text = _config_bytes(config)
    known = None if dry_run or text is None else kept.recall(text, db)
    if known is None:  # not validated before (or remote sources, or a dry run): validate it now
        from ingest.feeds import nightly as feeds
        from ingest.run.config import load_config

        settings = load_config(config, text)
        known = settings.settled()  # None with a remote source: its local ones alone, then
        jobs, warnings = orchestrate.nightly_jobs(config, known.sources if known else settings.local())
        if dry_run:
            _show_plan(feeds.plan(db, config, settings, jobs, warnings), as_json)
        if text is not None and known is not None:
            kept.remember(text, db, known)
        remote = feeds.remote_jobs(settings, config)
        limit, identity, bursts = settings.max_rejects, settings.identity.settings(), settings.bursts.settings()
    else:
        jobs, warnings = orchestrate.nightly_jobs(config, known.sources)
        remote, limit, identity, bursts = None, known.max_rejects, known.identity, known.bursts
    rules = orchestrate.Rules(limit if max_rejects is None else max_rejects, identity, bursts)
    raise typer.Exit(run_and_say(db, "nightly", config, jobs, warnings, rules, wait, as_json, remote=remote))


def _config_bytes(path: Path) -> bytes | None:
    """The config's bytes; None when it cannot be read (load_config then says why)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _show_plan(plan: dict[str, list[Any]], as_json: bool) -> None:
    """`nightly --dry-run`: what would be fetched and ingested, then exit 3 if a source cannot say."""
    if as_json:
        typer.echo(json.dumps(plan, indent=2))
    else:
        for item in plan["fetch"]:
            typer.echo(f"would fetch   {item['source']} ({item['format']}): {item['what']}")
        for item in plan["ingest"]:
            typer.echo(f"would ingest  {item['source']} ({item['format']}): {item['path']}")
        for item in plan["failed"]:
            say(f"failed {item['source']}: {item['error']}", "error")
        for warning in plan["warnings"]:
            say(f"warning: {warning}")
        if not (plan["fetch"] or plan["ingest"]):
            say("nothing new to fetch or ingest")
    raise typer.Exit(int(ExitCode.DATA if plan["failed"] else ExitCode.OK))


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("cyberlog.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented cyberlog.toml to start from: one source to fill in, the others as examples."""
    from ingest.run.config import write_template

    write_template(path, force=force)
    say(f"wrote {path}: fill in its sources, then run `cyberlog nightly --config {path}`")


@app.command("formats")
def list_formats() -> None:
    """List the input formats cyberlog reads."""
    from ingest import formats

    for fmt in formats.all_formats():
        typer.echo(f"{fmt.name}\t{fmt.kind}\t{fmt.description}")
