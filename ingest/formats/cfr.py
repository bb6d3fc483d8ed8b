"""CFR Cyber Operations Tracker, its CSV export: one row per state-sponsored operation.

CFR gives no id, so `source_ref` is a short hash of the title and the date: a row whose
title CFR corrects becomes a new incident. The export replaced every non-ASCII character
with "??" ("Russia??s"); that text is kept as written. Where the damage broke the CSV
quoting, columns shift, so `Type` and `Category` are checked against CFR's own
vocabularies and a shifted row is rejected instead of stored with a URL as its type.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator
from pydantic_core import PydanticCustomError

from ingest.canon import countries
from ingest.canon.records import Actor, ActorRole, AttackType, Incident, Sector, Target
from ingest.canon.times import TimeValue, parse_time
from ingest.formats.base import Format, OptText, Text, csv_layout

TYPES: dict[str, AttackType] = {
    "Espionage": "intrusion",
    "Sabotage": "other",
    "Denial of service": "ddos",
    "Data destruction": "wiper",
    "Financial Theft": "intrusion",
    "Defacement": "defacement",
    "Doxing": "data_leak",
}
CATEGORIES: dict[str, Sector] = {
    "Government": "government",
    "Private sector": "other",
    "Civil society": "other",
    "Military": "military",
}
_SHIFTED = "the row's columns look shifted (broken quoting in the source)"
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_BELIEVED = re.compile(r"(?i)^believed to be the work of\s+")
_RESPONSE = re.compile(r"(?P<kind>.*?)\s*(?P<url>https?://\S+)?\s*")


def _us_date(value: Any) -> TimeValue:
    match = _US_DATE.fullmatch(str(value).strip())
    try:
        day = date(int(match[3]), int(match[1]), int(match[2])) if match else None
    except ValueError:
        day = None
    if day is None:
        raise PydanticCustomError("date", "'{value}' is not a date in M/D/YYYY form, e.g. 2/16/2022", {"value": value})
    return parse_time(day.isoformat(), None, "day")  # a day with no zone: that UTC day


def _one_of(vocabulary: dict[str, Any], listed: bool = False) -> AfterValidator:
    """CFR's own vocabulary for the column; anything else means the columns shifted."""

    def check(value: str | None) -> str | None:
        for item in (value.split(",") if listed else [value]) if value else ():
            if item.strip() not in vocabulary:
                raise PydanticCustomError(
                    "shifted",
                    "'{value}' is not one of {known}: " + _SHIFTED,
                    {"value": value, "known": ", ".join(vocabulary)},
                )
        return value

    return AfterValidator(check)


class CfrOperation(BaseModel):
    """A row of the export, columns as CFR names them."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    Title: Text
    Date: Annotated[TimeValue, PlainValidator(_us_date)]
    Affiliations: OptText = None
    Description: OptText = None
    Response: OptText = None
    Victims: OptText = None
    Sponsor: OptText = None
    Type: Annotated[Text, _one_of(TYPES)]
    Category: Annotated[OptText, _one_of(CATEGORIES, listed=True)] = None
    Sources_1: OptText = None
    Sources_2: OptText = None
    Sources_3: OptText = None


def country_list(text: str) -> list[tuple[str | None, str | None]]:
    """Comma-joined country names, each as `countries.normalise` gives it; a comma inside
    a name ("Korea, Republic of") is kept by trying each item with the next one first."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    found = []
    while parts:
        taken = 2 if len(parts) > 1 and countries.lookup(", ".join(parts[:2])) else 1
        found.append(countries.normalise(", ".join(parts[:taken])))
        del parts[:taken]
    return found


def targets(victims: str | None, sectors: list[Sector]) -> tuple[Target, ...]:
    """Victims that are all countries: each country in each sector. Any other text is one
    organisation, named by the whole text (never split on commas: names have commas too),
    in the first sector; the further sectors become targets of their own."""
    named = country_list(victims) if victims else []
    if named and all(code for code, _ in named):
        each: list[Sector | None] = [*sectors] or [None]
        return tuple(Target(None, None, code, sector, raw) for code, raw in named for sector in each)
    if not victims:
        return tuple(Target(None, None, None, sector) for sector in sectors)
    first = Target(victims, None, None, sectors[0] if sectors else None)
    return (first, *(Target(None, None, None, sector) for sector in sectors[1:]))


def actors(affiliations: str | None, sponsor: str | None, role: ActorRole) -> tuple[Actor, ...]:
    """One actor per affiliation, from the sponsor's country when there is one sponsor; a
    sponsor not given to an affiliation is an actor of its own ("Belarus (state sponsor)")."""
    names = [name.strip() for name in _BELIEVED.sub("", affiliations or "").split(",") if name.strip()]
    sponsors = country_list(sponsor) if sponsor else []
    if names and len(sponsors) == 1:
        return tuple(Actor(name, role, None, None, *sponsors[0]) for name in names)
    return (
        *(Actor(name, role, None, None) for name in names),
        *(
            Actor(f"{raw or code} (state sponsor)", role, None, None, code, raw, "state sponsor")
            for code, raw in sponsors
        ),
    )


def convert(row: CfrOperation) -> Incident:
    response = _RESPONSE.fullmatch(row.Response or "")
    assert response is not None  # the pattern matches any text
    links = [html.unescape(s) for s in (row.Sources_1, row.Sources_2, row.Sources_3, response["url"]) if s]
    sectors = [CATEGORIES[item.strip()] for item in row.Category.split(",")] if row.Category else []
    role: ActorRole = "attributed" if response["kind"] == "Confirmation" else "suspected"
    key = f"{row.Title}\x1f{row.Date.at.date().isoformat()}".encode()
    return Incident(
        source_ref=hashlib.blake2b(key, digest_size=8).hexdigest(),
        title=row.Title,
        description=row.Description,
        attack_types=(TYPES[row.Type],),
        started=row.Date,
        ended=None,
        evidence="reported",
        severity=None,
        url=next((link for link in links if link.startswith(("http://", "https://"))), None),
        targets=targets(row.Victims, list(dict.fromkeys(sectors))),
        actors=actors(row.Affiliations, row.Sponsor, role),
    )


FORMAT = Format(
    "cfr_tracker",
    "incident",
    "CFR Cyber Operations Tracker CSV export (one row per operation)",
    "cfr",
    CfrOperation,
    convert,
    *csv_layout(CfrOperation),
    tabular=True,
)
