"""Writing query results: CSV that spreadsheets cannot turn into formulas, JSON, tables.

CSV follows RFC 4180 (quotes doubled, UTF-8, header row, the query's column order) but
ends lines with LF, as DuckDB's COPY and sqlite-utils do, so `$(cyberlog query ... | tail -1)`
carries no CR into the next shell command; `crlf=True` gives RFC 4180's CRLF. A text cell
starting with = + - @ tab or CR is prefixed with ' so Excel and LibreOffice show it as text
instead of running it; numbers, including negative ones, stay numbers. `raw=True` writes
cells untouched.

The formats are a registry (`_WRITERS`), the only dispatch over them: a format is a
name, a function that writes rows, and the `--out` suffixes that pick it; a suffix no
writer has is refused rather than guessed.

Big results take a faster road to the same bytes: `csv_text_sql` turns each column into
its text inside DuckDB (the rules of `text` and `neutralise`, written in SQL), so Python
only writes strings. Types whose text only Python knows (structs, intervals) keep the
Python road; a test holds the two roads byte-equal.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ingest.errors import UsageError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_NUMBER = re.compile(_NUMBER_TEXT)


def neutralise(cell: str) -> str:
    """A text cell made safe to open in a spreadsheet."""
    if cell.startswith(FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def text(value: Any) -> str:
    """One value as stable text: UTC times with Z, lists joined by ';', NULL as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, (list, tuple)):
        return ";".join(text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, default=json_default, ensure_ascii=False, sort_keys=True)
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value)


