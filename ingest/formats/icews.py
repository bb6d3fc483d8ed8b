"""ICEWS coded event data (Harvard Dataverse doi:10.7910/DVN/28075): yearly `.tab` files,
tab-separated, 20 columns, one coded event (who did what to whom) per row.

`Event ID` alone is not an identity: ICEWS gives some 145,000 ids to two events with
different dates, so `source_ref` is `<Event ID>@<Event Date>`. "NA" is ICEWS's absent
value. A CAMEO code that lost its leading zero (`40`, `874`) gets it back when only the
padded code is a CAMEO code; `10`-`20` (a root, or 010-020?) are rejected as ambiguous.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from ingest.canon import cameo, countries
from ingest.canon.records import DiplomaticEvent, EventDetail
from ingest.canon.times import TimeValue, parse_time
from ingest.formats.base import Format, Latitude, Longitude, OptText, Text, absent_as, csv_layout
from ingest.inputs.readers import csv_header

ABSENT = "NA"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: Any) -> TimeValue:
    text = str(value).strip()
    if not _DAY.fullmatch(text):
        raise PydanticCustomError("date", "'{value}' is not a date in YYYY-MM-DD form (2022-02-15)", {"value": text})
    return parse_time(text, None, "day")  # a day with no zone: that UTC day


@cache
def _known() -> frozenset[str]:
    return frozenset(row["code"] for row in cameo.codes())


def parse_cameo(value: Any) -> str:
    """The code as ICEWS writes it (`040`), a lost leading zero put back where unambiguous."""
    code = str(value).strip()
    padded = "0" + code
    if code.isdigit() and padded in _known():
        if code in _known():
            raise PydanticCustomError(
                "cameo_ambiguous",
                "'{value}' is ambiguous: CAMEO {padded} without its leading zero, or the root {value}; "
                "write the code as text with its zeros, as ICEWS does (e.g. 040)",
                {"value": code, "padded": padded},
            )
        return padded
    return cameo.check_code(code)


def _goldstein(value: float) -> float:
    if not -10 <= value <= 10:  # NaN too
        raise PydanticCustomError("goldstein", "{value} is outside the Goldstein scale, -10 to 10", {"value": value})
    return value


class IcewsEvent(BaseModel):
    """A row of an ICEWS events file, columns as ICEWS names them (District is not used)."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    event_id: Text = Field(alias="Event ID")
    event_date: Annotated[TimeValue, PlainValidator(_day)] = Field(alias="Event Date")
    source_name: Text = Field(alias="Source Name")
    source_sectors: OptText = Field(None, alias="Source Sectors")
    source_country: OptText = Field(None, alias="Source Country")
    event_text: Text = Field(alias="Event Text")
    cameo_code: Annotated[str, PlainValidator(parse_cameo)] = Field(alias="CAMEO Code")
    intensity: Annotated[float, AfterValidator(_goldstein)] = Field(alias="Intensity")
    target_name: Text = Field(alias="Target Name")
    target_sectors: OptText = Field(None, alias="Target Sectors")
    target_country: OptText = Field(None, alias="Target Country")
    story_id: OptText = Field(None, alias="Story ID")
    sentence_number: int | None = Field(None, alias="Sentence Number")
    publisher: OptText = Field(None, alias="Publisher")
    city: OptText = Field(None, alias="City")
    province: OptText = Field(None, alias="Province")
    country: OptText = Field(None, alias="Country")
    latitude: Latitude = Field(None, alias="Latitude")
    longitude: Longitude = Field(None, alias="Longitude")

    _absent = absent_as(ABSENT)


def _country(name: str | None) -> str | None:
    return countries.normalise(name)[0]


def _provenance(row: IcewsEvent) -> str | None:
    """Where ICEWS read it: "Vietnam News Agency Bulletin (story 47400351, sentence 2)"."""
    parts = (("story", row.story_id), ("sentence", row.sentence_number))
    where = ", ".join(f"{label} {value}" for label, value in parts if value is not None)
    return f"{row.publisher} ({where})" if row.publisher and where else row.publisher or where or None


def convert(row: IcewsEvent) -> DiplomaticEvent:
    source, target = _country(row.source_country), _country(row.target_country)
    detail = EventDetail(
        actor1=row.source_name,
        actor1_code=row.source_sectors,
        actor1_country=source,
        actor2=row.target_name,
        actor2_code=row.target_sectors,
        actor2_country=target,
        quad_class=cameo.quad_class(row.cameo_code),
        goldstein=row.intensity,
        location_country=_country(row.country),
        latitude=row.latitude,
        longitude=row.longitude,
    )
    return DiplomaticEvent(
        source_ref=f"{row.event_id}@{row.event_date.at.date().isoformat()}",
        occurred=row.event_date,
        title=f"{row.source_name}: {row.event_text}: {row.target_name}",
        event_class=cameo.event_class(row.cameo_code),
        cameo_code=row.cameo_code,
        actor_countries=tuple(sorted({code for code in (source, target) if code})),
        location=", ".join(part for part in (row.city, row.province, row.country) if part) or None,
        url=None,  # Publisher is a name, not a link
        description=_provenance(row),
        detail=detail,
    )


def sniff(head: bytes) -> bool:
    """A tab-separated header that starts with `Event ID`, `Event Date` and names `CAMEO Code`
    (POLECAT's starts the same, and codes PLOVER instead)."""
    header = csv_header(head, "\t") or []
    return header[:2] == ["Event ID", "Event Date"] and "CAMEO Code" in header


FORMAT = Format(
    "icews",
    "event",
    "ICEWS coded event data, the Dataverse yearly .tab files (20 tab-separated columns)",
    "icews",
    IcewsEvent,
    convert,
    csv_layout(IcewsEvent, "\t", frozenset({"District"}), quoted=False)[0],
    sniff,
    tabular=True,
)
