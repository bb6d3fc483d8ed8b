"""The `cyberlog` command. The only module that prints or knows about typer.

stdout is data (query results, reports, `--json` summaries); stderr is diagnostics.
Every `CyberlogError` becomes one `cyberlog: error: ...` line and its exit code.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import duckdb
import typer

from ingest import __version__
from ingest.derive import clusters
from ingest.derive.bursts import BurstSettings
from ingest.derive.clusters import IdentitySettings
from ingest.errors import CyberlogError, ExitCode, QueryError, UsageError
from ingest.load.ledger import FileResult, sha256_of
from ingest.reports import export
from ingest.run.jobs import (
    Job,
    RunResult,
    derive_bursts,
    execute,
    finish_run,
    match_identities,
    reject_sample,
    start_run,
    summary,
)
from ingest.store import open_store, resolve_db, scalar

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from ingest.formats.base import Format
    from ingest.run.config import Config

# The parsing machinery (pydantic, Arrow, the formats) is imported by the commands that
# use it, so a nightly run with nothing new, or a query, starts in a fraction of a second.

app = typer.Typer(
    name="cyberlog",
    help="Cyber incidents beside diplomatic events, in one DuckDB store, with canned reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,  # help texts say "[default: ...]" literally
)
report_app = typer.Typer(help="Canned reports: list, show and run them.", no_args_is_help=True)
app.add_typer(report_app, name="report")
clusters_app = typer.Typer(
    help="Cross-source identity: incidents several sources reported, and the decisions behind them.",
    no_args_is_help=True,
)
app.add_typer(clusters_app, name="clusters")
rejects_app = typer.Typer(
    help="Rejected records: list and show them, and replay them after a fix.", no_args_is_help=True
)
app.add_typer(rejects_app, name="rejects")

REJECTS_SHOWN = 5
PROGRESS_MIN_BYTES = 4 << 20

Db = Annotated[
    Path | None,
    typer.Option("--db", envvar="CYBERLOG_DB", help="Store file [default: ./cyberlog.duckdb].", show_default=False),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the run summary as JSON on stdout.")]
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


class Output(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"
    html = "html"  # reports only: a page with the time line and the report's table


FormatOpt = Annotated[
    Output | None,
    typer.Option("--format", "-f", help="table, csv, json or markdown [default: table, or by --out's suffix]."),
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")]
RawOpt = Annotated[bool, typer.Option("--raw", help="CSV: write cells untouched (no formula neutralising).")]


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


def _say(message: str, level: str | None = None) -> None:
    level = level or ("warning" if message.startswith("warning: ") else "info")
    if LOG.quiet and level == "info":
        return
    if LOG.format == LogFormat.json:
        text = message.removeprefix(f"{level}: ")
        record = {"time": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "level": level, "message": text}
        typer.echo(json.dumps(record, ensure_ascii=False), err=True)
    else:
        typer.echo(f"cyberlog: {message}", err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cyberlog {__version__} (duckdb {duckdb.__version__})")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Every rejected record, not the first few.")] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", envvar="CYBERLOG_LOG_FORMAT", help="stderr as text, or one JSON object a line."),
    ] = LogFormat.text,
) -> None:
    """cyberlog: which cyber attacks cluster around which diplomatic moves, and is that more than chance?"""
    LOG.quiet, LOG.verbose, LOG.format = quiet, verbose, log_format


# ingest and nightly -------------------------------------------------------------------


def _describe(result: FileResult) -> str:
    if result.status == "skipped":
        return f"skipped {result.path}: already loaded ({result.source})"
    if result.status == "failed":
        return f"failed {result.url or result.path}: {result.error}"
    c = result.count
    line = (
        f"loaded {result.path} ({result.format} -> {result.source}): {c('records_read')} read, "
        f"{c('inserted')} inserted, {c('updated')} updated, {c('unchanged')} unchanged, {c('rejected')} rejected"
    )
    if result.skipped:
        reasons = sorted(result.skipped.items(), key=lambda item: (-item[1], item[0]))
        line += f", {sum(result.skipped.values())} skipped (" + "; ".join(f"{n} {why}" for why, n in reasons) + ")"
    return line


def _reporter(con: duckdb.DuckDBPyConnection) -> Callable[[FileResult], None]:
    def on_file(result: FileResult) -> None:
        _say(_describe(result))
        if result.count("rejected") and result.file_id:
            shown = result.count("rejected") if LOG.verbose else REJECTS_SHOWN
            for line, pointer, field, reason in reject_sample(con, result.file_id, shown):
                where = line if line is not None else (pointer or "(document)")
                _say(f"  {result.path}:{where}: {field or '(record)'}: {reason}")
            more = result.count("rejected") - shown
            if more > 0:
                sql = f"SELECT * FROM rejects WHERE file_id = '{result.file_id}'"
                _say(f'  ... and {more} more: cyberlog query "{sql}"')

    return on_file


@contextmanager
def _progress() -> Iterator[Callable[[Path], Callable[[int], None] | None] | None]:
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


def _run(db: Path | None, command: str, config: Path | None, jobs: list[Job], warnings: list[str],
         max_rejects: int, as_json: bool, identity: IdentitySettings, wait: float | None,
         bursts: BurstSettings | None = None,
         after: Callable[[duckdb.DuckDBPyConnection, RunResult], None] | None = None,
         remote: Config | None = None) -> None:  # fmt: skip
    with open_store(db, write=True, wait=wait) as con:
        run = start_run(con, command, config)
        run.warnings += warnings
        try:
            with _progress() as progress:
                reporter = _reporter(con)
                if remote is not None and config is not None:  # fetched files are loaded as they arrive
                    from ingest.feeds import FeedRun

                    feeds = FeedRun(con, run, remote, config, reporter)

                    def on_file(result: FileResult) -> None:
                        feeds.on_file(result)
                        reporter(result)

                    execute(con, run, itertools.chain(jobs, feeds.jobs()), on_file, progress)
                else:
                    execute(con, run, jobs, reporter, progress)
            if after:
                after(con, run)
            derive_bursts(con, run, bursts)
            match_identities(con, run, identity)
        except BaseException:
            run.exit_code = ExitCode.BUG  # recorded, then the traceback: a bug to report
            finish_run(con, run)
            raise
        run.decide_exit(max_rejects)
        finish_run(con, run)
    for warning in run.warnings:
        _say(f"warning: {warning}")
    _say(
        f"run {run.run_id}: {run.status_count('loaded')} loaded, {run.status_count('skipped')} skipped, "
        f"{run.status_count('failed')} failed; {run.total('inserted')} inserted, {run.total('updated')} updated, "
        f"{run.total('unchanged')} unchanged, {run.total('rejected')} rejected"
    )
    if run.bursts:
        b = run.bursts
        if b.everything:
            _say(f"bursts (the [bursts] rule changed: every alert derived again): {b.inserted} new derived "
                 f"incidents, {b.updated} changed, {b.removed} removed")  # fmt: skip
        else:
            _say(f"bursts: {b.inserted} new derived incidents, {b.updated} extended, {b.removed} merged away")
    if run.identity:
        m = run.identity
        _say(f"identity: {m.matched} new cross-source matches, {m.stale} no longer hold; {m.clusters} clusters")
    if run.event_identity:
        e = run.event_identity
        _say(f"event identity: {e.matched} records joined to an event, {e.stale} no longer; "
             f"{e.clusters} event clusters")  # fmt: skip
    if as_json:
        typer.echo(json.dumps(summary(run), indent=2))
    raise typer.Exit(int(run.exit_code))


def _format(name: str) -> Format:
    from ingest import formats

    return formats.get(name)


def _expand(path: Path) -> list[Path]:
    """A MISP feed folder stands for its event files; anything else for itself."""
    if not path.is_dir():
        return [path]
    from ingest import formats

    return formats.expand(path)


def _zone(name: str) -> ZoneInfo:
    from ingest.canon.times import zone

    return zone(name)


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
    try:
        tz = _zone(timezone) if timezone else None
        "".encode(encoding)
    except (ValueError, LookupError) as exc:
        raise UsageError(str(exc) if isinstance(exc, ValueError) else f"unknown encoding {encoding!r}") from None
    jobs = [Job(file, fmt, source, tz, encoding) for path in paths for file in _expand(path)]
    try:
        _run(db, "ingest", None, jobs, [], max_rejects or 0, as_json, IdentitySettings(), wait)
    except typer.Exit as done:
        # rejects (exit 3) leave the good rows committed: they go to the lake as well
        if lake is not None and done.exit_code in (ExitCode.OK, ExitCode.DATA):
            _export_lake(lake, False, wait, db, writer)
        raise


@app.command()
def nightly(
    config: Annotated[Path, typer.Option("--config", "-c", help="The cyberlog.toml naming the sources.")] = Path(
        "cyberlog.toml"
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be fetched and ingested; change nothing.")
    ] = False,
    max_rejects: MaxRejects = None,
    as_json: JsonOut = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """The nightly job: fetch what is new from every remote source and ingest whatever is
    new in every configured source."""
    from ingest.run.config import load_config, source_files

    settings = load_config(config)

    jobs, warnings = [], []
    for src in settings.sources:
        if src.url is not None:
            continue
        files = source_files(config, src)
        if not files:
            warnings.append(f"source {src.name}: no files match {src.path}")
        tz = _zone(src.timezone) if src.timezone else None
        kept = src.filter.event_filter() if src.filter else None
        jobs += [Job(path, _format(src.format), src.name, tz, src.encoding, kept) for path in files]
    if dry_run:
        _dry_run(db, config, settings, jobs, warnings, as_json)
    remote = settings if any(src.url for src in settings.sources) else None
    limit = settings.max_rejects if max_rejects is None else max_rejects
    _run(db, "nightly", config, jobs, warnings, limit, as_json, settings.identity.settings(), wait,
         settings.bursts.settings(), remote=remote)  # fmt: skip


def _dry_run(db: Path | None, config_path: Path, settings: Config, jobs: list[Job], warnings: list[str],
             as_json: bool) -> None:  # fmt: skip
    """`nightly --dry-run`: the local files the ledger does not know, and what each remote
    source would fetch (its list or manifest is read; nothing is downloaded or written)."""
    from ingest.load.ledger import Ledger

    path = resolve_db(db)
    plan: dict[str, Any] = {"ingest": [], "fetch": [], "failed": [], "warnings": warnings}
    with ExitStack() as stack:
        con = stack.enter_context(open_store(db, write=False)) if path.exists() else None
        ledger = Ledger(con) if con is not None else None
        for job in jobs:
            if ledger is None or not ledger.same_file(job.path, job.source):
                plan["ingest"].append({"source": job.source, "format": job.fmt.name if job.fmt else None,
                                       "path": str(job.path)})  # fmt: skip
        remote = [src for src in settings.sources if src.url is not None]
        if remote:
            from ingest.feeds import FetchError, dry_run

            state = con if con is not None and _has_table(con, "fetch_state") else None
            for src in remote:
                try:
                    found = dry_run(settings, config_path, state, src)
                except (FetchError, ValueError) as exc:
                    plan["failed"].append({"source": src.name, "error": getattr(exc, "message", str(exc))})
                    continue
                plan["fetch"] += [{"source": src.name, "format": src.format, "what": what} for what in found]
    if as_json:
        typer.echo(json.dumps(plan, indent=2))
    else:
        for item in plan["fetch"]:
            typer.echo(f"would fetch   {item['source']} ({item['format']}): {item['what']}")
        for item in plan["ingest"]:
            typer.echo(f"would ingest  {item['source']} ({item['format']}): {item['path']}")
        for item in plan["failed"]:
            _say(f"failed {item['source']}: {item['error']}", "error")
        for warning in warnings:
            _say(f"warning: {warning}")
        if not (plan["fetch"] or plan["ingest"]):
            _say("nothing new to fetch or ingest")
    raise typer.Exit(int(ExitCode.DATA if plan["failed"] else ExitCode.OK))


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("cyberlog.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented cyberlog.toml to start from: one source to fill in, the others as examples."""
    from importlib import resources

    if path.exists() and not force:
        raise UsageError(f"{path} exists: edit it, or pass --force to overwrite it")
    template = resources.files("ingest").joinpath("data/cyberlog.toml.template").read_text("utf-8")
    path.write_text(template, "utf-8")
    _say(f"wrote {path}: fill in its sources, then run `cyberlog nightly --config {path}`")


