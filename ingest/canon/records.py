"""Canonical records: the shape of the store, whatever the source.

Ingesters convert their own validated source model into these. They are plain frozen
dataclasses, not pydantic models: the source model has already validated every value,
and the hot path should not pay for validation twice. The vocabularies are `Literal`s
so mypy checks that every converter maps into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from ingest.canon.times import PRECISIONS, TimeValue

AttackType = Literal["ddos", "defacement", "wiper", "ransomware", "phishing", "intrusion", "data_leak", "other"]
# What an attacker does once inside: one source may report the way in (intrusion), another
# what followed, and both describe one attack (the identity rule counts them compatible).
AFTER_INTRUSION: tuple[AttackType, ...] = ("wiper", "ransomware", "data_leak", "defacement")
Sector = Literal[
    "government",
    "military",
    "finance",
    "energy",
    "telecom",
    "media",
    "transport",
    "health",
    "education",
    "other",
]
Evidence = Literal["claimed", "reported", "confirmed"]
Severity = Literal["low", "medium", "high", "critical"]
ActorRole = Literal["attributed", "claimed", "suspected"]
EventClass = Literal[
    "talks",
    "visit",
    "statement",
    "agreement",
    "sanction",
    "recognition",
    "threat",
    "attribution",
    "military",
    "other",
]

# Every closed vocabulary, by name: report params take their choices from here (SECTOR,
# ATTACK_TYPE, EVENT_CLASS, PRECISION in ingest/reports/catalog.py), and tests/test_params.py holds
# sql/schema.sql's CHECK constraints to it, so code, schema and reports cannot drift.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "attack_type": get_args(AttackType),
    "sector": get_args(Sector),
    "evidence": get_args(Evidence),
    "severity": get_args(Severity),
    "actor_role": get_args(ActorRole),
    "event_class": get_args(EventClass),
    "time_precision": PRECISIONS,
}


@dataclass(frozen=True, slots=True)
class Target:
    organisation: str | None
    domain: str | None
    country: str | None  # ISO 3166 alpha-3
    sector: Sector | None  # the first of `sectors`, or the only one a source gives
    country_raw: str | None = None  # the source's own value when it was not alpha-3 already
    sectors: tuple[Sector, ...] = ()  # every sector the source gives for the target, when several
    unmapped_sectors: tuple[str, ...] = ()  # the source's sector words no vocabulary maps, as written

    def all_sectors(self) -> list[str]:
        return list(self.sectors) or ([self.sector] if self.sector else [])

    @classmethod
    def of(
        cls,
        organisation: str | None,
        domain: str | None,
        country: str | None,
        country_raw: str | None,
        sectors: tuple[Sector, ...],
        unmapped_sectors: tuple[str, ...] = (),
    ) -> Target:
        """A target with every sector the source gives; `sector` is the first of them."""
        return cls(
            organisation, domain, country, sectors[0] if sectors else None, country_raw, sectors, unmapped_sectors
        )


@dataclass(frozen=True, slots=True)
class Actor:
    actor: str
    role: ActorRole
    attributed_by: str | None
    attributed_at: TimeValue | None
    country: str | None = None  # where the actor is from or sponsored by, ISO 3166 alpha-3
    country_raw: str | None = None
    actor_type: str | None = None  # the source's own words: nation-state, activist, crime ...
    motive: str | None = None
    # "on": attributed_at is the attribution's own date, as the source states it; "by": it is
    # only when the source wrote the link down (a STIX relationship's created, a MISP event's
    # publication), so the attribution came no later than that
    dated: Literal["on", "by"] = "on"


@dataclass(frozen=True, slots=True)
class Incident:
    source_ref: str
    title: str
    description: str | None
    attack_types: tuple[AttackType, ...]
    started: TimeValue
    ended: TimeValue | None
    evidence: Evidence
    severity: Severity | None
    url: str | None
    targets: tuple[Target, ...] = ()
    actors: tuple[Actor, ...] = ()
    source_modified: datetime | None = None  # the source's own version stamp, newest wins
    time_basis: str | None = None  # what `started` was read from when not a plain start time
    unmapped_attack_types: tuple[str, ...] = ()  # the source's attack words no vocabulary maps, as written


@dataclass(frozen=True, slots=True)
class EventDetail:
    """What coded event data (GDELT, ICEWS, ACLED) add to an event: who did what to whom,
    how strongly, how widely reported, and where."""

    actor1: str | None = None  # the source's name for the actor
    actor1_code: str | None = None  # the source's own code (CAMEO RUSGOV, an ICEWS sector list ...)
    actor1_country: str | None = None  # ISO 3166 alpha-3
    actor1_role: str | None = None  # GOV, MIL, ... or the source's words
    actor2: str | None = None
    actor2_code: str | None = None
    actor2_country: str | None = None
    actor2_role: str | None = None
    quad_class: int | None = None  # CAMEO QuadClass 1-4
    goldstein: float | None = None  # -10 (conflict) .. +10 (cooperation); ICEWS intensity
    mentions: int | None = None
    sources: int | None = None
    articles: int | None = None
    tone: float | None = None
    location_country: str | None = None  # alpha-3
    latitude: float | None = None
    longitude: float | None = None
    recorded_at: datetime | None = None  # when the source recorded it (GDELT DATEADDED), UTC
    # kinetic event data (UCDP GED, ACLED): deaths as the source estimates them
    fatalities_best: int | None = None
    fatalities_low: int | None = None
    fatalities_high: int | None = None
    location_precision: str | None = None  # the source's own precision of the place (UCDP where_prec)


@dataclass(frozen=True, slots=True)
class DiplomaticEvent:
    source_ref: str
    occurred: TimeValue
    title: str
    event_class: EventClass
    cameo_code: str | None
    actor_countries: tuple[str, ...]
    location: str | None
    url: str | None
    description: str | None
    source_modified: datetime | None = None
    detail: EventDetail | None = None


@dataclass(frozen=True, slots=True)
class ClaimedTarget:
    """One request a claimed target list (DDoSia) orders against a host at one snapshot: what
    a group told its volunteers to attack, not an observed outage. Incidents are derived from
    runs of snapshots naming the host (ingest/derive/claims.py); the request templates (path,
    body, headers) are never kept."""

    source_ref: str  # <request id>@<snapshot time>
    snapshot_at: datetime  # the list's time, UTC
    host: str  # lower case, no trailing dot
    claimant: str  # the group whose list it is
    ip: str | None
    port: int | None
    request_type: str | None  # http, http2, tcp, udp, nginx_loris ... as the list gives it
    method: str | None  # GET, POST, syn, ack, PING, udp_flood ...
    target_id: str | None  # the list's own id for the host
    request_id: str | None


class Skip(Exception):
    """A converter's word that a valid record is not for us (a false positive, an indicator):
    counted by reason in the run summary, neither stored nor rejected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordError(ValueError):
    """A converter's complaint about one record: which field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
