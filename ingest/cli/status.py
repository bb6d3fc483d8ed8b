"""`cyberlog status`: what the store holds at a glance."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from ingest.cli.common import Db, Wait
from ingest.cli.output import CrlfOpt, look
from ingest.reports import export, results
from ingest.reports import status as store_status

app = typer.Typer()


class StatusOutput(StrEnum):
    table = "table"  # the store's lines, then a table of the sources
    csv = "csv"  # the sources table only, for a pipe
    json = "json"  # the store and the sources, whole


@app.command()
def status(
    format: Annotated[
        StatusOutput,
        typer.Option("--format", "-f", help="table: the store, then its sources; csv: the sources; json: both, whole."),
    ] = StatusOutput.table,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the store and its sources as JSON: --format json.")
    ] = False,
    crlf: CrlfOpt = False,
    wait: Wait = None,
    db: Db = None,
) -> None:
    """Print what the store holds at a glance: the store (size, schema, runs, the last run's exit code,
    runs killed or not yet matched or derived) and per source its kind, records, newest data,
    last run and its exit code, files loaded and failed, rejects kept, records with words no
    vocabulary maps (listed in v_unmapped_terms), and when it last fetched; and the actor
    names the MISP galaxies do not know."""
    with results.reading(db, wait) as con:
        found = store_status.read(con, db)
    unresolved = found.actors_unresolved
    if as_json or format == StatusOutput.json:
        store = {**found.store, "actors_unresolved": unresolved}
        sources = [dict(zip(found.columns, row, strict=True)) for row in found.sources]
        typer.echo(json.dumps({"store": store, "sources": sources}, indent=2, default=export.json_default))
        return
    if format == StatusOutput.csv:
        results.write(found.columns, iter(found.sources), "csv", None, look(crlf=crlf))
        return
    for name, value in found.store.items():
        typer.echo(f"{name + ':':<22}{export.text(value)}")
    shown = "; ".join(unresolved[:5]) + ("; ..." if len(unresolved) > 5 else "")
    typer.echo(f"{'actors_unresolved:':<22}{len(unresolved)}{f' ({shown})' if unresolved else ''}")
    typer.echo("")
    hint = "--format csv gives every column of the sources, --format json the store too"
    results.write(found.columns, iter(found.sources), "table", None, export.Look(width=look().width, hint=hint))
