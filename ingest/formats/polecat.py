"""POLECAT (the ICEWS successor, coded to PLOVER) weekly and monthly event files, and yearly
zips of monthly files, from Harvard Dataverse: tab-separated, a header row, one event per
line, 40 columns.

An event keeps its PLOVER type, mode and contexts; COERCE:cyber (a cyber attack coded from
the news) is an incident. `Event ID` is the identity and the release stamp in the file's
name (`ngecEvents.<YYYYMMDDhhmmss>.Release<nnn>.DV.txt`) its version, so a later release
wins. Reading the files, their header quirks and yearly zips is polecat_files.py's job.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from ingest.canon import countries, vocab
from ingest.canon.records import Actor, DiplomaticEvent, EventClass, EventDetail, Incident, Target
from ingest.canon.times import TimeValue, parse_time
from ingest.formats import polecat_files
from ingest.formats.base import Format, Latitude, Longitude, OptText, Text, absent_as
from ingest.inputs.readers import csv_header

TYPES = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)  # fmt: skip
QUADS = {"VERBAL COOPERATION": 1, "MATERIAL COOPERATION": 2, "VERBAL CONFLICT": 3, "MATERIAL CONFLICT": 4}
ABSENT = "None"  # POLECAT's absent value, alone in a cell or as a list member
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
LATE = "Event Date after its Publication Date"
COLUMNS = polecat_files.COLUMNS  # the 40 names, in order (benchmarks/bench_polecat.py takes them from here)


def _day(value: Any) -> TimeValue:
    text = str(value).strip()
    if not _DAY.fullmatch(text):
        raise PydanticCustomError("date", "'{value}' is not a date in YYYY-MM-DD form (2022-02-15)", {"value": text})
    return parse_time(text, None, "day")  # a day with no zone: that UTC day


def _event_type(value: str) -> str:
    if value.upper() not in TYPES:
        known = ", ".join(TYPES)
        raise PydanticCustomError(
            "plover_type", "'{value}' is not a PLOVER event type: {known}", {"value": value, "known": known}
        )
    return value.upper()


def _quad(value: str) -> int:
    code = " ".join(value.upper().split())
    if code not in QUADS:
        known = ", ".join(QUADS)
        raise PydanticCustomError(
            "quad", "'{value}' is not a PLOVER quad code: {known}", {"value": value, "known": known}
        )
    return QUADS[code]


def _intensity(value: float) -> float:
    if not -10 <= value <= 10:  # NaN too
        raise PydanticCustomError("intensity", "{value} is outside the PLOVER scale, -10 to 10", {"value": value})
    return value


def _words(value: Any) -> tuple[str, ...]:
    """Contexts: `cyber;military` (or comma-separated) as lower-case words, without `None`."""
    words = re.split(r"[;,]", str(value)) if value is not None else []
    return tuple(dict.fromkeys(w.strip().lower() for w in words if w.strip() and w.strip() != ABSENT))


Day = Annotated[TimeValue, PlainValidator(_day)]
Lower = Annotated[OptText, AfterValidator(lambda v: v.lower() if v else None)]


class PolecatEvent(BaseModel):
    """A row of a POLECAT events file: the columns cyberlog uses, as POLECAT names them."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    event_id: Text = Field(alias="Event ID")
    event_date: Day = Field(alias="Event Date")
    event_type: Annotated[Text, AfterValidator(_event_type)] = Field(alias="Event Type")
    event_mode: Lower = Field(None, alias="Event Mode")
    intensity: Annotated[float, AfterValidator(_intensity)] | None = Field(None, alias="Intensity")
    quad_class: Annotated[int | None, BeforeValidator(lambda v: None if v is None else _quad(str(v)))] = Field(
        None, alias="Quad Code"
    )
    contexts: Annotated[tuple[str, ...], BeforeValidator(_words)] = Field((), alias="Contexts")
    actor_name: OptText = Field(None, alias="Actor Name")
    actor_country: OptText = Field(None, alias="Actor Country")
    actor_sector: OptText = Field(None, alias="Primary Actor Sector")
    recipient_name: OptText = Field(None, alias="Recipient Name")
    recipient_country: OptText = Field(None, alias="Recipient Country")
    recipient_sector: OptText = Field(None, alias="Primary Recipient Sector")
    placename: OptText = Field(None, alias="Placename")
    city: OptText = Field(None, alias="City")
    province: OptText = Field(None, alias="Province")
    country: OptText = Field(None, alias="Country")
    latitude: Latitude = Field(None, alias="Latitude")
    longitude: Longitude = Field(None, alias="Longitude")
    feature_type: OptText = Field(None, alias="Feature Type")
    source: OptText = Field(None, alias="Source")
    publication_date: Annotated[TimeValue | None, PlainValidator(_day)] = Field(None, alias="Publication Date")
    version: OptText = Field(None, alias="Version")
    release: datetime | None = Field(None, alias="(release)")  # from the file's name, by the reader

    _absent = absent_as(ABSENT)