@app.command("formats")
def list_formats() -> None:
    """List the input formats cyberlog reads."""
    from ingest import formats

    for fmt in formats.all_formats():
        typer.echo(f"{fmt.name}\t{fmt.kind}\t{fmt.description}")


# query, reports and export -----------------------------------------------------------


@contextmanager
def _destination(out: Path | None, fmt: Output) -> Iterator[TextIO]:
    """stdout, or a file that appears only once it is complete."""
    if out is None:
        yield sys.stdout
        return
    folder = out.parent if str(out.parent) else Path()
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="" if fmt == Output.csv else None) as stream:
            yield stream
        Path(temp).replace(out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _pick(fmt: Output | None, out: Path | None) -> Output:
    if fmt is not None:
        return fmt
    by_suffix = {".csv": Output.csv, ".json": Output.json, ".md": Output.markdown, ".html": Output.html}
    return by_suffix.get(out.suffix.lower(), Output.table) if out else Output.table


def _rows(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    while chunk := cursor.fetchmany(10_000):
        yield from chunk


def _emit(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], fmt: Output, out: Path | None, raw: bool
) -> None:
    if fmt == Output.html:
        raise UsageError("--format html draws a report: use `cyberlog report run NAME --format html`")
    try:
        if fmt == Output.csv and _emit_csv_text(con, sql, params, out, raw):
            return
        cursor = con.execute(sql, params)
        _write_rows([d[0] for d in cursor.description or []], _rows(cursor), fmt, out, raw)
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _write_rows(columns: list[str], found: Iterator[tuple[Any, ...]], fmt: Output, out: Path | None, raw: bool) -> None:
    with _destination(out, fmt) as stream:
        if fmt == Output.csv:
            export.write_csv(stream, columns, found, raw=raw)
        elif fmt == Output.json:
            export.write_json(stream, columns, found)
        elif fmt == Output.markdown:
            export.write_markdown(stream, columns, found)
        elif columns:
            export.write_table(stream, columns, found, width=_width() if out is None else 1000)


def _without_tail(sql: str) -> str:
    """The statement without the semicolons and whole-line comments that may end it."""
    body = sql.strip()
    while body:
        last_line = body.rsplit("\n", 1)[-1].lstrip()
        if body.endswith(";"):
            body = body[:-1].rstrip()
        elif last_line.startswith("--"):
            body = body.rsplit("\n", 1)[0].rstrip() if "\n" in body else ""
        else:
            break
    return body


def _emit_csv_text(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], out: Path | None, raw: bool
) -> bool:
    """CSV with every cell turned to text inside DuckDB: the same bytes, far faster on big results.

    False when the statement or its column types need the Python road; that road then
    runs the statement and reports any error it has.
    """
    body = _without_tail(sql)
    if not body:
        return False
    try:
        relation = con.sql(body, params=params or None)
    except duckdb.Error:
        return False
    if relation is None:
        return False
    projections = export.csv_text_sql(relation.columns, [str(t) for t in relation.types], raw=raw)
    if projections is None:
        return False
    try:
        batches = relation.project(projections[0]).project(projections[1]).to_arrow_reader(10_000)
    except duckdb.Error:
        return False

    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        for batch in batches:
            yield list(zip(*(column.to_pylist() for column in batch.columns), strict=True))

    with _destination(out, Output.csv) as stream:
        export.write_csv_text(stream, relation.columns, chunks(), raw=raw)
    return True


