"""STIX 2.1 bundles: incidents (with the incident-core extension), campaigns, sightings
and incident reports, each with the victims, actors and attack patterns the bundle links
to it. `stix_bundle.py` folds the graph into one record per incident; this module is the
record's model and its conversion.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, PlainValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from ingest.canon import countries, vocab
from ingest.canon.records import Actor, ActorRole, Incident, Severity, Skip, Target
from ingest.canon.times import PRECISIONS, Precision, TimeValue, bounded, parse_time
from ingest.formats.base import Format, OptText, Text
from ingest.formats.stix_bundle import read_bundle
from ingest.formats.stix_objects import stix_time


def _stix_time(value: Any, info: ValidationInfo) -> TimeValue:
    return stix_time(value, info.data.get("fidelity"))


def _not_before_created(value: TimeValue, info: ValidationInfo) -> TimeValue:
    created = info.data.get("created")
    if created is not None and value.at < created.at:
        raise PydanticCustomError(
            "modified_before_created",
            "modified {value} is before created {created}",
            {"value": value.at.isoformat(), "created": created.at.isoformat()},
        )
    return value


_ID = re.compile(r"[a-z0-9-]+--[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _stix_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise PydanticCustomError("stix_id", "'{value}' is not a STIX identifier (type--UUID)", {"value": value})
    return value


StixTime = Annotated[TimeValue, PlainValidator(lambda v: stix_time(v))]
Fidelity = Annotated[Precision | None, BeforeValidator(lambda v: v if v in PRECISIONS else None)]


class When(BaseModel):
    fidelity: Fidelity = None  # before `at`: it sets the precision `at` is read with
    basis: str
    at: Annotated[TimeValue, PlainValidator(_stix_time)]


class StixTarget(BaseModel):
    name: OptText = None
    sectors: list[str] = []
    country: OptText = None


class StixActor(BaseModel):
    name: Text
    types: list[str] = []
    motive: OptText = None
    country: OptText = None
    by: OptText = None
    at: StixTime | None = None
    dated: Literal["on", "by"] = "by"
    said: OptText = None  # the attributed-to relationship's own description


# STIX has one relationship for "attributed to"; what kind of attribution it is, the
# relationship's description says in words: "claimed by CyberBerkut", "suspected".
_CLAIMED = re.compile(r"\bclaim(?:ed|s|ing)?\b", re.IGNORECASE)
_SUSPECTED = re.compile(r"\b(?:suspect(?:ed|s)?|alleged(?:ly)?|unconfirmed|declined to attribute)\b", re.IGNORECASE)


def _times_that_parse(values: Any) -> list[TimeValue]:
    found = []
    for value in values if isinstance(values, list) else []:
        try:
            found.append(parse_time(str(value)))
        except ValueError:
            continue
    return found


class StixRecord(BaseModel):
    type: Literal["incident", "campaign", "sighting", "report"]
    id: Annotated[str, AfterValidator(_stix_id)]
    name: Text
    description: OptText = None
    created: StixTime
    modified: Annotated[StixTime, AfterValidator(_not_before_created)]
    url: OptText = None
    report_url: OptText = None
    determination: OptText = None
    criticality: Annotated[int, Field(ge=0, le=100)] | None = None
    terms: list[tuple[str, ...]] = []  # each the names of one thing (stix_bundle._terms)
    starts: Annotated[
        list[When], BeforeValidator(lambda v: [w for w in v if w] if isinstance(v, list) else v), Field(min_length=1)
    ]
    ends: Annotated[list[When], BeforeValidator(lambda v: [w for w in v if w] if isinstance(v, list) else v)] = []
    targets: list[StixTarget] = []
    actors: list[StixActor] = []
    # a report's bad timestamp is that report's problem: it only loses its bound here
    reported: Annotated[list[TimeValue], BeforeValidator(_times_that_parse)] = []


HAPPENED = ("confirmed", "successful-attempt", "blocked", "failed-attempt")  # incident-core determinations


def _earliest_of_best(candidates: list[When], latest: bool = False) -> When | None:
    """Of the candidates of the first basis present, the earliest (or the latest)."""
    if not candidates:
        return None
    best = [c for c in candidates if c.basis == candidates[0].basis]
    return max(best, key=lambda c: c.at.latest) if latest else min(best, key=lambda c: c.at.at)


def _stated(when: When) -> str:
    """The basis, with the fidelity the source stated for it: kept apart from the precision
    cyberlog derived, so an analyst sees what the source itself claimed."""
    stated = when.fidelity and when.basis in _STATES_FIDELITY
    return f"{when.basis} (stated fidelity: {when.fidelity})" if stated else when.basis


# the incident-core times that come with a *_fidelity of their own; a report's `published`
# or an object's `created` are read as days by cyberlog, which is no statement of the source's
_STATES_FIDELITY = frozenset({"event start_time", "impact start_time"})


def _severity(criticality: int | None) -> Severity | None:
    if criticality is None:
        return None
    return "low" if criticality < 25 else "medium" if criticality < 50 else "high" if criticality < 75 else "critical"


def _target(t: StixTarget) -> Target:
    country, raw = countries.normalise(t.country)
    sectors, unmapped = vocab.sectors(t.sectors)
    return Target.of(t.name, None, country, raw, sectors, unmapped)


def _actor(a: StixActor) -> Actor:
    country, raw = countries.normalise(a.country)
    role: ActorRole = "attributed" if a.at else "suspected"
    if a.said and _CLAIMED.search(a.said):
        role = "claimed"  # a group's own claim is not an attribution, whoever repeats it
    elif a.said and _SUSPECTED.search(a.said):
        role = "suspected"
    # a report's publication dates the attribution; a relationship's `created` only says
    # when the link was written down
    return Actor(a.name, role, a.by, a.at, country, raw, ", ".join(a.types) or None, a.motive, dated=a.dated)


def convert(record: StixRecord) -> Incident:
    if record.determination == "false-positive":
        raise Skip(f"STIX {record.type} determined false-positive")
    start = _earliest_of_best(record.starts)
    assert start is not None  # the model requires one candidate
    end = _earliest_of_best(record.ends, latest=True)
    confirmed = record.determination in HAPPENED or record.type == "sighting"
    # the object, and every report naming it, was written after the attack began
    started, bound = bounded(start.at, min([record.created.at, *(t.at for t in record.reported)]))
    attack_types, unmapped = vocab.attack_types(record.terms)
    return Incident(
        source_ref=record.id,
        title=record.name,
        description=record.description,
        attack_types=attack_types,
        started=started,
        ended=end.at if end else None,
        evidence="confirmed" if confirmed else "reported",
        severity=_severity(record.criticality),
        url=record.url or record.report_url,
        targets=tuple(_target(t) for t in record.targets),
        actors=tuple(_actor(a) for a in record.actors),
        source_modified=record.modified.at,
        time_basis="; ".join(b for b in (_stated(start), bound) if b) or None,
        unmapped_attack_types=unmapped,
    )


_BUNDLE = re.compile(rb'"type"\s*:\s*"bundle"|"spec_version"\s*:\s*"2\.[01]"')


def sniff(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and _BUNDLE.search(head) is not None


FORMAT = Format(
    "stix",
    "incident",
    "STIX 2.1 bundle (or TAXII envelope): incidents, campaigns, sightings, incident reports",
    "stix",
    StixRecord,
    convert,
    read_bundle,
    sniff,
    batch=1_000,  # an incident carries its graph: keep a batch small beside the bundle's objects
)
