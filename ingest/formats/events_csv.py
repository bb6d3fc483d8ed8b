"""Curated diplomatic-events CSV: talks, visits, statements, sanctions an analyst tracks.

`event_class` is ours; `cameo_code` is CAMEO's. Give either: an empty class is derived
from the CAMEO code, and an explicit class wins (the UK's naming of the GRU is CAMEO 112,
"accuse", a statement; for this analysis it is an attribution).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from ingest.canon import cameo
from ingest.canon.records import DiplomaticEvent, EventClass, RecordError
from ingest.canon.times import Precision
from ingest.formats.base import Country, Format, OptText, Text, Time, Url, _blank_to_none, csv_layout, items

CameoCode = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(lambda v: v and cameo.check_code(v))]


class CuratedEvent(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    ref: Text
    time_precision: Precision | None = None
    occurred_at: Time
    title: Text
    event_class: Annotated[EventClass | None, BeforeValidator(_blank_to_none)] = None
    cameo_code: CameoCode = None
    actor_countries: items(Country) = ()  # type: ignore[valid-type]
    location: OptText = None
    url: Url = None
    description: OptText = None


def convert(row: CuratedEvent) -> DiplomaticEvent:
    if None in row.actor_countries:
        raise RecordError("actor_countries", "blank item in the list")
    klass = row.event_class or (cameo.event_class(row.cameo_code) if row.cameo_code else "other")
    return DiplomaticEvent(
        source_ref=row.ref,
        occurred=row.occurred_at,
        title=row.title,
        event_class=klass,
        cameo_code=row.cameo_code,
        actor_countries=row.actor_countries,
        location=row.location,
        url=row.url,
        description=row.description,
    )


FORMAT = Format(
    "events_csv",
    "event",
    "Curated diplomatic events CSV kept by an analyst (one row per event)",
    "curated-events",
    CuratedEvent,
    convert,
    *csv_layout(CuratedEvent),
    tabular=True,
    checked="events_csv.sql",
)