def json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return text(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def line_end(crlf: bool) -> str:
    return "\r\n" if crlf else "\n"


def write_csv(
    out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False, crlf: bool = False
) -> None:
    writer = csv.writer(out, lineterminator=line_end(crlf))
    safe = (lambda cell: cell) if raw else neutralise
    writer.writerow([safe(name) for name in columns])
    for row in rows:
        writer.writerow([text(v) if _is_number(v) else safe(text(v)) for v in row])


def write_csv_text(
    out: TextIO,
    columns: Sequence[str],
    chunks: Iterable[list[tuple[Any, ...]]],
    *,
    raw: bool = False,
    crlf: bool = False,
) -> None:
    """CSV of rows that `csv_text_sql` already turned into text (None for NULL)."""
    writer = csv.writer(out, lineterminator=line_end(crlf))
    writer.writerow([name if raw else neutralise(name) for name in columns])
    for chunk in chunks:
        writer.writerows(chunk)


_INTEGERS = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_ISO = "%Y-%m-%dT%H:%M:%S"


def _text_sql(expr: str, type_name: str, depth: int = 0) -> tuple[str, bool] | None:
    """SQL for `text(expr)` of a DuckDB type, and whether it is a number; None: Python only."""
    name = type_name.upper()
    if name.endswith("[]"):
        var = f"x{depth}"
        inner = _text_sql(var, name[:-2], depth + 1)
        if inner is None:
            return None
        return f"array_to_string(list_transform({expr}, lambda {var}: coalesce({inner[0]}, '')), ';')", False
    if name in _INTEGERS or name.startswith("DECIMAL"):
        return f"CAST({expr} AS VARCHAR)", True
    if name in ("DOUBLE", "FLOAT"):
        return f"nullif(CAST(CAST({expr} AS DOUBLE) AS VARCHAR), 'nan')", True
    if name in ("VARCHAR", "BOOLEAN", "DATE"):
        return f"CAST({expr} AS VARCHAR)", False
    if name in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE"):
        zoned = name.endswith("ZONE")
        utc = f"timezone('UTC', {expr})" if zoned else expr
        fraction = f"CASE WHEN epoch_us({expr}) % 1000000 <> 0 THEN strftime({utc}, '.%f') ELSE '' END"
        return f"strftime({utc}, '{_ISO}') || {fraction}" + (" || 'Z'" if zoned else ""), False
    return None


def csv_text_sql(columns: Sequence[str], types: Sequence[str], *, raw: bool = False) -> list[str] | None:
    """Two projections that give each column's CSV cell text, or None if a type needs Python.

    The first turns values into text as `text` does; the second, over its output,
    neutralises text cells as `neutralise` does (numbers stay as they are) unless `raw`.
    """
    if len(set(columns)) != len(columns):
        return None
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)
    texts: list[str] = []
    safe: list[str] = []
    for index, (column, type_name) in enumerate(zip(columns, types, strict=True)):
        found = _text_sql('"' + column.replace('"', '""') + '"', type_name)
        if found is None:
            return None
        sql, number = found
        cell = f"c{index}"
        texts.append(f"{sql} AS {cell}")
        guarded = (
            f"CASE WHEN left({cell}, 1) IN ({starts}) AND NOT regexp_full_match({cell}, '{_NUMBER_TEXT}') "
            f"THEN chr(39) || {cell} ELSE {cell} END"
        )
        safe.append(f"{cell if number or raw else guarded} AS {cell}")
    return [", ".join(texts), ", ".join(safe)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def write_json(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A JSON array of objects, one per row, streamed."""
    out.write("[")
    for index, row in enumerate(rows):
        record = dict(zip(columns, row, strict=True))
        out.write(("," if index else "") + "\n  " + json.dumps(record, default=json_default, ensure_ascii=False))
    out.write("\n]\n")


def write_ndjson(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """One JSON object a line (JSON Lines), for `jq -c` and log shippers."""
    for row in rows:
        out.write(json.dumps(dict(zip(columns, row, strict=True)), default=json_default, ensure_ascii=False) + "\n")


def write_parquet(out: BinaryIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A Parquet file, its column types inferred by Arrow from the values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    found = list(rows)
    arrays = [pa.array([row[index] for row in found]) for index in range(len(columns))]
    pq.write_table(pa.Table.from_arrays(arrays, names=list(columns)), out)


def write_markdown(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    def cell(value: str) -> str:
        return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    out.write("| " + " | ".join(cell(c) for c in columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(cell(text(v)) for v in row) + " |\n")


def counted(n: int, noun: str, nouns: str | None = None) -> str:
    """ "1 row", "2 rows": a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


MORE = "--format csv or json gives everything"  # every command that prints a table has --format


@dataclass(frozen=True)
class Look:
    """How rows are written: CSV cells untouched (raw) and line ends (crlf); a table's width,
    whether it shows everything whole (full: in a file, or asked for), and the hint that
    says how to see what it cut."""

    raw: bool = False
    crlf: bool = False
    width: int = 160
    full: bool = False
    hint: str = MORE


def write_table(
    out: TextIO,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    width: int,
    max_rows: int = 500,
    max_cell: int = 40,
    full: bool = False,
    hint: str = MORE,
) -> None:
    """A plain-text table for a terminal: the first rows, as many leading columns as fit,
    cells cut short, and a note of what was cut and how to see it (`hint`). `full` shows
    every row, column and cell whole: a table written to a file is never cut.

    Tables are for reading at a glance; CSV and JSON carry every column in full.
    """
    shown: list[list[str]] = []
    more = 0
    for row in rows:
        if full or len(shown) < max_rows:
            shown.append([_one_line(text(v)) for v in row])
        else:
            more += 1
    cut = not full and any(len(cell) > max_cell for r in shown for cell in r)
    if not full:
        shown = [[_cut(cell, max_cell) for cell in r] for r in shown]
    widths = [max([len(name), *(len(r[i]) for r in shown)]) for i, name in enumerate(columns)]
    keep, used = 0, 0
    while (keep < len(columns) and (full or used + widths[keep] + 2 <= width)) or (keep == 0 and columns):
        used += widths[keep] + 2
        keep += 1
    line = "  ".join(name.ljust(widths[i]) for i, name in enumerate(columns[:keep]))
    out.write(line.rstrip() + "\n" + "  ".join("-" * widths[i] for i in range(keep)) + "\n")
    for r in shown:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:keep])).rstrip() + "\n")
    notes = [counted(len(shown) + more, "row")]
    if more:
        notes.append(f"first {len(shown)} shown")
    if keep < len(columns):
        notes.append(f"{counted(len(columns) - keep, 'more column')}: {', '.join(columns[keep:])}")
    if cut:
        notes.append(f"cells cut at {max_cell} characters")
    out.write(f"({'; '.join(notes)}; {hint})\n" if len(notes) > 1 else f"({notes[0]})\n")