def _width() -> int:
    return os.get_terminal_size().columns if sys.stdout.isatty() else 160


@contextmanager
def _reader(db: Path | None, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection that cannot touch files outside the store either."""
    with open_store(db, write=False, wait=wait) as con:
        con.execute("SET enable_external_access = false")
        yield con


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the store (read-only).")],
    format: FormatOpt = None,
    out: OutOpt = None,
    raw: RawOpt = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Run ad-hoc SQL on the store, read-only. See the views v_incidents and v_timeline."""
    with _reader(db, wait) as con:
        _emit(con, sql, {}, _pick(format, out), out, raw)


# export -------------------------------------------------------------------------------

EXPORTED = ("incidents", "incident_targets", "incident_actors", "diplomatic_events", "alerts", "derived_incidents",
            "incident_links", "incident_clusters", "event_links", "event_clusters", "ingest_runs", "ingest_files",
            "rejects", "cameo_codes", "v_incidents", "v_clusters", "v_events", "v_event_clusters",
            "v_timeline")  # fmt: skip
MONTH_OF = {"incidents": "started_at", "diplomatic_events": "occurred_at", "alerts": "observed_at"}


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


@app.command("export")
def export_tables(
    folder: Annotated[Path | None, typer.Argument(help="Folder to write into (made if missing).")] = None,
    table: Annotated[
        list[str] | None,
        typer.Option("--table", "-t", help="A table or view; repeat for more [default: all]."),
    ] = None,
    format: Annotated[ExportFormat, typer.Option("--format", help="parquet or csv (spreadsheet-safe).")] = (
        ExportFormat.parquet
    ),
    partition: Annotated[
        bool,
        typer.Option("--partition", help="Parquet: hive folders by source and month (source=x/month=2022-02)."),
    ] = False,
    lake: Annotated[
        Path | None,
        typer.Option("--lake", help="Bring a Parquet lake up to date instead: only changed partitions are written."),
    ] = None,
    writer: LakeWriter = None,
    as_json: JsonOut = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Export tables and views for notebooks and other engines: one Parquet (or spreadsheet-safe
    CSV) file each, all by default; --partition writes incidents, events and alerts as hive
    folders by source and month (alerts/source=ids/month=2022-02/). Files appear only once complete.
    --lake DIR keeps a lake for Spark and other engines: every table, hive-partitioned by
    source and month, with a manifest; a second export writes only what changed since.
    --writer NAME makes this store's rows one machine's share of a lake many write to."""
    if lake is not None:
        if folder is not None or table or partition or format != ExportFormat.parquet:
            raise UsageError("--lake writes every table: give no folder, --table, --format or --partition with it")
        _export_lake(lake, as_json, wait, db, writer)
        return
    if writer is not None:
        raise UsageError("--writer names a share of a lake: use it with --lake DIR")
    if folder is None:
        raise UsageError("give a folder to export into, or --lake DIR")
    names = table or list(EXPORTED)
    unknown = [n for n in names if n not in EXPORTED]
    if unknown:
        raise UsageError(f"cannot export {', '.join(unknown)}: choose from {', '.join(EXPORTED)}")
    if partition and format != ExportFormat.parquet:
        raise UsageError("--partition writes Parquet folders: use it with --format parquet")
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(db, write=False, wait=wait) as con:
        for name in names:
            target = folder / (name if partition and name in MONTH_OF else f"{name}.{format}")
            if format == ExportFormat.csv:
                _emit(con, f"SELECT * FROM {name}", {}, Output.csv, target, False)  # name from EXPORTED
            else:
                _copy_parquet(con, name, target, partition and name in MONTH_OF)
            _say(f"exported {name} to {target}")


def _export_lake(lake: Path, as_json: bool, wait: float | None, db: Path | None, writer: str | None = None) -> None:
    from ingest.lake import parquet as lakes

    if writer is not None:
        lakes.check_writer(writer)
    path = resolve_db(db)
    with open_store(db, write=False, wait=wait) as con:
        version = scalar(con, "SELECT max(version) FROM schema_version")
        results = lakes.export(con, lake, path, version, writer)
    if as_json:
        found = {"lake": str(lake.resolve()), "writer": writer, "tables": [vars(r) for r in results]}
        typer.echo(json.dumps(found, indent=1))
        return
    for r in results:
        if r.written or r.removed:
            _say(f"lake {r.name}: {r.written} partitions written ({r.rows_written} rows), "
                 f"{r.unchanged} unchanged, {r.removed} removed")  # fmt: skip
    written = sum(r.written for r in results)
    removed = sum(r.removed for r in results)
    unchanged = sum(r.unchanged for r in results)
    _say(f"lake {lake}: {written} partitions written, {unchanged} unchanged, {removed} removed")


def _copy_parquet(con: duckdb.DuckDBPyConnection, name: str, target: Path, partition: bool) -> None:
    """COPY to a temporary name beside the target, then into place: never half a file or folder."""
    temp = target.with_name(f".{target.name}.part")
    if temp.is_dir():
        shutil.rmtree(temp)
    else:
        temp.unlink(missing_ok=True)
    if partition:
        query = f"SELECT *, strftime({MONTH_OF[name]}, '%Y-%m') AS month FROM {name}"
        options = "FORMAT parquet, PARTITION_BY (source, month)"
    else:
        query, options = f"SELECT * FROM {name}", "FORMAT parquet"
    con.execute(f"COPY ({query}) TO '{str(temp).replace(chr(39), chr(39) * 2)}' ({options})")
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    temp.replace(target)


# rejects --------------------------------------------------------------------------------

RejectFilter = tuple[str | None, str | None, str | None, str | None]
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

_REJECT_WHERE = """($source IS NULL OR source = $source) AND ($run IS NULL OR run_id = $run)
    AND ($file IS NULL OR file_id = $file OR path = $file) AND ($reason IS NULL OR contains(reason, $reason))"""


def _reject_params(source: str | None, run: str | None, file: str | None, reason: str | None) -> dict[str, Any]:
    if file and Path(file).exists():
        file = str(Path(file).resolve())  # rejects keep the resolved path
    return {"source": source, "run": run, "file": file, "reason": reason}


@rejects_app.command("list")
def rejects_list(
    source: SourceOpt = None, run_id: RunOpt = None, file: FileOpt = None, reason: ReasonOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Also rejects already replayed.")] = False,
    format: FormatOpt = None, out: OutOpt = None, wait: Wait = None, db: Db = None,
) -> None:  # fmt: skip
    """List rejected records, newest first: outstanding ones unless --all."""
    sql = f"""SELECT reject_id, rejected_at, source, format, path, coalesce(line::VARCHAR, pointer) AS at, field,
                     reason, outstanding
              FROM v_rejects WHERE ($all OR outstanding) AND {_REJECT_WHERE}
              ORDER BY rejected_at DESC, path, line, pointer"""  # fmt: skip
    with _reader(db, wait) as con:
        _emit(con, sql, {**_reject_params(source, run_id, file, reason), "all": all_}, _pick(format, out), out, False)


@rejects_app.command("show")
def rejects_show(
    reject_id: Annotated[str, typer.Argument(help="A reject's id (rej_..., from `cyberlog rejects list`).")],
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Show one reject whole: where, every error, the raw record, and whether it was replayed."""
    with _reader(db, wait) as con:
        cursor = con.execute("SELECT * FROM v_rejects WHERE reject_id = $id", {"id": reject_id})
        columns = [d[0] for d in cursor.description or []]
        found = cursor.fetchall()
    if not found:
        raise UsageError(f"no reject {reject_id!r}: see `cyberlog rejects list`")
    for name, value in zip(columns, found[0], strict=True):
        typer.echo(f"{name + ':':<14}{export.text(value)}")


@rejects_app.command("replay")
def rejects_replay(
    source: SourceOpt = None, run_id: RunOpt = None, file: FileOpt = None, reason: ReasonOpt = None,
    config: ReplayConfig = None, timezone: ReplayZone = None, encoding: ReplayEncoding = None,
    as_json: JsonOut = False, wait: Wait = None, db: Db = None,
) -> None:  # fmt: skip
    """Re-validate outstanding rejects after a fix (a newer cyberlog, a source's timezone or
    encoding): each file they came from is read again; records that now pass are stored,
    exactly once, the others rejected anew, and the old rejects marked replayed."""
    from ingest import formats
    from ingest.run.config import load_config

    settings = load_config(config) if config else None
    by_name = {s.name: s for s in settings.sources} if settings else {}
    tz = _zone(timezone) if timezone else None
    params = _reject_params(source, run_id, file, reason)
    with _reader(db, wait) as con:
        files = con.execute(
            f"""SELECT f.file_id, f.path, f.source, f.format, f.sha256, count(*) AS n
                FROM (SELECT file_id FROM v_rejects WHERE outstanding AND {_REJECT_WHERE}) r
                JOIN ingest_files f USING (file_id)
                GROUP BY ALL ORDER BY f.path""",
            params,
        ).fetchall()
    jobs, warnings, replaces = [], [], {}
    for file_id, path, src, fmt_name, sha256, n in files:
        where = Path(path)
        if not where.is_file() or (sha256 and sha256_of(where) != sha256):
            warnings.append(f"{path}: gone or changed since it was loaded: its {n} rejects cannot be replayed")
            continue
        own = by_name.get(src)
        zone = tz or (_zone(own.timezone) if own and own.timezone else None)
        jobs.append(Job(where, formats.get(fmt_name), src, zone, encoding or (own.encoding if own else "utf-8"),
                        own.filter.event_filter() if own and own.filter else None, replaces=file_id))  # fmt: skip
        replaces[str(where)] = file_id
    if not jobs:
        for warning in warnings:
            _say(f"warning: {warning}")
        _say("no outstanding rejects to replay")
        raise typer.Exit(0 if not warnings else int(ExitCode.DATA))

    def mark(con: duckdb.DuckDBPyConnection, run: RunResult) -> None:
        for result in run.files:
            old = replaces.get(str(result.path))
            if old and result.status == "loaded":
                con.execute(
                    "UPDATE rejects SET replayed_at = now(), replay_run = $run "
                    "WHERE file_id = $file AND replayed_at IS NULL",
                    {"run": run.run_id, "file": old},
                )

    identity = settings.identity.settings() if settings else IdentitySettings()
    bursts = settings.bursts.settings() if settings else None
    _run(db, "replay", config, jobs, warnings, 0, as_json, identity, wait, bursts, after=mark)


@app.command()
def status(
    as_json: JsonOut = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """What the store holds at a glance: the store (size, schema, runs, the last run's exit code,
    runs killed or not yet matched or derived) and per source its kind, records, newest data,
    last run and its exit code, files loaded and failed, rejects kept, records with words no
    vocabulary maps (listed in v_unmapped_terms), and when it last fetched; and the actor
    names the MISP galaxies do not know."""
    from ingest.store import sql_dir

    sql = (sql_dir() / "status.sql").read_text("utf-8")
    with _reader(db, wait) as con:
        if not _has_table(con, "fetch_state"):  # a store no nightly has written since remote sources came
            con.execute("CREATE TEMP VIEW fetch_state AS SELECT NULL AS source, NULL AS item, "
                        "NULL::TIMESTAMPTZ AS fetched_at WHERE false")  # fmt: skip
        if not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'v_unmapped'").fetchall()[0][0]:
            # a store no write has opened since unmapped words were kept: none known yet
            con.execute("CREATE TEMP VIEW v_unmapped AS SELECT NULL AS source, NULL AS id WHERE false")
        store = _store_summary(con, db)
        unresolved = _unresolved_actors(con)
        if as_json:
            store["actors_unresolved"] = unresolved
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            sources = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            typer.echo(json.dumps({"store": store, "sources": sources}, indent=2, default=export.json_default))
            return
        for name, value in store.items():
            typer.echo(f"{name + ':':<22}{export.text(value)}")
        shown = "; ".join(unresolved[:5]) + ("; ..." if len(unresolved) > 5 else "")
        typer.echo(f"{'actors_unresolved:':<22}{len(unresolved)}{f' ({shown})' if unresolved else ''}")
        typer.echo("")
        _emit(con, sql, {}, Output.table, None, False)


def _unresolved_actors(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Actor names the MISP galaxies do not know (stored tidied, not canonical), most records
    first: candidates for a synonym upstream, or names a source spells its own way."""
    from ingest.canon import galaxy

    names = con.execute("SELECT actor FROM incident_actors GROUP BY actor ORDER BY count(*) DESC, actor").fetchall()
    return [name for (name,) in names if not galaxy.known_actor(name)]


def _store_summary(con: duckdb.DuckDBPyConnection, db: Path | None) -> dict[str, Any]:
    path = resolve_db(db)
    found = con.execute(
        """SELECT count(*), max(started_at), arg_max(finished_at IS NOT NULL, started_at),
                  arg_max(exit_code, started_at), arg_max(command, started_at),
                  count(*) FILTER (WHERE finished_at IS NULL),
                  count(*) FILTER (WHERE identity_done_at IS NULL), count(*) FILTER (WHERE bursts_done_at IS NULL),
                  (SELECT max(version) FROM schema_version)
           FROM ingest_runs"""
    ).fetchall()[0]  # fmt: skip
    runs, last_started, last_finished, last_exit, last_command, unfinished, unmatched, underived, version = found
    return {
        "store": str(path),
        "size_bytes": path.stat().st_size,
        "schema_version": version,
        "runs": runs,
        "last_run": last_command and f"{last_command} at {export.text(last_started)}",
        "last_run_exit": last_exit if last_finished else None,  # a run still going, or killed, has none
        "runs_unfinished": unfinished,
        "runs_not_matched": unmatched,
        "runs_not_derived": underived,
    }


@report_app.command("list")
def report_list() -> None:
    """List the canned reports."""
    from ingest.reports import catalog as reports

    for report in reports.all_reports():
        typer.echo(f"{report.name}\t{report.title}")


@report_app.command("show")
def report_show(name: Annotated[str, typer.Argument(help="Report name.")]) -> None:
    """Show a report's description, params and SQL."""
    from ingest.reports import catalog as reports

    report = reports.get(name)
    typer.echo(f"{report.name}: {report.title}\n\n{report.description}\n\nparams:")
    for p in report.params:
        typer.echo(f"  {p.name} {p.type_text} = {p.default_text}  {p.help}")
    for example in report.examples:
        typer.echo(f"example: {example}")
    typer.echo(f"\n{report.sql}")


@report_app.command("run")
def report_run(
    name: Annotated[str, typer.Argument(help="Report name (see `cyberlog report list`).")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value; repeat for more.")] = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    raw: RawOpt = False,
    engine: Annotated[
        Engine, typer.Option("--engine", help="duckdb, or spark (over a lake: --lake; pip install 'cyberlog[spark]').")
    ] = Engine.duckdb,
    lake: Annotated[
        Path | None, typer.Option("--lake", help="Run over this Parquet lake (see export --lake), not the store.")
    ] = None,
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL (spark://host:7077) [default: local, all cores].")
    ] = None,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Run a canned report; every param has a default. --format html (or --out page.html)
    writes one self-contained page: the report's incidents and events on a zoomable time
    axis, details and sources on hover or click, the report's rows beside. --lake DIR runs
    it over a Parquet lake instead of the store; --engine spark runs it there on Spark."""
    from ingest.reports import catalog as reports
    from ingest.reports import unmatched

    report = reports.get(name)
    params = report.bind(reports.parse_pairs(param or []))
    if engine == Engine.spark or lake is not None:
        _report_on_lake(report, params, engine, lake, master, _pick(format, out), out, raw)
        return
    if master is not None:
        raise UsageError("--master is for --engine spark")
    with _reader(db, wait) as con:
        if _pick(format, out) == Output.html:
            _emit_page(con, report, params, out)
        else:
            _emit_report(con, report, params, _pick(format, out), out, raw)
        for reason in unmatched.reasons(con, report, params):  # why it is empty, or counts nothing
            _say(f"note: {reason}")


def _emit_report(
    con: duckdb.DuckDBPyConnection, report: Any, params: dict[str, Any], fmt: Output, out: Path | None, raw: bool
) -> None:
    """A report's rows: its SELECT's, or (a compute report) what its Python step makes of them."""
    if report.compute is None:
        _emit(con, report.sql, params, fmt, out, raw)
        return
    if fmt == Output.html:
        raise UsageError("--format html draws a report: use `cyberlog report run NAME --format html`")
    columns, found = _report_rows(con, report, params)
    _write_rows(columns, iter(found), fmt, out, raw)


def _report_rows(
    con: duckdb.DuckDBPyConnection, report: Any, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    from ingest.reports import catalog as reports

    try:
        cursor = con.execute(report.sql, report.sql_params(params))
        columns = [d[0] for d in cursor.description or []]
        found = cursor.fetchall()
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return reports.compute(report, found, params) if report.compute else (columns, found)


def _report_on_lake(
    report: Any, params: dict[str, Any], engine: Engine, lake: Path | None, master: str | None, fmt: Output,
    out: Path | None, raw: bool,
) -> None:  # fmt: skip
    """A canned report over a lake: on DuckDB (in memory, over the lake's files) or Spark."""
    from ingest.lake import parquet as lakes

    if lake is None:
        raise UsageError("--engine spark runs over a lake: give --lake DIR (`cyberlog export --lake DIR` writes one)")
    if not lakes.is_lake(lake):
        raise UsageError(
            f"{lake} holds no cyberlog lake (no {lakes.MANIFEST}, no writers/*.json): "
            f"`cyberlog export --lake {lake}` writes one"
        )
    if fmt == Output.html:
        raise UsageError("--format html reads the store: run it without --lake")
    if engine == Engine.duckdb:
        if master is not None:
            raise UsageError("--master is for --engine spark")
        with lakes.duckdb_over_lake(lake) as con:
            _emit_report(con, report, params, fmt, out, raw)
        return
    from ingest.lake import spark

    if report.name in spark.DUCKDB_ONLY:
        raise UsageError(f"report {report.name} runs on DuckDB only: {spark.DUCKDB_ONLY[report.name]}")
    try:
        session = spark.session(master)
    except UsageError:
        raise
    except Exception as exc:  # a master URL Spark cannot parse or reach, a JVM that would not start
        raise UsageError(f"Spark could not start (--master {master or 'local[*]'}): {spark.message(exc)}") from None
    try:
        spark.register_lake(session, lake)
        columns, rows = spark.run_report(session, report.name, report.sql, params)
    except UsageError:
        raise
    except Exception as exc:  # Spark's own errors (analysis, a lost cluster): its message, not its traceback
        raise QueryError(f"Spark: {spark.message(exc)}") from None
    finally:
        session.stop()
    _write_rows(columns, iter(rows), fmt, out, raw)


def _emit_page(con: duckdb.DuckDBPyConnection, report: Any, params: dict[str, Any], out: Path | None) -> None:
    """The report as one self-contained HTML page: its rows beside the incidents and
    events of its time range on a zoomable axis."""
    from ingest.reports import page

    columns, found = _report_rows(con, report, params)
    try:
        marked = con.execute(page.MARKS_SQL, {"since": params.get("since"), "until": params.get("until")})
        names = [d[0] for d in marked.description or []]
        marks = [dict(zip(names, row, strict=True)) for row in marked.fetchall()]
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    with _destination(out, Output.html) as stream:
        page.write_page(stream, report.title, report.description, params, columns, found, marks)


# cross-source identity -----------------------------------------------------------------

IncidentId = Annotated[
    str, typer.Argument(help="An incident_id (inc_...) from v_incidents, or an event_id (evt_...) from v_events.",
                        show_default=False),
]  # fmt: skip
Note = Annotated[str | None, typer.Option("--note", help="Why, for the ledger.")]


@clusters_app.command("list")
def clusters_list(
    every: Annotated[bool, typer.Option("--all", help="Also clusters of a single record.")] = False,
    events: Annotated[
        bool, typer.Option("--events", help="Event clusters: one real-world event, several records.")
    ] = False,
    format: FormatOpt = None,
    out: OutOpt = None,
    db: Db = None,
) -> None:
    """Incident clusters, newest first: the attacks several sources reported (or, with
    --events, the diplomatic events several records describe)."""
    view, alone = (
        ("v_event_clusters", "events only one record describes") if events
        else ("v_clusters", "incidents only one source reported")
    )  # fmt: skip
    sql = (
        "SELECT cluster_id, records, array_to_string(sources, ';') AS sources, "
        "time_text(occurred_at, occurred_latest, time_precision) AS occurred, event_class, title "
        "FROM v_event_clusters WHERE records > 1 OR $every ORDER BY occurred_at DESC, cluster_id"
        if events else
        "SELECT cluster_id, records, array_to_string(sources, ';') AS sources, started, time_records, title "
        "FROM v_clusters WHERE records > 1 OR $every ORDER BY started_at DESC, cluster_id"
    )  # fmt: skip
    with _reader(db) as con:
        _emit(con, sql, {"every": every}, _pick(format, out), out, raw=False)
        several, single = con.execute(
            f"SELECT count(*) FILTER (records > 1), count(*) FILTER (records = 1) FROM {view}"
        ).fetchone() or (0, 0)
    more = "" if every or not single else " (--all lists them too)"
    _say(f"{several} clusters of several records; {single} {alone}{more}")


@clusters_app.command("suggest")
def clusters_suggest(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Take [identity] settings from this cyberlog.toml.")
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=0, max=60, help="Look this many days beyond the rule's slack.")
    ] = 3,
    format: FormatOpt = None,
    out: OutOpt = None,
    db: Db = None,
) -> None:
    """Near misses: pairs of incidents from two sources that fail one criterion of the matching
    rule, and which. Review them; `clusters merge` joins a pair the rule missed."""
    from ingest.run.config import load_config

    settings = load_config(config).identity.settings() if config else clusters.IdentitySettings()
    with _reader(db) as con:
        columns, found = clusters.suggest(con, settings, extra_days=days)
    _write_rows(columns, iter(found), _pick(format, out), out, raw=False)
    _say(f"{len(found)} near miss{'es' if len(found) != 1 else ''}")


@clusters_app.command("show")
def clusters_show(
    cluster: Annotated[
        str, typer.Argument(help="A cluster_id (clu_..., ecl_...), incident_id (inc_...) or event_id (evt_...).")
    ],
    db: Db = None,
) -> None:
    """A cluster's records, the decisions that joined them, and where the sources disagree."""
    if cluster.startswith(("ecl_", "evt_")):
        view, id_column, hint = "v_events", "event_id", "`cyberlog clusters list --events`"
        sections = {
            "records": "SELECT event_id, source, source_ref, "
            "time_text(occurred_at, occurred_latest, time_precision) AS occurred, event_class, cameo_code, "
            "array_to_string(actor_countries, ';') AS actor_countries, title "
            "FROM v_events WHERE cluster_id = $c ORDER BY occurred_at, event_id",
            "decisions": "SELECT l.event_a, l.event_b, l.decision, l.rule, l.evidence, l.note, l.decided_at "
            "FROM event_links l JOIN v_events a ON a.event_id = l.event_a "
            "WHERE a.cluster_id = $c ORDER BY l.seq",
        }
    else:
        view, id_column, hint = "v_incidents", "incident_id", "`cyberlog clusters list`"
        sections = {
            "records": "SELECT incident_id, source, source_ref, "
            "time_text(started_at, started_latest, time_precision) AS started, time_basis, attack_types, title "
            "FROM v_incidents WHERE cluster_id = $c ORDER BY started_at, incident_id",
            "decisions": "SELECT l.incident_a, l.incident_b, l.decision, l.rule, l.evidence, l.note, l.decided_at "
            "FROM incident_links l JOIN v_incidents a ON a.incident_id = l.incident_a "
            "WHERE a.cluster_id = $c ORDER BY l.seq",
            "disagreements": "SELECT aspect, says FROM v_cluster_disagreements WHERE cluster_id = $c ORDER BY aspect",
        }
    with _reader(db) as con:
        found = con.execute(
            f"SELECT cluster_id FROM {view} WHERE $id IN (cluster_id, {id_column}) LIMIT 1", {"id": cluster}
        ).fetchall()
        if not found:
            raise UsageError(f"no cluster or record {cluster!r}: see {hint}")
        params = {"c": found[0][0]}
        for title, sql in sections.items():
            typer.echo(f"{title} of {params['c']}:")
            _emit(con, sql, params, Output.table, None, raw=False)
            typer.echo("")


def _decide(db: Path | None, first: str, second: str | None, decision: str, note: str | None) -> None:
    with open_store(db, write=True) as con:
        n = clusters.decide(con, first, second, decision, note)
    _say(f"{decision} {n} link{'s' if n != 1 else ''}; the next nightly keeps this decision")


@clusters_app.command("undo")
def clusters_undo(
    incident: IncidentId,
    other: Annotated[str | None, typer.Argument(help="Only its link to this incident.", show_default=False)] = None,
    note: Note = None,
    db: Db = None,
) -> None:
    """Undo a match: one pair, or every link of one incident (or event). Never redone by the rule."""
    _decide(db, incident, other, "undone", note)


@clusters_app.command("merge")
def clusters_merge(incident: IncidentId, other: IncidentId, note: Note = None, db: Db = None) -> None:
    """Join two incidents (or two events) by hand: the rule missed them."""
    _decide(db, incident, other, "merged", note)


@clusters_app.command("match")
def clusters_match(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Take [identity] settings from this cyberlog.toml.")
    ] = None,
    db: Db = None,
) -> None:
    """Run the matching rule over every stored incident (after changing [identity])."""
    from ingest.run.config import load_config

    settings = load_config(config).identity.settings() if config else clusters.IdentitySettings()
    with open_store(db, write=True) as con:
        m = clusters.match(con, None, settings, everything=True)
    _say(f"identity: {m.matched} new cross-source matches, {m.stale} no longer hold; {m.clusters} clusters")


def main() -> None:
    try:
        app()
    except CyberlogError as exc:
        _say(f"error: {exc}", "error")
        sys.exit(int(exc.exit_code))
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
