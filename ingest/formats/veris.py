"""VERIS / VCDB incidents (schema 1.3.x and 1.4): one incident object per file, or VCDB's
joined array of them. Dates are year-first with an optional month, day and a time of day
without a zone; victims are ISO alpha-2 countries with a NAICS industry; "Unknown", "NA"
and "000000" stand for no value.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AliasPath,
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ingest.canon import countries, vocab
from ingest.canon.records import Actor, AttackType, Evidence, Incident, Sector, Skip, Target
from ingest.canon.times import TimeValue, bounded, parse_time
from ingest.formats.base import Format, Text
from ingest.inputs.readers import RawRecord, read_json

SENTINELS = frozenset({"", "unknown", "na", "000000"})
EVIDENCE: dict[str, Evidence] = {"Confirmed": "confirmed", "Suspected": "reported", "Near miss": "reported"}


def _sentinel(value: Any) -> bool:
    return isinstance(value, str) and value.strip().casefold() in SENTINELS


def _terms(value: Any) -> Any:
    """A VERIS list (a lone string is a list of one) without its sentinels."""
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return items  # pydantic says what is wrong with it
    return [v.strip() if isinstance(v, str) else v for v in items if not _sentinel(v)]


def _naics(value: Any) -> Any:
    code = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else value
    if code is None or _sentinel(code) or (isinstance(code, str) and not code.strip("0")):
        return None  # 000 is VERIS's unknown industry
    if not (isinstance(code, str) and code.isdigit() and 2 <= len(code) <= 6):
        raise PydanticCustomError(
            "naics", "'{value}' is not a NAICS code: 2 to 6 digits, e.g. 928110", {"value": value}
        )
    return code


def _clock(value: str | None) -> str | None:
    """VERIS's "05:45:00 PM" (or 24-hour "17:45:00") as "17:45"."""
    for layout in ("%I:%M:%S%p", "%I:%M%p", "%H:%M:%S", "%H:%M"):
        try:
            return datetime.strptime("".join(value.split()).upper(), layout).strftime("%H:%M") if value else None
        except ValueError:
            continue
    raise PydanticCustomError("time_of_day", "'{value}' is not a time of day such as 05:45:00 PM", {"value": value})


def _day(day: int | None, info: ValidationInfo) -> int | None:
    year, month = info.data.get("year"), info.data.get("month", 0)  # absent when invalid: own error
    if day is not None and month is None:
        raise PydanticCustomError("day_without_month", "a day ({value}) needs a month", {"value": day})
    if day is not None and year and month and day > calendar.monthrange(year, month)[1]:
        where = {"value": day, "month": f"{year}-{month:02d}"}
        raise PydanticCustomError("day_of_month", "{month} has no day {value}", where)
    return day


def _modified(value: Any) -> TimeValue | None:
    try:
        return parse_time(str(value)) if value else None
    except ValueError:
        return None  # VCDB bookkeeping in mixed formats: unparseable is unknown, not a reject


def _at(*path: str, **constraints: Any) -> Any:
    """A field read from a nested VERIS path; errors name that path (timeline.incident.day)."""
    return Field(validation_alias=AliasPath(*path), **constraints)


Known = Annotated[str | None, BeforeValidator(lambda v: None if _sentinel(v) else v)]
Terms = Annotated[list[str], BeforeValidator(_terms)]


class ActorDetail(BaseModel):
    variety: Terms = []
    motive: Terms = []
    country: Terms = []
    name: Terms = []


class VerisIncident(BaseModel):
    """The parts of a VERIS record cyberlog uses, flattened; the rest stays in the source."""

    incident_id: Annotated[Text, AfterValidator(str.lower)]
    security_incident: Literal["Confirmed", "Suspected", "Near miss", "False positive"]
    summary: Known = None
    reference: Known = None
    year: Annotated[int, _at("timeline", "incident", "year", ge=1950, le=2050)]
    month: Annotated[int | None, _at("timeline", "incident", "month", ge=1, le=12)] = None
    day: Annotated[int | None, _at("timeline", "incident", "day", ge=1, le=31), AfterValidator(_day)] = None
    time: Annotated[Known, _at("timeline", "incident", "time"), AfterValidator(_clock)] = None
    victim_id: Annotated[Known, _at("victim", "victim_id")] = None
    victim_country: Annotated[Terms, _at("victim", "country")] = []
    industry: Annotated[str | None, _at("victim", "industry"), BeforeValidator(_naics)] = None
    external: Annotated[ActorDetail | None, _at("actor", "external")] = None
    internal: Annotated[ActorDetail | None, _at("actor", "internal")] = None
    partner: Annotated[ActorDetail | None, _at("actor", "partner")] = None
    hacking: Annotated[Terms | None, _at("action", "hacking", "variety")] = None
    malware: Annotated[Terms | None, _at("action", "malware", "variety")] = None
    social: Annotated[Terms | None, _at("action", "social", "variety")] = None
    integrity: Annotated[Terms, _at("attribute", "integrity", "variety")] = []
    data_disclosure: Annotated[Known, _at("attribute", "confidentiality", "data_disclosure")] = None
    modified: Annotated[TimeValue | None, _at("plus", "modified"), BeforeValidator(_modified)] = None
    created: Annotated[TimeValue | None, _at("plus", "created"), BeforeValidator(_modified)] = None
    _started: TimeValue = PrivateAttr()
    _basis: str = PrivateAttr()

    @model_validator(mode="after")
    def _when(self, info: ValidationInfo) -> Self:
        """The time of day has no zone: it counts only when the source declares one."""
        zone = (info.context or {}).get("zone")
        date = f"{self.year:04d}" + "".join(f"-{n:02d}" for n in (self.month, self.day) if n is not None)
        clock = self.time if self.day is not None and zone is not None else None
        self._started = parse_time(f"{date}T{clock}" if clock else date, zone)
        ignored = f" (time of day ignored: {'no time zone' if zone is None else 'no day'})"
        self._basis = "VERIS timeline.incident" + (ignored if self.time and not clock else "")
        return self


