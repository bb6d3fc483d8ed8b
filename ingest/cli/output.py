"""How a command writes rows: the --format and --out options and the choices each command
offers, and the look of what it writes (CSV's line ends and cells, a table's width)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ingest.reports import export


class Output(StrEnum):
    """The writers of `export` rows can go to (all but the page): a test holds the lists equal."""

    table = "table"
    csv = "csv"
    json = "json"
    ndjson = "ndjson"
    markdown = "markdown"
    parquet = "parquet"  # a file only


class ReportOutput(StrEnum):
    """What `report run` writes: the rows as any writer, or a page drawing them."""

    table = "table"
    csv = "csv"
    json = "json"
    ndjson = "ndjson"
    markdown = "markdown"
    parquet = "parquet"
    html = "html"  # a page with the report's picture and its table


_OUT_HELP = (
    "Write to this file instead of stdout (it appears once complete); its suffix picks the format "
    "unless --format says: {suffixes}. A table (--format table) is written whole."
)
FormatOpt = Annotated[
    Output | None, typer.Option("--format", "-f", help="How to write the rows [default: table, or by --out's suffix].")
]
ReportFormatOpt = Annotated[
    ReportOutput | None,
    typer.Option(
        "--format", "-f", help="How to write the rows, or html: a page [default: table, or by --out's suffix]."
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help=_OUT_HELP.format(suffixes=export.suffixes(list(Output))))
]
ReportOutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help=_OUT_HELP.format(suffixes=export.suffixes(list(ReportOutput))))
]
RawOpt = Annotated[bool, typer.Option("--raw", help="CSV: write cells untouched (no formula neutralising).")]
CrlfOpt = Annotated[
    bool, typer.Option("--crlf", help="CSV: end lines with CR LF (RFC 4180) instead of LF, the default.")
]


def pick(fmt: StrEnum | None, out: Path | None, offered: type[StrEnum] = Output) -> str:
    """The format asked for, or the one --out's suffix names among those the command offers."""
    return export.pick(fmt.value if fmt else None, out, [o.value for o in offered])


def look(raw: bool = False, crlf: bool = False) -> export.Look:
    """How rows are written to stdout or a file: CSV's cells and line ends, a table's width."""
    return export.Look(raw=raw, crlf=crlf, width=width())


def width() -> int:
    """The terminal's width, for tables on stdout."""
    return os.get_terminal_size().columns if sys.stdout.isatty() else 160
