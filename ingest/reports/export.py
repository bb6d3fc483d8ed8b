"""Writing query results: CSV that spreadsheets cannot turn into formulas, JSON, tables.

CSV follows RFC 4180 (CRLF, quotes doubled, UTF-8, header row, the query's column
order). A text cell starting with = + - @ tab or CR is prefixed with ' so Excel and
LibreOffice show it as text instead of running it; numbers, including negative ones,
stay numbers. `raw=True` writes cells untouched.

The formats are a registry (`_WRITERS`), the only dispatch over them: a format is a
name, a function that writes rows, and the `--out` suffix that picks it.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

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


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    safe = (lambda cell: cell) if raw else neutralise
    writer.writerow([safe(name) for name in columns])
    for row in rows:
        writer.writerow([text(v) if _is_number(v) else safe(text(v)) for v in row])


def write_csv_text(
    out: TextIO, columns: Sequence[str], chunks: Iterable[list[tuple[Any, ...]]], *, raw: bool = False
) -> None:
    """CSV of rows that `csv_text_sql` already turned into text (None for NULL)."""
    writer = csv.writer(out, lineterminator="\r\n")
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


def write_markdown(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    def cell(value: str) -> str:
        return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    out.write("| " + " | ".join(cell(c) for c in columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(cell(text(v)) for v in row) + " |\n")


def write_table(
    out: TextIO,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    width: int,
    max_rows: int = 500,
    max_cell: int = 40,
) -> None:
    """A plain-text table for a terminal: as many leading columns as fit, cells cut short.

    Tables are for reading at a glance; CSV and JSON carry every column in full.
    """
    shown: list[list[str]] = []
    more = 0
    for row in rows:
        if len(shown) < max_rows:
            shown.append([_cut(text(v), max_cell) for v in row])
        else:
            more += 1
    widths = [max([len(name), *(len(r[i]) for r in shown)]) for i, name in enumerate(columns)]
    keep, used = 0, 0
    while (keep < len(columns) and used + widths[keep] + 2 <= width) or (keep == 0 and columns):
        used += widths[keep] + 2
        keep += 1
    line = "  ".join(name.ljust(widths[i]) for i, name in enumerate(columns[:keep]))
    out.write(line.rstrip() + "\n" + "  ".join("-" * widths[i] for i in range(keep)) + "\n")
    for r in shown:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:keep])).rstrip() + "\n")
    notes = [f"{len(shown) + more} rows"]
    if more:
        notes.append(f"first {len(shown)} shown")
    if keep < len(columns):
        notes.append(f"{len(columns) - keep} more columns: {', '.join(columns[keep:])}")
    out.write(f"({'; '.join(notes)}; --format csv or json gives everything)\n" if len(notes) > 1 else f"({notes[0]})\n")


def _cut(cell: str, limit: int) -> str:
    cell = cell.replace("\r", " ").replace("\n", " ")
    return cell if len(cell) <= limit else cell[: limit - 1] + "…"


# the writers by format name ------------------------------------------------------------

Rows = Iterable[Sequence[Any]]


@dataclass(frozen=True)
class Writer:
    """One output format: how it writes rows (raw: CSV cells untouched; width: a table's)."""

    write: Callable[[TextIO, Sequence[str], Rows, bool, int], None]
    suffix: str | None = None  # `--out` with this suffix picks the format
    newline: str | None = None  # "" for CSV, which writes its own CRLF


def _table(out: TextIO, columns: Sequence[str], rows: Rows, raw: bool, width: int) -> None:
    if columns:  # a statement that returns nothing (SET, CREATE) prints nothing
        write_table(out, columns, rows, width=width)


def _csv(out: TextIO, columns: Sequence[str], rows: Rows, raw: bool, width: int) -> None:
    write_csv(out, columns, rows, raw=raw)


def _json(out: TextIO, columns: Sequence[str], rows: Rows, raw: bool, width: int) -> None:
    write_json(out, columns, rows)


def _markdown(out: TextIO, columns: Sequence[str], rows: Rows, raw: bool, width: int) -> None:
    write_markdown(out, columns, rows)


_WRITERS: dict[str, Writer] = {
    "table": Writer(_table),
    "csv": Writer(_csv, ".csv", newline=""),
    "json": Writer(_json, ".json"),
    "markdown": Writer(_markdown, ".md"),
    # a page needs a report and its time line (`page.emit_page`); bare rows are drawn as a table
    "html": Writer(_table, ".html"),
}


def formats() -> list[str]:
    return list(_WRITERS)


def writer(name: str) -> Writer:
    return _WRITERS[name]


def pick(name: str | None, out: Path | None) -> str:
    """The format asked for, else the one `out`'s suffix names, else a table."""
    if name is not None:
        return name
    suffix = out.suffix.lower() if out else None
    return next((found for found, w in _WRITERS.items() if suffix and w.suffix == suffix), "table")


def write_rows(
    out: TextIO, name: str, columns: Sequence[str], rows: Rows, *, raw: bool = False, width: int = 160
) -> None:
    _WRITERS[name].write(out, columns, rows, raw, width)
