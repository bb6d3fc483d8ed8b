"""`cyberlog query` and `export`: ad-hoc SQL on the store, and tables out of it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.common import Db, LakeJson, LakeWriter, Wait, export_lake, say
from ingest.cli.output import CrlfOpt, FormatOpt, OutOpt, RawOpt, look, pick
from ingest.errors import UsageError
from ingest.reports import results, tables
from ingest.store import open_store

app = typer.Typer()


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the store (read-only).")],
    format: FormatOpt = None,
    out: OutOpt = None,
    raw: RawOpt = False,
    crlf: CrlfOpt = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Run ad-hoc SQL on the store, read-only, and print its rows (a table, or --format). See
    the views v_incidents and v_timeline."""
    fmt = pick(format, out)
    with results.reading(db, wait) as con:
        results.emit(con, sql, {}, fmt, out, look(raw, crlf))


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
    crlf: CrlfOpt = False,
    as_json: LakeJson = False,
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
        if folder is not None or table or partition or crlf or format != ExportFormat.parquet:
            raise UsageError(
                "--lake writes every table: give no folder, --table, --format, --partition or --crlf with it"
            )
        export_lake(lake, as_json, wait, db, writer)
        return
    if writer is not None:
        raise UsageError("--writer names a share of a lake: use it with --lake DIR")
    if folder is None:
        raise UsageError("give a folder to export into, or --lake DIR")
    names = tables.chosen(table)
    if partition and format != ExportFormat.parquet:
        raise UsageError("--partition writes Parquet folders: use it with --format parquet")
    if crlf and format != ExportFormat.csv:
        raise UsageError("--crlf sets CSV line ends: use it with --format csv")
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(db, write=False, wait=wait) as con:
        for name in names:
            target = tables.export_table(con, name, folder, format.value, partition, crlf=crlf)
            say(f"exported {name} to {target}")
