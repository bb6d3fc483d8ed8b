"""GDELT event exports (2.0: 61 columns; 1.0: 58 or 57), validated and converted inside
DuckDB, because a day of GDELT is a few hundred thousand rows.

The rules a row must meet (a GLOBALEVENTID, a YYYYMMDD SQLDATE, a CAMEO code with a root
01-20, QuadClass 1-4, a Goldstein score within ±10, whole-number counts, a DATEADDED) are
SQL in `sql/gdelt.sql`; a row that fails one is a reject with its line, field and reason.
Columns are taken by position, never by a header: the file has none (a copy that adds one
has it counted and skipped).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

import duckdb
import pyarrow as pa
import pycountry

from ingest.canon import countries
from ingest.formats.base import Format, StageRequest
from ingest.inputs import archives, lines
from ingest.store import sql_dir, statements

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
    return statements(text)


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
    path = request.path  # a zip is unpacked by then (ingest/inputs/archives.py); gzip DuckDB reads itself
    countries, fips = _lookups()
    con.register("gd_countries", countries)
    con.register("gd_fips", fips)
    params = {
        "path": str(path), "compression": "gzip" if archives.kind(path) == "gzip" else "none",
        "countries": list(f.actor_countries), "roots": list(f.cameo_roots), "classes": list(f.event_classes),
        "min_sources": f.min_sources, "min_mentions": f.min_mentions,
    }  # fmt: skip
    unreadable = 0
    try:
        unreadable = lines.stage_lines(
            con, path, request.encoding, request.workdir, lambda p: _run(con, {**params, **p})
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
    return int(read) + unreadable


def _run(con: duckdb.DuckDBPyConnection, params: Mapping[str, object]) -> None:
    for statement in _statements():
        con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})


_ROW = re.compile(rb"^\d+\t\d{8}\t")


def sniff(head: bytes) -> bool:
    """A line of 61, 58 or 57 tab-separated fields that starts with an id and a YYYYMMDD."""
    lines = head.split(b"\n")[:3]
    return any(_ROW.match(line) and line.rstrip(b"\r").count(b"\t") + 1 in (61, 58, 57) for line in lines[:-1])


FORMAT = Format(
    "gdelt", "event", "GDELT event export, 2.0 (61 columns) or 1.0 (58/57), plain, .gz or .zip", "gdelt",
    None, None, lines.read_lines, sniff, stage=stage, filterable=True,
)  # fmt: skip
