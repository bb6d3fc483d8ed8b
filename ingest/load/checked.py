"""A curated CSV checked inside DuckDB, with the format's model for the rows SQL cannot vouch for.

The careful path (ingest/load/files.py) reads every record in Python, validates it with the
format's pydantic model and converts it: about 130 µs a row. Here DuckDB reads the file's
lines and the format's SQL file (`Format.checked`) parses, checks and converts in one pass
every row written in the forms the model takes most often, staging exactly what the careful
path would stage. A row it cannot vouch for (a bad one, or a good one in a rarer form: a time
with an offset like +0200, a country written as a name) is handed, with its line and raw
text, to the same model and converter, which stage it or reject it with their own words.

The rules that are Python's own (a country's alpha-3 code, an actor's canonical name, an
organisation's words for matching) are asked once per distinct value, never per row. A file
whose records are not one line each (a quoted cell over several lines, a bare carriage
return), or one to read in a time zone or another encoding, takes the careful path whole.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingest.canon import galaxy
from ingest.canon.countries import alpha3
from ingest.canon.identity import org_words
from ingest.canon.records import VOCABULARIES
from ingest.formats.base import Format
from ingest.inputs import lines
from ingest.inputs.readers import RawRecord, csv_record
from ingest.load import staging
from ingest.load.columns import Batch
from ingest.load.staging import StageOptions

Validate = Callable[[list[RawRecord], list[int], Batch], None]  # the careful path for some records


def stage(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, options: StageOptions, validate: Validate
) -> int | None:
    """Stage the file through `fmt.checked`; returns how many records it read, or None when
    the file must take the careful path (nothing staged)."""
    assert fmt.checked is not None
    if options.zone is not None or codecs.lookup(options.encoding).name != "utf-8":
        return None
    head = lines.head(path, 65536)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 by its BOM, as the careful reader takes it
        return None
    header = _header(path, fmt, options.encoding)
    if header is None:
        return None
    sql = staging.parts(fmt.checked)
    first = head.split(b"\n", 1)[0]
    params: dict[str, Any] = {
        "path": str(path),
        "new_line": r"\r\n" if first.endswith(b"\r") else r"\n",
    }  # as DuckDB spells them
    try:
        staging.run(con, sql["lines"], params)
    except duckdb.Error:  # a line DuckDB cannot take (bytes that are not UTF-8, a stray CR): Python's reader says which
        _drop(con, sql)
        return None
    [(records, total, careful)] = con.execute(sql["shape"][0]).fetchall()
    if careful:
        _drop(con, sql)
        return None
    assert fmt.model is not None
    fields = {info.alias or name: name for name, info in fmt.model.model_fields.items()}
    params |= {f"i_{name}": None for name in fields.values()}  # a column the file lacks: blank in every row
    params |= {f"i_{fields[column]}": index for index, column in enumerate(header, 1) if column in fields}
    params |= {
        "width": len(header),
        "attack_types": list(VOCABULARIES["attack_type"]),
        "precisions": list(VOCABULARIES["time_precision"]),
        "evidence": list(VOCABULARIES["evidence"]),
        "severities": list(VOCABULARIES["severity"]),
        "sectors": list(VOCABULARIES["sector"]),
        "roles": list(VOCABULARIES["actor_role"]),
    }
    try:
        staging.run(con, sql["rows"] + sql["times"] + sql["checked"], params)
        _lookup(con, "ck_countries", sql["countries"][0], ("raw", "code"), lambda raw: (raw, _alpha3(raw)))
        staging.run(con, sql["children"], params)
        names, orgs = sql["names"]
        _lookup(con, "ck_actor_names", names, ("actor", "canonical"), lambda name: (name, galaxy.actor(name)))
        _lookup(
            con,
            "ck_words",
            orgs,
            ("organisation", "country", "name_words"),
            lambda org, country: (org, country, list(org_words(org, country))),
            pa.list_(pa.string()),
        )
        staging.run(con, sql["stage"], params)
        careful_rows = con.execute("SELECT line, raw FROM ck_python ORDER BY line").fetchall()
    finally:
        for name in ("ck_countries", "ck_actor_names", "ck_words"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        _drop(con, sql)
    if careful_rows:
        _careful(path, careful_rows, total, header, options.encoding, validate, con, fmt)
    if options.progress:
        options.progress(path.stat().st_size)
    return int(records)


def _drop(con: duckdb.DuckDBPyConnection, sql: dict[str, list[str]]) -> None:
    staging.run(con, sql["done"], {})


def _alpha3(raw: str) -> str | None:
    try:
        return alpha3(raw)
    except ValueError:  # pydantic's error for a value that is not a country: Python explains the row
        return None


def _lookup(
    con: duckdb.DuckDBPyConnection,
    name: str,
    query: str,
    columns: tuple[str, ...],
    rule: Callable[..., tuple[Any, ...]],
    last: pa.DataType | None = None,
) -> None:
    """A table `name` of Python's answer for each distinct value the query finds."""
    found = [rule(*row) for row in con.execute(query).fetchall()]
    types = [pa.string()] * (len(columns) - 1) + [last or pa.string()]
    schema = pa.schema(list(zip(columns, types, strict=True)))
    table = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in found], schema)
    con.register("_lookup", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _lookup")
    con.unregister("_lookup")


def _header(path: Path, fmt: Format, encoding: str) -> list[str] | None:
    """The header as the format's reader checks it (its errors are the file's), or None when
    it is not one line."""
    records = fmt.read(path, encoding, None)
    next(records, None)  # the reader checks the header before its first record
    records.close()  # type: ignore[attr-defined]
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        line = stream.readline()
    if line.count('"') % 2:
        return None
    row = next(csv.reader([line.rstrip("\r\n")], strict=True), [])
    return [name.strip() for name in row]


def _careful(
    path: Path,
    rows: list[tuple[int, str]],
    total: int,
    header: list[str],
    encoding: str,
    validate: Validate,
    con: duckdb.DuckDBPyConnection,
    fmt: Format,
) -> None:
    """The rows SQL did not vouch for, through the model, as the careful path reads them."""
    ending = "\r\n" if lines.head(path, 65536).split(b"\n", 1)[0].endswith(b"\r") else "\n"
    last = _ends_without_newline(path)
    batch = Batch()
    records = [
        csv_record(line, raw + ("" if last and line == total else ending), header, encoding) for line, raw in rows
    ]
    for start in range(0, len(records), fmt.batch):
        part = records[start : start + fmt.batch]
        validate(part, [r.line or 0 for r in part], batch)
    for name, table in batch.tables(fmt.kind, fmt.mixed).items():
        staging.insert(con, name, table)


def _ends_without_newline(path: Path) -> bool:
    size = path.stat().st_size
    with path.open("rb") as stream:
        stream.seek(max(0, size - 1))
        return stream.read(1) != b"\n"
