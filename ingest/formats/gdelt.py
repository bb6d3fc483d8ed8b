"""GDELT event exports (2.0: 61 columns; 1.0: 58 or 57), validated and converted inside
DuckDB, because a day of GDELT is a few hundred thousand rows.

The rules a row must meet (a GLOBALEVENTID, a YYYYMMDD SQLDATE, a CAMEO code with a root
01-20, QuadClass 1-4, a Goldstein score within ±10, whole-number counts, a DATEADDED) are
SQL in `sql/gdelt.sql`; a row that fails one is a reject with its line, field and reason.
Columns are taken by position, never by a header: the file has none (a copy that adds one
has it counted and skipped).
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from functools import cache
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa
import pycountry

from ingest import archives, countries
from ingest.formats.base import Format, StageRequest
from ingest.readers import ENCODING_HINT, RawRecord
from ingest.store import sql_dir

# name -> 0-based position in a GDELT 2.0 row (FORMATS.md 1.2)
COLUMNS = {
    "event_id": 0, "sqldate": 1, "actor1_code": 5, "actor1_name": 6, "actor1_country": 7, "actor1_type": 12,
    "actor2_code": 15, "actor2_name": 16, "actor2_country": 17, "actor2_type": 22, "event_code": 26,
    "event_base": 27, "quad_class": 29, "goldstein": 30, "num_mentions": 31, "num_sources": 32,
    "num_articles": 33, "avg_tone": 34, "action_place": 52, "action_country": 53, "lat": 56, "long": 57,
    "dateadded": 59, "source_url": 60,
}  # fmt: skip
HEADER_SKIP = "header line (GDELT files have none; a copy added it)"
FILTERED = "outside the source's filter"


def _v1(position: int) -> int:
    """A 2.0 position in a 1.0 row, which lacks the three *Geo_ADM2Code columns (39, 47, 55)."""
    return position - sum(1 for gone in (39, 47, 55) if position > gone)


def _field(name: str, position: int) -> str:
    if name == "source_url":  # 1.0 historical files (57 columns) have no SOURCEURL
        expression = "CASE len(f) WHEN 61 THEN f[61] WHEN 58 THEN f[58] END"
    elif _v1(position) == position:
        expression = f"f[{position + 1}]"
    else:
        expression = f"CASE WHEN len(f) = 61 THEN f[{position + 1}] ELSE f[{_v1(position) + 1}] END"
    return f"nullif({expression}, '') AS {name}"


@cache
def _statements() -> list[str]:
    fields = ",\n        ".join(_field(name, position) for name, position in COLUMNS.items())
    text = (sql_dir() / "gdelt.sql").read_text("utf-8").replace("/* fields */", fields)
    return [s for s in text.split(";\n") if s.strip() and not all(ln.startswith("--") for ln in s.strip().splitlines())]


@cache
def _lookups() -> tuple[pa.Table, pa.Table]:
    """ISO alpha-3 codes (CAMEO actor countries are alpha-3, or regions that are not) and
    the FIPS 10-4 crosswalk for the geo columns."""
    codes = sorted({c.alpha_3 for c in pycountry.countries} | {"XKX"})
    crosswalk = countries.fips_codes()
    fips = pa.table({"fips": list(crosswalk), "alpha3": list(crosswalk.values())})
    return pa.table({"alpha3": codes}), fips


def stage(request: StageRequest) -> int:
    con, f = request.con, request.filter
    path = request.path  # a zip is unpacked by then (ingest/archives.py); gzip DuckDB reads itself
    countries, fips = _lookups()
    con.register("gd_countries", countries)
    con.register("gd_fips", fips)
    params = {
        "path": str(path), "compression": "gzip" if archives.kind(path) == "gzip" else "none",
        "countries": list(f.actor_countries), "roots": list(f.cameo_roots), "classes": list(f.event_classes),
        "min_sources": f.min_sources, "min_mentions": f.min_mentions,
    }  # fmt: skip
    encoding = codecs.lookup(request.encoding).name
    if _open_head(path).startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # by its BOM, as for every text format
    unreadable: list[tuple[int, str, str]] = []
    clean = {**params, "path": str(request.workdir / "clean.CSV"), "compression": "none"}
    try:
        if encoding != "utf-8":  # told otherwise: transcoded line by line to the UTF-8 DuckDB reads
            unreadable = _clean_copy(path, request.workdir / "clean.CSV", encoding)
            _run(con, clean)
        else:
            try:
                _run(con, params)
            except duckdb.InvalidInputException:
                # DuckDB's reader stops at the first byte it cannot take (invalid UTF-8, a
                # stray carriage return, NUL). Rare, so only then: a copy with those lines
                # blanked, each one a reject, and the rest of the file read as usual.
                unreadable = _clean_copy(path, request.workdir / "clean.CSV", encoding)
                _run(con, clean)
        if unreadable:
            con.executemany(
                "INSERT INTO stage_rejects VALUES (?, NULL, '(record)', ?, json_array(json_object("
                "'field', '(record)', 'reason', ?::VARCHAR))::VARCHAR, ?)",
                [(line, reason, reason, raw) for line, reason, raw in unreadable],
            )
        read, good, kept, headers = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE bad_field IS NULL), count(*) FILTER (WHERE kept), "
            "count(*) FILTER (WHERE header) FROM gd_all"
        ).fetchall()[0]
    finally:
        con.unregister("gd_countries")
        con.unregister("gd_fips")
        con.execute("DROP TABLE IF EXISTS gd_raw")  # gd_all stays: stage_main reads it; the loader drops both
    for reason, n in ((HEADER_SKIP, int(headers)), (FILTERED, int(good) - int(kept))):
        if n:
            request.skipped[reason] = n
    return int(read) + len(unreadable)


def _run(con: duckdb.DuckDBPyConnection, params: Mapping[str, object]) -> None:
    for statement in _statements():
        con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})


_UNREADABLE = re.compile(rb"[\x00\r\x1e]")


def _clean_copy(path: Path, out: Path, encoding: str) -> list[tuple[int, str, str]]:
    """Copy the file as UTF-8, blanking the lines DuckDB's reader cannot take; (line,
    reason, raw) for each. Line numbers stay where they were: a blank line is ignored."""
    found: list[tuple[int, str, str]] = []
    with _open(path) as stream, out.open("wb") as clean:
        lines = stream if encoding == "utf-8" else _reencoded(stream, encoding)
        for number, line in enumerate(lines, 1):
            body = line.rstrip(b"\n").removesuffix(b"\r")
            if number == 1:
                body = body.removeprefix(b"\xef\xbb\xbf")
            reason = None
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = (
                    f"byte 0x{body[exc.start]:02x} at column {exc.start + 1} is not valid {encoding}: {ENCODING_HINT}"
                )
            if reason is None and (bad := _UNREADABLE.search(body)):
                reason = f"control character 0x{bad.group()[0]:02x} at column {bad.start() + 1} inside the line"
            if reason is None:
                clean.write(body + b"\n")
            else:
                clean.write(b"\n")
                found.append((number, reason, body.decode("utf-8", "replace")))
    return found


def _reencoded(stream: IO[bytes], encoding: str) -> Iterator[bytes]:
    """The lines of a file in another encoding, as UTF-8; undecodable bytes are kept as
    they were, so the check above still finds and names them."""
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="\n")
    for line in text:
        yield line.encode("utf-8", "surrogateescape")


def _open_head(path: Path) -> bytes:
    with _open(path) as stream:
        return stream.read(4)


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes: the one member of a zip, gunzipped, or as they are."""
    with ExitStack() as stack:
        found = archives.kind(path)
        if found == "zip":
            archive = stack.enter_context(zipfile.ZipFile(path))
            yield stack.enter_context(archive.open(archive.infolist()[0]))
        elif found == "gzip":
            yield stack.enter_context(gzip.open(path, "rb"))  # type: ignore[arg-type]
        else:
            yield stack.enter_context(path.open("rb"))


def read_lines(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """The file's lines with their numbers (for the raw text of rejects found after staging)."""
    with _open(path) as stream:
        for number, line in enumerate(stream, 1):
            yield RawRecord(number, None, line.decode("utf-8", "replace").rstrip("\r\n"), None)


_ROW = re.compile(rb"^\d+\t\d{8}\t")


def sniff(head: bytes) -> bool:
    """A line of 61, 58 or 57 tab-separated fields that starts with an id and a YYYYMMDD."""
    lines = head.split(b"\n")[:3]
    return any(_ROW.match(line) and line.rstrip(b"\r").count(b"\t") + 1 in (61, 58, 57) for line in lines[:-1])


FORMAT = Format(
    "gdelt", "event", "GDELT event export, 2.0 (61 columns) or 1.0 (58/57), plain, .gz or .zip", "gdelt",
    None, None, read_lines, sniff, stage=stage, filterable=True,
)  # fmt: skip
