"""ACLED (Armed Conflict Location & Event Data) CSV exports: one row per event.

`event_id_cnty` is the identity and `timestamp` (epoch seconds of ACLED's last edit) the
version: a revised row updates the stored event, an older copy never overwrites it.
`time_precision` 1 is the day given and 3 its month. 2 means "within about a week" (ACLED
dates it mid-week); cyberlog has no week precision, and a month would be too coarse and,
near a month's end, wrong, so the day is stored as given and the description says so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from ingest.canon import countries
from ingest.canon.records import DiplomaticEvent, EventClass, EventDetail
from ingest.canon.times import TimeValue, bounded, parse_time
from ingest.formats.base import Format, Latitude, Longitude, OptText, Text, csv_layout
from ingest.inputs.readers import csv_header

# event_type, or "event_type: sub_event_type" where a sub-type differs (casefolded)
CLASSES: dict[str, EventClass] = {
    "battles": "military",
    "explosions/remote violence": "military",
    "violence against civilians": "military",
    "protests": "other",
    "riots": "other",
    "strategic developments": "other",  # arrests, looting, change to group/activity, other
    "strategic developments: agreement": "agreement",
    "strategic developments: disrupted weapons use": "military",  # seized arms, intercepted missiles
    "strategic developments: headquarters or base established": "military",
    "strategic developments: non-violent transfer of territory": "military",  # a withdrawal, a takeover
}
EVENT_TYPES = (
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Protests",
    "Riots",
    "Strategic developments",
)
ACTOR_TYPES = (
    "state forces",
    "rebel group",
    "political militia",
    "identity militia",
    "rioters",
    "protesters",
    "civilians",
    "external/other forces",
)
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEK_NOTE = "date within about a week (ACLED time_precision 2)"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_WRITTEN_DAY = re.compile(r"(\d{1,2}) ([A-Za-z]+) (\d{4})")


def _date(value: Any, info: ValidationInfo) -> TimeValue:
    """`2022-02-15` or `15 February 2022`, a UTC day (or its month, for time_precision 3)."""
    text = " ".join(str(value).split())
    written = _WRITTEN_DAY.fullmatch(text)
    if written and written[2].casefold() in MONTHS:
        text = f"{written[3]}-{MONTHS.index(written[2].casefold()) + 1:02d}-{int(written[1]):02d}"
    elif not _ISO_DAY.fullmatch(text):
        raise PydanticCustomError(
            "date", "'{value}' is not a date: use YYYY-MM-DD or DD Month YYYY (15 February 2022)", {"value": value}
        )
    return parse_time(text, None, "month" if info.data.get("time_precision") == "3" else "day")


def _event_type(value: str) -> str:
    if value.casefold() not in CLASSES:
        known = ", ".join(EVENT_TYPES)
        raise PydanticCustomError(
            "event_type", "'{value}' is not an ACLED event type: {known}", {"value": value, "known": known}
        )
    return value


def _actor_type(value: str | None) -> str | None:
    """inter1/inter2: a code 0-8 (0: no actor) or, in newer exports, its name (lower-cased)."""
    if value is None or not value.isdigit():
        return value.casefold() if value else None
    if int(value) > len(ACTOR_TYPES):
        raise PydanticCustomError(
            "actor_type",
            "'{value}' is not an ACLED actor type: 1-8 (1 state forces ... 8 external/other forces)",
            {"value": value},
        )
    return ACTOR_TYPES[int(value) - 1] if int(value) else None


ActorType = Annotated[OptText, AfterValidator(_actor_type)]


class AcledEvent(BaseModel):
    """The columns cyberlog uses, as ACLED names them (time_precision before event_date)."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    event_id_cnty: Text
    time_precision: Literal["1", "2", "3"]
    event_date: Annotated[TimeValue, PlainValidator(_date)]
    event_type: Annotated[Text, AfterValidator(_event_type)]
    sub_event_type: OptText = None
    actor1: Text
    inter1: ActorType = None
    actor2: OptText = None
    inter2: ActorType = None
    iso: Annotated[int, Field(ge=0, le=999)] | None = None
    country: OptText = None
    admin1: OptText = None
    location: OptText = None
    latitude: Latitude = None
    longitude: Longitude = None
    notes: OptText = None
    fatalities: Annotated[int, Field(ge=0)] | None = None
    timestamp: Annotated[int, Field(ge=0)] | None = None


def event_class(event_type: str, sub_event_type: str | None) -> EventClass:
    return CLASSES.get(f"{event_type}: {sub_event_type}".casefold(), CLASSES[event_type.casefold()])


def convert(row: AcledEvent) -> DiplomaticEvent:
    kind = f"{row.event_type}: {row.sub_event_type}" if row.sub_event_type else row.event_type
    place = (countries.lookup(f"{row.iso:03d}") if row.iso else None) or countries.normalise(row.country)[0]
    notes = [f"fatalities: {row.fatalities}"] if row.fatalities else []
    notes += [WEEK_NOTE] if row.time_precision == "2" else []
    edited = datetime.fromtimestamp(row.timestamp, UTC) if row.timestamp is not None else None
    detail = EventDetail(
        actor1=row.actor1,
        actor1_role=row.inter1,
        actor2=row.actor2,
        actor2_role=row.inter2,
        location_country=place,
        latitude=row.latitude,
        longitude=row.longitude,
        recorded_at=edited,
    )
    occurred, _ = bounded(row.event_date, edited)  # ACLED had coded the event by its last edit
    return DiplomaticEvent(
        source_ref=row.event_id_cnty,
        occurred=occurred,
        title=f"{kind} — {row.actor1}" + (f" / {row.actor2}" if row.actor2 else ""),
        event_class=event_class(row.event_type, row.sub_event_type),
        cameo_code=None,
        actor_countries=(),  # ACLED actors carry no country code, and names are not guessed
        location=", ".join(part for part in (row.location, row.admin1, row.country) if part) or None,
        url=None,
        description=" ".join([row.notes or "", *(f"[{note}]" for note in notes)]).strip() or None,
        source_modified=edited,
        detail=detail,
    )


COLUMNS = (  # a current export's header, in order; older ones lack disorder_type, civilian_targeting, tags
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)
IGNORED = frozenset(COLUMNS) - set(AcledEvent.model_fields) | {"data_id", "event_id_no_cnty", "iso3"}  # pre-2023


def sniff(head: bytes) -> bool:
    return {"event_id_cnty", "event_date"} <= set(csv_header(head) or ())


FORMAT = Format(
    "acled",
    "event",
    "ACLED event export CSV (one row per event; current and pre-2023 column sets)",
    "acled",
    AcledEvent,
    convert,
    csv_layout(AcledEvent, ignored=IGNORED)[0],
    sniff,
    tabular=True,
)
