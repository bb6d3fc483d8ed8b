"""Curated incidents CSV: the file an analyst keeps by hand from CERT bulletins and news.

One row per incident. Targets and actors are parallel `;`-separated columns, one item
per target (or actor); a column with a single item applies it to all of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ingest.canon.records import (
    Actor,
    ActorRole,
    AttackType,
    Evidence,
    Incident,
    RecordError,
    Sector,
    Severity,
    Target,
)
from ingest.canon.times import Precision
from ingest.formats.base import Country, Domain, Format, OptText, OptTime, Text, Time, Url, csv_layout, items


class CuratedIncident(BaseModel):
    """A row as the analyst wrote it. Field order matters: time_precision before the times."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    ref: Text
    title: Text
    description: OptText = None
    attack_types: items(AttackType)  # type: ignore[valid-type]
    time_precision: Precision | None = None
    started_at: Time
    ended_at: OptTime = None
    evidence: Evidence = "reported"
    severity: Severity | None = None
    target_org: items(str) = ()  # type: ignore[valid-type]
    target_domain: items(Domain) = ()  # type: ignore[valid-type]
    target_country: items(Country) = ()  # type: ignore[valid-type]
    target_sector: items(Sector) = ()  # type: ignore[valid-type]
    actor: items(str) = ()  # type: ignore[valid-type]
    actor_role: items(ActorRole) = ()  # type: ignore[valid-type]
    attributed_by: items(str) = ()  # type: ignore[valid-type]
    attributed_at: items(Time) = ()  # type: ignore[valid-type]
    url: Url = None


def align(row: BaseModel, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Zip parallel list columns; a single item applies to every entry."""
    lists = [getattr(row, name) for name in columns]
    width = max(map(len, lists))
    if width <= 1:  # the common case: no list or a single entry
        return [tuple(value[0] if value else None for value in lists)] if width else []
    for name, value in zip(columns, lists, strict=True):
        if len(value) not in (0, 1, width):
            longest = columns[[len(v) for v in lists].index(width)]
            raise RecordError(
                name,
                f"has {len(value)} items but {longest} has {width}: give one item each, "
                "or a single item that applies to all",
            )
    full = [value if len(value) == width else (value * width if value else (None,) * width) for value in lists]
    return list(zip(*full, strict=True))


def _actors(row: CuratedIncident) -> tuple[Actor, ...]:
    entries = align(row, ("actor", "actor_role", "attributed_by", "attributed_at"))
    actors = []
    for name, role, by, at in entries:
        if name is None:
            raise RecordError("actor", "attribution details given without an actor name")
        actors.append(Actor(name, role or ("attributed" if by else "suspected"), by, at))
    return tuple(actors)


def convert(row: CuratedIncident) -> Incident:
    if not row.attack_types or None in row.attack_types:
        raise RecordError("attack_types", "give at least one attack type, without blank items")
    targets = align(row, ("target_org", "target_domain", "target_country", "target_sector"))
    return Incident(
        source_ref=row.ref,
        title=row.title,
        description=row.description,
        attack_types=row.attack_types,
        started=row.started_at,
        ended=row.ended_at,
        evidence=row.evidence,
        severity=row.severity,
        url=row.url,
        targets=tuple(Target(*entry) for entry in targets),
        actors=_actors(row),
    )


FORMAT = Format(
    "incidents_csv",
    "incident",
    "Curated incidents CSV kept by an analyst (one row per incident)",
    "curated-incidents",
    CuratedIncident,
    convert,
    *csv_layout(CuratedIncident),
    tabular=True,
    checked="incidents_csv.sql",
)
