"""UCDP GED (Georeferenced Event Dataset), final and candidate releases: one event of
organised lethal violence per row, 49 quoted columns (older releases fewer, read by name).

A release is a vintage. `id` is the identity (`ucdp:<id>`) and the release the file's name
gives (`GEDEvent_v24_1.csv` final 24.1, `GEDEvent_v24_0_3.csv` candidate 24.0.3) its version,
so a later release's copy replaces an earlier one and never the reverse. Some candidate
files have no header: their lines are the current release's 49 columns. Countries are
Gleditsch-Ward numbers, read through ingest/data/gw_countries.csv and never guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from ingest.canon.records import DiplomaticEvent, EventDetail
from ingest.canon.times import Precision, TimeValue, parse_time
from ingest.formats.base import Format, HeaderSniff, Latitude, Longitude, OptText, Text
from ingest.inputs import readers
from ingest.inputs.readers import RawRecord, csv_header, read_csv

# fmt: off
COLUMNS = (  # the current release's header, in order: a headerless candidate file's lines
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id", "conflict_new_id",
    "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
    "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
    "source_date", "source_headline", "source_original", "where_prec", "where_coordinates", "where_description",
    "adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
    "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians",
    "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
)
# fmt: on
VIOLENCE = {"1": "state-based conflict", "2": "non-state conflict", "3": "one-sided violence"}
WHERE = {
    "1": "exact place",
    "2": "within a limited area around a place",
    "3": "ADM2 (its centroid)",
    "4": "ADM1 (its centroid)",
    "5": "a larger or vague area",
    "6": "the country (its centroid)",
    "7": "at sea or in international airspace",
}
WHEN = {"1": "the day", "2": "a span of 2-6 days", "3": "a known week", "4": "a known month", "5": "a known year"}
RELEASE = "release"  # the key the reader adds to every record: the version its file name gives
_NAMES = (  # file name -> release, as UCDP names them: monthly candidate, cumulative candidate, final
    (re.compile(r"GEDEvent_v(\d\d)_0_([1-9]|1[0-2])\.csv", re.I), "{0}.0.{1}"),
    (re.compile(r"GEDEvent_v(\d\d)_01_\1_(0[1-9]|1[0-2])\.csv", re.I), "{0}.01.{0}.{1}"),
    (re.compile(r"GEDEvent_v(\d\d)_([1-9])\.csv", re.I), "{0}.{1}"),
)
_UNITS: dict[str, tuple[Precision, str]] = {"4": ("month", "%Y-%m"), "5": ("year", "%Y")}  # date_prec
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?: 00:00:00(?:\.0{1,6})?)?", re.ASCII)


def release_of(name: str) -> str | None:
    """`24.1`, `24.0.3` or `24.01.24.03` from UCDP's file name; None for any other name."""
    for pattern, label in _NAMES:
        if match := pattern.fullmatch(name):
            return label.format(*match.groups())
    return None


def release_stamp(release: str) -> datetime:
    """The release's place in UCDP's order as `source_modified`: YY·10⁶ + final·10⁴ +
    candidate month·100 + cumulative seconds after 1970-01-01 UTC. Not a date: UCDP
    states none, and this orders 24.0.3 < 24.01.24.03 < 24.0.4 < 24.1 < 25.0.1."""
    parts = [int(part) for part in release.split(".")]
    if len(parts) == 2:
        key = parts[0] * 10**6 + parts[1] * 10**4
    else:
        key = parts[0] * 10**6 + parts[-1] * 100 + (len(parts) == 4)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=key)


