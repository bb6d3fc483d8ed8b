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
from typing import TYPE_CHECKING

import pycountry

from ingest.canon import countries
from ingest.canon.filters import EventFilter
from ingest.formats.base import Format, SqlStage
from ingest.inputs import lines

if TYPE_CHECKING:
    import pyarrow as pa


def params(f: EventFilter) -> dict[str, object]:
    """The source's filter as sql/gdelt.sql's $parameters (an empty part keeps everything)."""
    return {
        "countries": list(f.actor_countries),
        "roots": list(f.cameo_roots),
        "classes": list(f.event_classes),
        "min_sources": f.min_sources,
        "min_mentions": f.min_mentions,
    }


@cache
def lookups() -> Mapping[str, pa.Table]:
    """ISO alpha-3 codes (CAMEO actor countries are alpha-3, or regions that are not) and
    the FIPS 10-4 crosswalk for the geo columns."""
    import pyarrow as pa  # when a file is loaded: importing a format costs nothing

    codes = sorted({c.alpha_3 for c in pycountry.countries} | {"XKX"})
    crosswalk = countries.fips_codes()
    fips = pa.table({"fips": list(crosswalk), "alpha3": list(crosswalk.values())})
    return {"gd_countries": pa.table({"alpha3": codes}), "gd_fips": fips}


_ROW = re.compile(rb"^\d+\t\d{8}\t")


def sniff(head: bytes) -> bool:
    """A line of 61, 58 or 57 tab-separated fields that starts with an id and a YYYYMMDD."""
    lines = head.split(b"\n")[:3]
    return any(_ROW.match(line) and line.rstrip(b"\r").count(b"\t") + 1 in (61, 58, 57) for line in lines[:-1])


FORMAT = Format(
    "gdelt",
    "event",
    "GDELT event export, 2.0 (61 columns) or 1.0 (58/57), plain, .gz or .zip",
    "gdelt",
    None,
    None,
    lines.read_lines,
    sniff,
    stage=SqlStage("gdelt.sql", params, lookups),
    filterable=True,
)
