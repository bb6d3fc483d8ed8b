"""`cyberlog report list`, `show` and `run`: the canned reports."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.common import Db, Wait, say
from ingest.cli.output import CrlfOpt, RawOpt, ReportFormatOpt, ReportOutOpt, ReportOutput, look, pick
from ingest.errors import UsageError
from ingest.reports import results

app = typer.Typer(help="Canned reports: list, show and run them.", no_args_is_help=True)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@app.command("list")
def report_list() -> None:
    """List the canned reports."""
    from ingest.reports import catalog as reports

    for report in reports.all_reports():
        typer.echo(f"{report.name}\t{report.title}")


@app.command("show")
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


@app.command("run")
def report_run(
    name: Annotated[str, typer.Argument(help="Report name (see `cyberlog report list`).")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value; repeat for more.")] = None,
    format: ReportFormatOpt = None,
    out: ReportOutOpt = None,
    raw: RawOpt = False,
    crlf: CrlfOpt = False,
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
    """Run a canned report and print its rows (a table, or --format); every param has a
    default. --format html (or --out page.html) writes one self-contained page that draws the
    report's own result (lags as bars against the null's band, incidents and events on a
    zoomable time axis, ...), details on hover or click, the report's rows beside. --lake DIR
    runs it over a Parquet lake instead of the store; --engine spark runs it there on Spark."""
    from ingest.reports import catalog as reports
    from ingest.reports import unmatched

    report = reports.get(name)
    params = report.bind(reports.parse_pairs(param or []))
    fmt = pick(format, out, ReportOutput)
    if engine == Engine.spark or lake is not None:
        from ingest.lake import remote

        remote.report_on_lake(report, params, engine.value, lake, master, fmt, out, look(raw, crlf))
        return
    if master is not None:
        raise UsageError("--master is for --engine spark")
    with results.reading(db, wait) as con:
        if fmt == "html":
            from ingest.reports import page

            page.emit_page(con, report, params, out)
        else:
            results.emit_report(con, report, params, fmt, out, look(raw, crlf))
        for reason in unmatched.reasons(con, report, params):  # why it is empty, or counts nothing
            say(f"note: {reason}")