@cache
def gw_countries() -> dict[str, str | None]:
    """GW number -> alpha-3 (None: a state gone without a continuator)."""
    text = resources.files("ingest").joinpath("data/gw_countries.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["gwno"]: row["alpha3"] or None for row in rows}


def _code(meanings: dict[str, str], column: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in meanings:
            known = ", ".join(f"{code} {words}" for code, words in meanings.items())
            raise PydanticCustomError(
                "ucdp_code",
                "'{value}' is not a UCDP {column}: {known}",
                {"value": value, "column": column, "known": known},
            )
        return value

    return AfterValidator(check)


def _day(value: Any) -> date:
    match = _DAY.fullmatch(str(value).strip())
    with suppress(ValueError):
        if match:
            return date.fromisoformat(match[1])
    raise PydanticCustomError(
        "date", "'{value}' is not a date: use YYYY-MM-DD (or YYYY-MM-DD 00:00:00.000)", {"value": value}
    )


def _not_before_start(value: date, info: ValidationInfo) -> date:
    start = info.data.get("date_start")
    if start is not None and value < start:
        raise PydanticCustomError(
            "date_order", "{value} is before date_start {start}", {"value": value, "start": start}
        )
    return value


def _gw_numbers(value: Any) -> tuple[str, ...]:
    """`365`, or `2, 200` for a side of several states; blank for a non-state side."""
    numbers = tuple(part.strip() for part in str(value).split(",")) if str(value or "").strip() else ()
    if not all(number.isdigit() and number.isascii() and len(number) <= 4 for number in numbers):
        raise PydanticCustomError(
            "gw", "'{value}' is not a Gleditsch-Ward state number, or a comma-separated list of them", {"value": value}
        )
    return tuple(str(int(number)) for number in numbers)


def _gw_number(value: Any) -> str:
    numbers = _gw_numbers(value)
    if len(numbers) != 1:
        raise PydanticCustomError("gw", "'{value}' is not one Gleditsch-Ward state number", {"value": value})
    return numbers[0]


def _at_least(bound: str, words: str) -> Callable[[int, ValidationInfo], int]:
    def check(value: int, info: ValidationInfo) -> int:
        other = info.data.get(bound)
        if other is not None and value < other:
            raise PydanticCustomError(
                "deaths_order",
                "{value} is below {bound} ({other}): {words}",
                {"value": value, "bound": bound, "other": other, "words": words},
            )
        return value

    return check


INT32 = 2**31 - 1  # the store's integer columns
Deaths = Annotated[int, Field(ge=0, le=INT32)]
Day = Annotated[date, PlainValidator(_day)]
GwNumbers = Annotated[tuple[str, ...], BeforeValidator(_gw_numbers)]
_ORDER = "UCDP's estimates run low <= best <= high"


class GedEvent(BaseModel):
    """The columns cyberlog uses, as UCDP names them (validated low before best before high)."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    id: Annotated[int, Field(ge=0)]
    relid: OptText = None
    code_status: OptText = None
    type_of_violence: Annotated[Text, _code(VIOLENCE, "type_of_violence")]
    conflict_name: OptText = None
    dyad_name: Text
    side_a: Text
    side_b: Text
    number_of_sources: Annotated[int, Field(ge=-1, le=INT32)] | None = None
    where_prec: Annotated[Text, _code(WHERE, "where_prec")]
    where_description: OptText = None
    adm_1: OptText = None
    adm_2: OptText = None
    latitude: Latitude = None
    longitude: Longitude = None
    country: OptText = None
    country_id: Annotated[str, PlainValidator(_gw_number)]
    date_prec: Annotated[Text, _code(WHEN, "date_prec")]
    date_start: Day
    date_end: Annotated[Day, AfterValidator(_not_before_start)]
    low: Deaths
    best: Annotated[Deaths, AfterValidator(_at_least("low", _ORDER))]
    high: Annotated[Deaths, AfterValidator(_at_least("best", _ORDER))]
    gwnoa: GwNumbers = ()
    gwnob: GwNumbers = ()
    release: str | None = None  # not a column: the version the file's name gives (the reader adds it)


def occurred(row: GedEvent) -> TimeValue:
    """[date_start, date_end + 1 day) by the day (date_prec 1-3: cyberlog has no week), or
    widened to whole months (4) or years (5)."""
    unit, shown = _UNITS.get(row.date_prec, ("day", "%Y-%m-%d"))
    start = parse_time(row.date_start.strftime(shown), None, unit)
    end = parse_time(row.date_end.strftime(shown), None, unit)
    return TimeValue(start.at, end.latest, unit)


def _alpha3(numbers: tuple[str, ...]) -> list[str]:
    return [code for number in numbers if (code := gw_countries().get(number))]


def describe(row: GedEvent) -> str:
    """What the columns say that the record has no place for, with the raw codes."""
    sides = "; ".join(f"{name} {','.join(gw)}" for name, gw in (("gwnoa", row.gwnoa), ("gwnob", row.gwnob)) if gw)
    release = f"UCDP release {row.release}" if row.release else "UCDP release unknown (file name not UCDP's)"
    parts = [
        f"{VIOLENCE[row.type_of_violence]} (type_of_violence {row.type_of_violence})",
        f"deaths best {row.best} (low {row.low}, high {row.high})",
        f"date_prec {row.date_prec}: {WHEN[row.date_prec]}",
        f"where_prec {row.where_prec}: {WHERE[row.where_prec]}",
        f"GW country_id {row.country_id}" + (f"; {sides}" if sides else ""),
        f"conflict {row.conflict_name}" if row.conflict_name else "",
        f"code_status {row.code_status}" if row.code_status else "",
        f"relid {row.relid}" if row.relid else "",
        release,
    ]
    return "; ".join(part for part in parts if part)


def convert(row: GedEvent) -> DiplomaticEvent:
    side_a, side_b = _alpha3(row.gwnoa), _alpha3(row.gwnob)
    detail = EventDetail(
        actor1=row.side_a,
        actor1_code=", ".join(row.gwnoa) or None,  # the GW numbers as given
        actor1_country=side_a[0] if len(row.gwnoa) == 1 and side_a else None,  # several states: in actor_countries
        actor2=row.side_b,
        actor2_code=", ".join(row.gwnob) or None,
        actor2_country=side_b[0] if len(row.gwnob) == 1 and side_b else None,
        sources=row.number_of_sources if row.number_of_sources is not None and row.number_of_sources >= 0 else None,
        location_country=gw_countries().get(row.country_id),
        latitude=row.latitude,
        longitude=row.longitude,
        fatalities_best=row.best,
        fatalities_low=row.low,
        fatalities_high=row.high,
        location_precision=row.where_prec,
    )
    place = [row.where_description, row.adm_2, row.adm_1, row.country]
    return DiplomaticEvent(
        source_ref=f"ucdp:{row.id}",
        occurred=occurred(row),
        title=row.dyad_name,
        event_class="military",
        cameo_code=None,
        actor_countries=tuple(sorted({*side_a, *side_b})),
        location=", ".join(dict.fromkeys(part for part in place if part)) or None,
        url=None,  # source_article is a citation, not a link
        description=describe(row),
        source_modified=release_stamp(row.release) if row.release else None,
        detail=detail,
    )


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """A file with a header by its names; a file without, by the current release's 49."""
    release = release_of(path.name)
    header = csv_header(readers.peek(path, 64 * 1024))
    # a candidate file without a header: every line must have the current release's 49 fields
    headerless = not (header is None or _is_header(header) or header == [""])
    records = read_csv(
        path,
        encoding=encoding,
        columns=frozenset(COLUMNS),
        required=REQUIRED,
        progress=progress,
        names=(list(COLUMNS), "a headerless UCDP file has the current release's") if headerless else None,
    )
    for record in records:
        if record.fields is not None and release is not None:
            record.fields[RELEASE] = release
        yield record


def _is_header(first: list[str]) -> bool:
    """The first line is a header when it starts with `id`, or names two of UCDP's columns
    (a header in another order: read by its names, never by position)."""
    return first[:1] == ["id"] or len(set(first) & set(COLUMNS)) >= 2


REQUIRED = frozenset(name for name, info in GedEvent.model_fields.items() if info.is_required())
_AT = {name: COLUMNS.index(name) for name in ("id", "year", "type_of_violence", "date_prec", "date_start")}


class GedSniff(HeaderSniff):
    """A header with UCDP's required columns (and no others), or a headerless line that
    reads as a GED event: 49 fields, a numeric id and year, codes where the codes are."""

    def __call__(self, head: bytes) -> bool:
        first = csv_header(head) or []
        if _is_header(first):
            return super().__call__(head)
        at = _AT
        return (
            len(first) == len(COLUMNS)
            and first[at["id"]].isdigit()
            and len(first[at["year"]]) == 4
            and first[at["year"]].isdigit()
            and first[at["type_of_violence"]] in VIOLENCE
            and first[at["date_prec"]] in WHEN
            and _DAY.fullmatch(first[at["date_start"]]) is not None
        )


FORMAT = Format(
    "ucdp_ged",
    "event",
    "UCDP GED event CSV, final (GEDEvent_v24_1.csv) and candidate releases, with or without the header",
    "ucdp_ged",
    GedEvent,
    convert,
    read,
    GedSniff(frozenset(COLUMNS), REQUIRED),
    tabular=True,
)
