"""The STIX 2.1 properties cyberlog reads, as types: an object whose properties have the
wrong shape is a reject with its JSON pointer, so the bundle's graph is built only from
objects that say what the specification says they say.

TypedDicts rather than models: a bundle has hundreds of thousands of objects, and these
only check types; every property is optional here (the record model requires what an
incident needs).
"""

from __future__ import annotations

import re
from typing import Any, Required

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic reads TypedDicts from here on Python < 3.12

from ingest.canon.times import TimeValue, parse_time

# RFC 3339 as STIX writes it: UTC with a literal Z, ASCII digits only, nothing around it
_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z")
# a record's created and modified are checked by the record model, with their field
RECORD_TYPES = ("incident", "campaign", "sighting", "report")
TIMES = ("created", "modified", "first_seen", "last_seen", "start_time", "end_time", "stop_time", "published")


def stix_time(value: Any, fidelity: str | None = None) -> TimeValue:
    """A STIX timestamp (`2022-02-16T09:00:00.000Z`), strictly: a date alone, a missing
    zone, an offset, a space around it or digits that are not ASCII are errors."""
    text = str(value)
    if not isinstance(value, str) or not _RFC3339.fullmatch(text):
        try:
            parse_time(text)
        except PydanticCustomError as exc:
            if exc.type == "time_format":  # not a time at all: say what a time looks like
                raise
        raise PydanticCustomError(
            "stix_time",
            "'{value}' is not a STIX timestamp: RFC 3339 in UTC, YYYY-MM-DDTHH:MM:SS[.sss]Z",
            {"value": text},
        )
    return parse_time(text, None, fidelity)


def envelope_problem(obj: dict[str, Any]) -> str | None:
    """Why an object's identity is not what STIX says: its id's type prefix differs from
    its type, or its spec_version is not 2.1 (a 2.0 object carries none)."""
    kind, oid = obj.get("type"), obj.get("id")
    if isinstance(kind, str) and isinstance(oid, str) and "--" in oid and oid.split("--", 1)[0] != kind:
        return f"id {oid[:100]!r} does not match type {kind[:100]!r}"
    version = obj.get("spec_version")
    if "spec_version" in obj and version != "2.1":
        shown = repr(version)[:60]
        return f'spec_version {shown} is not "2.1" (a STIX 2.1 object says "2.1"; a 2.0 object has none)'
    return None


def times_problem(obj: StixObject) -> str | None:
    """A kept object's bad timestamp (a record's `created` and `modified` are left to the
    record model, which names the field), or `modified` before `created`: that object is
    rejected, not the incident it points at."""
    found: dict[str, TimeValue] = {}
    for name in TIMES if obj["type"] not in RECORD_TYPES else TIMES[2:]:
        value = obj.get(name)
        if value is None:
            continue
        try:
            found[name] = stix_time(value)
        except (PydanticCustomError, ValueError) as exc:
            return f"{name}: {exc}"
    if "created" in found and "modified" in found and found["modified"].at < found["created"].at:
        return f"modified '{obj.get('modified')}' is before created '{obj.get('created')}'"
    return None


class CoreEvent(TypedDict, total=False):
    event_ref: str


class IncidentCore(TypedDict, total=False):
    """The incident-core extension (extension-definition--ef765651-...)."""

    determination: str | None
    criticality: int | None
    incident_types: list[str] | None
    events: list[CoreEvent] | None
    impact_refs: list[str] | None


class StixObject(TypedDict, total=False):
    id: Required[str]
    type: Required[str]
    name: str | None
    description: str | None
    created: str | None
    modified: str | None
    created_by_ref: str | None
    labels: list[str] | None
    revoked: bool | None
    first_seen: str | None
    last_seen: str | None
    sectors: list[str] | None
    identity_class: str | None
    country: str | None
    region: str | None
    threat_actor_types: list[str] | None
    primary_motivation: str | None
    malware_types: list[str] | None
    start_time: str | None
    start_time_fidelity: str | None
    end_time: str | None
    end_time_fidelity: str | None
    stop_time: str | None
    event_types: list[str] | None
    relationship_type: str | None
    source_ref: str | None
    target_ref: str | None
    sighting_of_ref: str | None
    where_sighted_refs: list[str] | None
    sighting_refs: list[str] | None
    report_types: list[str] | None
    published: str | None
    object_refs: list[str] | None
    core: IncidentCore | None  # the incident-core extension, lifted out of `extensions`
    url: str | None  # the first external reference's URL


OBJECT = TypeAdapter(StixObject)


def checked(obj: dict[str, object]) -> tuple[StixObject | None, str | None]:
    """The object with its properties type-checked, or why not ("not a STIX object: labels.0: ...")."""
    try:
        checked_obj = OBJECT.validate_python(obj, strict=False)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(object)"
        return None, f"not a STIX object: {where}: {first['msg']}"
    if checked_obj["type"] == "relationship" and not (checked_obj.get("source_ref") and checked_obj.get("target_ref")):
        return None, "not a STIX object: a relationship needs both source_ref and target_ref"
    return checked_obj, None