def _one_line(cell: str) -> str:
    return cell.replace("\r", " ").replace("\n", " ")


def _cut(cell: str, limit: int) -> str:
    return cell if len(cell) <= limit else cell[: limit - 1] + "…"


# the writers by format name ------------------------------------------------------------

Rows = Iterable[Sequence[Any]]


@dataclass(frozen=True)
class Writer:
    """One output format: how it writes rows, the `--out` suffixes that pick it, and whether
    it writes bytes (a file only: written through the text stream's buffer)."""

    write: Callable[[TextIO, Sequence[str], Rows, Look], None]
    suffixes: tuple[str, ...] = ()
    binary: bool = False
    newline: str | None = None  # "" for CSV, which writes its own line ends


def _table(out: TextIO, columns: Sequence[str], rows: Rows, look: Look) -> None:
    if columns:  # a statement that returns nothing (SET, CREATE) prints nothing
        write_table(out, columns, rows, width=look.width, full=look.full, hint=look.hint)


def _csv(out: TextIO, columns: Sequence[str], rows: Rows, look: Look) -> None:
    write_csv(out, columns, rows, raw=look.raw, crlf=look.crlf)


def _json(out: TextIO, columns: Sequence[str], rows: Rows, look: Look) -> None:
    write_json(out, columns, rows)


def _ndjson(out: TextIO, columns: Sequence[str], rows: Rows, look: Look) -> None:
    write_ndjson(out, columns, rows)


def _parquet(out: TextIO, columns: Sequence[str], rows: Rows, look: Look) -> None:
    write_parquet(out.buffer, columns, rows)


def _markdown(out: TextIO, columns: Sequence[str], rows: Rows, look: Look) -> None:
    write_markdown(out, columns, rows)


_WRITERS: dict[str, Writer] = {
    "table": Writer(_table),  # no suffix: a table in a file is asked for by name, and written whole
    "csv": Writer(_csv, (".csv",), newline=""),
    "json": Writer(_json, (".json",)),
    "ndjson": Writer(_ndjson, (".ndjson", ".jsonl")),
    "markdown": Writer(_markdown, (".md",)),
    "parquet": Writer(_parquet, (".parquet",), binary=True),
    # a page needs a report and its time line (`page.emit_page`): `report run` only
    "html": Writer(_table, (".html", ".htm")),
}


def formats() -> list[str]:
    return list(_WRITERS)


def writer(name: str) -> Writer:
    return _WRITERS[name]


def pick(name: str | None, out: Path | None, offered: Collection[str] | None = None) -> str:
    """The format asked for, else the one `out`'s suffix names among those `offered` (all by
    default), else a table on stdout. A suffix no writer has is refused (exit 2), never
    written as a table cut for a terminal."""
    if name is not None:
        return name
    if out is None:
        return "table"
    offered = offered if offered is not None else formats()
    suffix = out.suffix.lower()
    found = next((f for f in offered if suffix in _WRITERS[f].suffixes), None)
    if found is None:
        raise UsageError(
            f"cannot tell the format of --out {out.name!r} by its suffix: use one of {suffixes(offered)}, "
            "or give --format (--format table writes the whole table)"
        )
    return found


def suffixes(offered: Collection[str]) -> str:
    """The `--out` suffixes that pick one of the `offered` formats, as help and errors list them."""
    return ", ".join(s for f in offered for s in _WRITERS[f].suffixes)


def write_rows(out: TextIO, name: str, columns: Sequence[str], rows: Rows, look: Look = Look()) -> None:
    _WRITERS[name].write(out, columns, rows, look)