@cache
def _naics_table() -> dict[str, Sector]:
    text = resources.files("ingest").joinpath("data/naics_sectors.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["prefix"]: row["sector"] for row in rows}  # type: ignore[misc]


def _naics_prefix(code: str) -> Sector | None:
    table = _naics_table()
    return next((table[code[:n]] for n in range(len(code), 1, -1) if code[:n] in table), None)


def naics_sector(code: str | None) -> Sector | None:
    """The sector of a NAICS code (`data/naics_sectors.csv`, longest prefix wins), else `other`."""
    return (_naics_prefix(code) or "other") if code else None


def _attack_types(r: VerisIncident) -> tuple[AttackType, ...]:
    """Action and integrity varieties through the vocabulary; hacking that names nothing
    more specific is an intrusion; malware and social ones that map to nothing are `other`."""
    found: list[AttackType] = []
    for category, varieties in (("hacking", r.hacking), ("malware", r.malware), ("social", r.social)):
        mapped = [t for t in map(vocab.attack_type, varieties or []) if t]
        found += mapped or (["intrusion"] if category == "hacking" and varieties is not None else [])
    found += [t for t in map(vocab.attack_type, r.integrity) if t]
    found += ["data_leak"] if r.data_disclosure == "Yes" else []
    return tuple(dict.fromkeys(found)) or ("other",)


def _unmapped_actions(r: VerisIncident) -> tuple[str, ...]:
    """Malware and social varieties the vocabulary does not map. Not hacking ones (their
    category makes them an intrusion), nor integrity ones (effects, read only for what they
    may add)."""
    return vocab.attack_types([*(r.malware or []), *(r.social or [])])[1]


def _title(r: VerisIncident, attack_types: tuple[AttackType, ...]) -> str:
    """VERIS has no title: the summary's first sentence, cut at a word near 100 characters."""
    if not r.summary:
        return f"{r.victim_id or 'Unknown victim'}: {', '.join(attack_types)}"
    first = re.split(r"(?<=[.!?])\s", " ".join(r.summary.split()), maxsplit=1)[0].rstrip(".")
    return first if len(first) <= 100 else first[:101].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _targets(r: VerisIncident) -> tuple[Target, ...]:
    sector = naics_sector(r.industry)
    if not (r.victim_id or r.victim_country or sector):
        return ()
    places = [countries.normalise(c) for c in r.victim_country] or [(None, None)]
    unmapped = (r.industry,) if r.industry and not _naics_prefix(r.industry) else ()  # a code to add to the table
    return tuple(Target(r.victim_id, None, code, sector, raw, unmapped_sectors=unmapped) for code, raw in places)


def _actor(category: str, a: ActorDetail) -> Actor:
    kind = ", ".join(a.variety) or None
    name = ", ".join(a.name) or f"{category} actor" + (f": {kind}" if kind else "")
    country, raw = countries.normalise(a.country[0] if a.country else None)
    return Actor(name, "suspected", None, None, country, raw, kind, ", ".join(a.motive) or None)


def convert(r: VerisIncident) -> Incident:
    if r.security_incident == "False positive":
        raise Skip("VERIS security_incident False positive")
    attack_types = _attack_types(r)
    url = re.search(r"https?://[^\s;]+", r.reference or "")
    actors = {"external": r.external, "internal": r.internal, "partner": r.partner}  # actor.unknown: none
    # the record was written (plus.created, else last modified) after the incident began
    written = min((t.at for t in (r.created, r.modified) if t), default=None)
    started, bound = bounded(r._started, written)
    return Incident(
        source_ref=r.incident_id,
        title=_title(r, attack_types),
        description=r.summary,
        attack_types=attack_types,
        started=started,
        ended=None,
        evidence=EVIDENCE[r.security_incident],
        severity=None,  # impact.overall_rating (Painful, Damaging ...) is not a severity scale
        url=url.group().rstrip(".,)") if url else None,
        targets=_targets(r),
        actors=tuple(_actor(category, a) for category, a in actors.items() if a),
        source_modified=r.modified.at if r.modified else None,
        time_basis=f"{r._basis}; {bound}" if bound else r._basis,
        unmapped_attack_types=_unmapped_actions(r),
    )


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    return read_json(path, progress, encoding)


_KEYS = (re.compile(rb'"security_incident"\s*:'), re.compile(rb'"timeline"\s*:'))
_BUNDLE = re.compile(rb'"type"\s*:\s*"bundle"')


def sniff(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return start in (b"{", b"[") and all(k.search(head) for k in _KEYS) and not _BUNDLE.search(head)


FORMAT = Format(
    "veris",
    "incident",
    "VERIS / VCDB incident JSON (schema 1.3.x, 1.4): one object, or an array such as vcdb.json",
    "veris",
    VerisIncident,
    convert,
    read,
    sniff,
)
