"""The STIX 2.1 properties cyberlog reads, as types: an object whose properties have the
wrong shape is a reject with its JSON pointer, so the bundle's graph is built only from
objects that say what the specification says they say.

TypedDicts rather than models: a bundle has hundreds of thousands of objects, and these
only check types; every property is optional here (the record model requires what an
incident needs).
"""

from __future__ import annotations

from typing import Required

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads TypedDicts from here on Python < 3.12


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
    """The object with its properties type-checked, or why not ("labels.0: ...")."""
    try:
        checked_obj = OBJECT.validate_python(obj, strict=False)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(object)"
        return None, f"{where}: {first['msg']}"
    if checked_obj["type"] == "relationship" and not (checked_obj.get("source_ref") and checked_obj.get("target_ref")):
        return None, "a relationship needs both source_ref and target_ref"
    return checked_obj, None
