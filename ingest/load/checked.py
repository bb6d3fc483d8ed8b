"""A curated CSV checked inside DuckDB, with the format's model for the rows SQL cannot vouch for.

The careful path (ingest/load/files.py) reads every record in Python, validates it with the
format's pydantic model and converts it: about 130 µs a row. Here DuckDB reads the file's
lines and SQL (sql/checked_csv.sql, then the format's `Format.checked` file) splits, checks
and converts in one pass every row written in the forms the model takes most often, staging
exactly what the careful path would stage. A row it cannot vouch for (a bad one, or a good one
in a rarer form: a time with an offset like +0200, a country written as a name) is handed,
with its line and raw text, to the same model and converter, which stage it or reject it
with their own words.

The rules that are Python's own (a country's alpha-3 code, an actor's canonical name, an
organisation's words for matching, a CAMEO code's class) are asked once per distinct value,
never per row: a `/* lookup NAME */` part of the format's SQL file lists the values, and
LOOKUPS answers them into the table ck_NAME. A file whose records are not one line each (a
quoted cell over several lines, a bare carriage return), or one to read in a time zone or
another encoding, takes the careful path whole.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingest.canon import cameo, galaxy
from ingest.canon.countries import alpha3
from ingest.canon.identity import org_words
from ingest.canon.records import VOCABULARIES
from ingest.formats.base import Format
from ingest.inputs import lines
from ingest.inputs.readers import RawRecord, csv_record
from ingest.load import staging
from ingest.load.staging import StageOptions
from ingest.store import interrupted_query

Careful = Callable[[list[RawRecord], Iterable[int]], None]  # records through the model, staged (files.py)
COMMON = "checked_csv.sql"
STR, WORDS = pa.string(), pa.list_(pa.string())


def _country(raw: str) -> dict[str, Any]:
    try:
        code = alpha3(raw)
    except ValueError:  # pydantic's error for a value that is not a country: the model explains the row
        code = None
    return {"raw": raw, "code": code}


def _cameo(code: str) -> dict[str, Any]:
    try:
        checked = cameo.check_code(code)
    except ValueError:  # not a CAMEO code: the model explains the row
        return {"code": code, "checked": None, "event_class": None}
    return {"code": code, "checked": checked, "event_class": cameo.event_class(checked)}


# lookup name -> (the answer for one distinct row of its query, the answer's columns)
LOOKUPS: dict[str, tuple[Callable[..., dict[str, Any]], pa.Schema]] = {
    "countries": (_country, pa.schema([("raw", STR), ("code", STR)])),
    "actor names": (
        lambda name: {"actor": name, "canonical": galaxy.actor(name)},
        pa.schema([("actor", STR), ("canonical", STR)]),
    ),
    "org words": (
        lambda org, country: {"organisation": org, "country": country, "name_words": list(org_words(org, country))},
        pa.schema([("organisation", STR), ("country", STR), ("name_words", WORDS)]),
    ),
    "cameo codes": (_cameo, pa.schema([("code", STR), ("checked", STR), ("event_class", STR)])),
}


def stage(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, options: StageOptions, stage_records: Careful
) -> int | None:
    """Stage the file through `fmt.checked`; returns how many records it read, or None when
    the file must take the careful path (nothing staged)."""
    assert fmt.checked is not None and fmt.model is not None
    if options.zone is not None or codecs.lookup(options.encoding).name != "utf-8":
        return None
    head = lines.head(path, 65536)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 by its BOM, as the careful reader takes it
        return None
    header = _header(path, head, fmt, options.encoding)
    if header is None:
        return None
    common, own = staging.parts(COMMON), staging.parts(fmt.checked)
    crlf = head.split(b"\n", 1)[0].endswith(b"\r")
    params: dict[str, Any] = {"path": str(path), "new_line": r"\r\n" if crlf else r"\n"}  # as DuckDB spells them
    try:
        try:
            staging.run(con, common["lines"], params)
        except duckdb.Error as exc:  # a line DuckDB cannot take (not UTF-8, a stray CR): Python's reader says which
            if interrupted_query(exc):  # Ctrl-C: the run ends, the file is not read again another way
                raise
            return None
        [(records, total, careful)] = con.execute(common["shape"][0]).fetchall()
        if careful:
            return None
        fields = {info.alias or name: name for name, info in fmt.model.model_fields.items()}
        params |= {f"i_{name}": None for name in fields.values()}  # a column the file lacks: blank in every row
        params |= {f"i_{fields[column]}": index for index, column in enumerate(header, 1) if column in fields}
        params |= {"width": len(header)} | {name: list(words) for name, words in VOCABULARIES.items()}
        staging.run(con, common["cells"] + own["rows"] + common["times"], params)
        for part, found in own.items():
            if part in ("rows", "done"):
                continue
            if part.startswith("lookup "):
                _lookup(con, part.removeprefix("lookup "), found[0])
            else:
                staging.run(con, found, params)
        _careful(con, path, fmt, total, crlf, header, options.encoding, stage_records)
    finally:
        staging.run(con, own["done"] + common["done"], {})
    if options.progress:
        options.progress(path.stat().st_size)
    return int(records)


def _lookup(con: duckdb.DuckDBPyConnection, name: str, query: str) -> None:
    """The table ck_<name>: Python's answer for each distinct value the query finds."""
    rule, schema = LOOKUPS[name]
    table = pa.Table.from_pylist([rule(*row) for row in con.execute(query).fetchall()], schema)
    con.register("_lookup", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE ck_{name.replace(' ', '_')} AS SELECT * FROM _lookup")
    con.unregister("_lookup")


def _header(path: Path, head: bytes, fmt: Format, encoding: str) -> list[str] | None:
    """The header as the format's reader checks it (its errors are the file's), from the
    file's first bytes; None when it is not one line among them."""
    records = fmt.read(path, encoding, None)
    next(records, None)  # the reader checks the header before its first record
    records.close()  # type: ignore[attr-defined]
    first, newline, _ = head.partition(b"\n")
    line = first.decode("utf-8-sig", errors="surrogateescape").removesuffix("\r")
    if not newline or line.count('"') % 2:
        return None
    row = next(csv.reader([line], strict=True), [])
    return [name.strip() for name in row]


def _careful(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: Format,
    total: int,
    crlf: bool,
    header: list[str],
    encoding: str,
    stage_records: Careful,
) -> None:
    """The rows SQL did not vouch for (ck_python), through the model a batch at a time, as
    the careful path reads them: each with its line ending, as Python's reader keeps it (the
    last line may have none). A file of bad rows needs a batch's memory, not the file's."""
    # numbered in line order: a batch is a range of numbers, which DuckDB finds without scanning the rest
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ck_careful AS "
        "SELECT row_number() OVER (ORDER BY line) AS n, line, raw FROM ck_python ORDER BY n"
    )
    try:
        ending, last = ("\r\n" if crlf else "\n"), _ends_without_newline(path)
        [(count,)] = con.execute("SELECT count(*) FROM ck_careful").fetchall()
        for offset in range(0, int(count), fmt.batch):
            rows = con.execute(
                "SELECT line, raw FROM ck_careful WHERE n > $first AND n <= $last ORDER BY n",
                {"first": offset, "last": offset + fmt.batch},
            ).fetchall()
            records = [
                csv_record(line, raw + ("" if last and line == total else ending), header, encoding)
                for line, raw in rows
            ]
            stage_records(records, [line for line, _ in rows])
    finally:
        con.execute("DROP TABLE IF EXISTS ck_careful")


def _ends_without_newline(path: Path) -> bool:
    size = path.stat().st_size
    with path.open("rb") as stream:
        stream.seek(max(0, size - 1))
        return stream.read(1) != b"\n"