@cache
def _classes() -> dict[tuple[str, str, str], EventClass]:
    text = resources.files("ingest").joinpath("data/plover_classes.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {(row["type"], row["mode"], row["context"]): row["event_class"] for row in rows}  # type: ignore[misc]


def event_class(event_type: str, mode: str | None, contexts: tuple[str, ...]) -> EventClass:
    """The most specific row of plover_classes.csv that fits: type+mode+context, type+mode, type."""
    table = _classes()
    for context in contexts:
        if (found := table.get((event_type, mode or "", context))) is not None:
            return found
    return table.get((event_type, mode or "", ""), table[(event_type, "", "")])


def is_cyber_attack(row: PolecatEvent) -> bool:
    """COERCE:cyber, or COERCE with no mode in a cyber context; COERCE:arrest of hackers stays an event."""
    return row.event_type == "COERCE" and (
        row.event_mode == "cyber" or (row.event_mode is None and "cyber" in row.contexts)
    )


Member = tuple[str | None, str | None, str | None, str | None]  # name, alpha-3, country as written, sector


def members(names: str | None, codes: str | None, sectors: str | None) -> list[Member]:
    """A compound actor's members. POLECAT writes them as parallel `;` lists with `None` holding
    an unknown member's place, so lists of one length pair up by position; otherwise the
    names stand alone and the countries beside them (no pairing is guessed)."""
    split = [
        [None if (p := part.strip()) in ("", ABSENT) else p for part in (text or "").split(";")]
        for text in (names, codes, sectors)
    ]
    name_list, code_list, sector_list = (s if any(s) else [] for s in split)
    if len(sector_list) != max(len(name_list), len(code_list)):
        sector_list = []
    if name_list and code_list and len(name_list) != len(code_list):
        return [(n, None, None, None) for n in name_list] + [(None, *_country(c), None) for c in code_list]
    size = max(len(name_list), len(code_list))
    found = [(_at(name_list, i), *_country(_at(code_list, i)), _at(sector_list, i)) for i in range(size)]
    return [m for m in found if any(m)]


def _at(values: list[str | None], i: int) -> str | None:
    return values[i] if i < len(values) else None


def _country(code: str | None) -> tuple[str | None, str | None]:
    found = countries.lookup(code) if code else None
    return found, (code if code and found != code else None)


def _title(row: PolecatEvent) -> str:
    action = row.event_type + (f":{row.event_mode}" if row.event_mode else "")
    names = (_known(row.actor_name), action, _known(row.recipient_name))
    return ": ".join(part for part in names if part)


def _known(names: str | None) -> str | None:
    """A name list without its `None` members: `NATO;None;Lloyd Austin` -> `NATO;Lloyd Austin`."""
    return ";".join(p for part in (names or "").split(";") if (p := part.strip()) and p != ABSENT) or None


def _description(row: PolecatEvent) -> str:
    parts = [f"PLOVER {row.event_type}:{row.event_mode or 'None'}", f"contexts: {';'.join(row.contexts) or 'None'}"]
    if row.publication_date:
        parts.append(
            f"published {row.publication_date.at.date().isoformat()}" + (f" by {row.source}" if row.source else "")
        )
    if late(row):
        parts.append(f"[{LATE}]")
    return "; ".join(parts)


def late(row: PolecatEvent) -> bool:
    return row.publication_date is not None and row.event_date.at > row.publication_date.at


def _only(found: list[Member]) -> str | None:
    """The actor's country when every member is of that one country; else the lists say it."""
    codes = {m[1] for m in found}
    return codes.pop() if len(codes) == 1 else None


def convert(row: PolecatEvent) -> DiplomaticEvent | Incident:
    actors = members(row.actor_name, row.actor_country, row.actor_sector)
    recipients = members(row.recipient_name, row.recipient_country, row.recipient_sector)
    if is_cyber_attack(row):
        return _incident(row, actors, recipients)
    published = row.publication_date.at if row.publication_date else None
    detail = EventDetail(
        actor1=row.actor_name,
        actor1_code=row.actor_country,
        actor1_country=_only(actors),
        actor1_role=row.actor_sector,
        actor2=row.recipient_name,
        actor2_code=row.recipient_country,
        actor2_country=_only(recipients),
        actor2_role=row.recipient_sector,
        quad_class=row.quad_class,
        goldstein=row.intensity,
        location_country=_country(row.country)[0],
        latitude=row.latitude,
        longitude=row.longitude,
        recorded_at=published,  # the story's day: a day, so it never narrows the event's day
        location_precision=row.feature_type,
    )
    return DiplomaticEvent(
        source_ref=f"polecat:{row.event_id}",
        occurred=row.event_date,
        title=_title(row),
        event_class=event_class(row.event_type, row.event_mode, row.contexts),
        cameo_code=None,
        actor_countries=tuple(sorted({m[1] for m in actors + recipients if m[1]})),
        location=", ".join(p for p in (row.placename or row.city, row.province, row.country) if p) or None,
        url=None,  # Source is a publisher's name, not a link
        description=_description(row),
        source_modified=row.release,
        detail=detail,
    )


def _incident(row: PolecatEvent, actors: list[Member], recipients: list[Member]) -> Incident:
    published = row.publication_date
    basis = None
    if published is not None and late(row):
        basis = f"written {published.at.date().isoformat()}, before the time it gives: not bounded by it"
    targets = []
    for name, code, raw, sector in recipients:
        sectors, unmapped = vocab.sectors([sector] if sector else [])
        if name or code or raw:
            targets.append(Target.of(name, None, code, raw, sectors, unmapped))
    suspects = [
        Actor(name or raw or code or "", "suspected", row.source, published, code, raw, sector, dated="by")
        for name, code, raw, sector in actors
        if name or code or raw
    ]
    return Incident(
        source_ref=f"polecat:{row.event_id}",
        title=_title(row),
        description=_description(row),
        attack_types=("other",),  # PLOVER codes no attack type; words in a name are not read as one
        started=row.event_date,
        ended=None,
        evidence="reported",
        severity=None,
        url=None,
        targets=tuple(dict.fromkeys(targets)),
        actors=tuple(dict.fromkeys(suspects)),
        source_modified=row.release,
        time_basis=basis,
    )


def sniff(head: bytes) -> bool:
    """A tab-separated header naming POLECAT's own columns."""
    return {"Event ID", "Event Type", "Event Mode", "Quad Code"} <= set(csv_header(head, "\t") or ())


FORMAT = Format(
    "polecat",
    "event",
    "POLECAT (PLOVER-coded) weekly and monthly event files, and yearly zips of months, from Dataverse "
    "(40 tab-separated columns)",
    "polecat",
    PolecatEvent,
    convert,
    polecat_files.read,
    sniff,
    tabular=True,
    mixed=True,
    reads_archives=True,  # a yearly zip of monthly files is read as one file, its months in calendar order
)
