"""CISSM Cyber Events Database (University of Maryland), its 13-column CSV export.

The export has no record id and repeats some rows exactly: `source_ref` is a hash of the
row's cells, and the reader counts a later exact copy as skipped, so it is neither stored
twice nor rejected. A shifted row (an extra value after `motive`) is rejected by checking
`event_type` against CISSM's own words and `country` for a URL. Text that went through
UTF-8-read-as-cp1252 is repaired where the round trip undoes it; the description then
says what was written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator
from pydantic_core import PydanticCustomError

from ingest.canon import countries
from ingest.canon.records import Actor, AttackType, Incident, Sector, Target
from ingest.canon.times import TimeValue, parse_time
from ingest.formats.base import Format, HeaderSniff, OptText
from ingest.inputs.readers import RawRecord, read_csv

COLUMNS = (  # the export's header, in order
    "evtDate",
    "actor",
    "actor_type",
    "organization",
    "industry_code",
    "industry",
    "motive",
    "event_type",
    "event_subtype",
    "description",
    "source_url",
    "country",
    "actor_country",
)
EVENT_TYPES = ("Disruptive", "Exploitive", "Exploitative", "Mixed", "Undetermined", "Unknown")
SUBTYPES: dict[str, AttackType] = {  # singular, lower case; Harry & Gallagher's classification
    "external denial of service": "ddos",
    "message manipulation": "defacement",
    "exploitation of application server": "intrusion",
    "exploitation of end host": "intrusion",
    "exploitation of network infrastructure": "intrusion",
    "exploitation of sensor": "intrusion",
    "exploitation of data in transit": "intrusion",
    "data attack": "other",  # ransomware, a wiper or deletion: the export does not say which
    "internal denial of service": "other",
    "physical attack": "other",
}
SECTORS: dict[str, Sector] = {  # NAICS sector (first two digits); national security is inside 92
    "92": "government",
    "52": "finance",
    "22": "energy",
    "48": "transport",
    "49": "transport",
    "62": "health",
    "61": "education",
}
MISSING = frozenset({"undetermined", "unknown"})  # CISSM's words for "not known"; blanks are None already
BASIS = "reported or claimed date"
DUPLICATE = "exact duplicate of an earlier row"
_SHIFTED = "the row's columns look shifted (an extra value earlier in the row)"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CP1252_ONLY = {chr(b): b for b in range(0x80, 0xA0)}  # C1 controls: bytes cp1252 leaves undefined, or read as latin-1
# a UTF-8 lead byte read as cp1252, then a continuation byte read so: what UTF-8-as-cp1252 leaves behind
_CONT = "".join(sorted({bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0xC0)}))
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{re.escape(_CONT)}]|[\u0080-\u009f]")
_IMPLAUSIBLE = re.compile(r"[a-z][\u00c0-\u00de][a-z]")  # "GuatemalaÍs": an upper-case letter inside a word


def _day(value: Any) -> TimeValue:
    text = str(value).strip()
    try:
        day = date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise PydanticCustomError(
            "date", "'{value}' is not a date in YYYY-MM-DD form, e.g. 2022-02-15", {"value": value}
        )
    return parse_time(day.isoformat(), None, "day")  # a day with no zone: that UTC day


def _event_type(value: str | None) -> str | None:
    if value is not None and value.casefold() not in {word.casefold() for word in EVENT_TYPES}:
        raise PydanticCustomError(
            "shifted", "'{value}' is not one of {known}: " + _SHIFTED, {"value": value, "known": ", ".join(EVENT_TYPES)}
        )
    return value


def _place(value: str | None) -> str | None:
    if value is not None and value.casefold().startswith(("http://", "https://", "www.")):
        raise PydanticCustomError("shifted", "'{value}' is a URL, not a country: " + _SHIFTED, {"value": value})
    return value


def _naics(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{2,6}", value):
        raise PydanticCustomError("naics", "'{value}' is not a NAICS code: 2 to 6 digits, e.g. 92", {"value": value})
    return value


Place = Annotated[OptText, AfterValidator(_place)]


class CissmEvent(BaseModel):
    """A row of the export, columns as CISSM names them."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    evtDate: Annotated[TimeValue, PlainValidator(_day)]
    actor: OptText = None
    actor_type: OptText = None
    organization: OptText = None
    industry_code: Annotated[OptText, AfterValidator(_naics)] = None
    industry: OptText = None
    motive: OptText = None
    event_type: Annotated[OptText, AfterValidator(_event_type)] = None
    event_subtype: OptText = None
    description: OptText = None
    source_url: OptText = None
    country: Place = None
    actor_country: Place = None


def repaired(text: str) -> tuple[str, bool]:
    """The text with UTF-8-read-as-cp1252 undone (as often as it was done), and whether it
    still looks garbled. A repair that leaves marks of the damage, or makes an upper-case
    letter inside a word, is no repair: the text is kept as written."""
    if text.isascii():
        return text, False
    fixed = text
    while True:
        try:
            step = bytes(_CP1252_ONLY[c] if c in _CP1252_ONLY else c.encode("cp1252")[0] for c in fixed).decode()
        except (UnicodeEncodeError, UnicodeDecodeError):  # a character cp1252 lacks, or not UTF-8
            break
        if step == fixed:
            break
        fixed = step
    if fixed != text and not _MOJIBAKE.search(fixed) and not _IMPLAUSIBLE.search(fixed):
        return fixed, False
    return text, bool(_MOJIBAKE.search(text))


def _known(value: str | None) -> str | None:
    """A coded value, or None for CISSM's Undetermined / Unknown."""
    return None if value is None or value.casefold() in MISSING else value


def country(value: str | None) -> tuple[str | None, str | None]:
    """(alpha-3 or None, the value as written): ISO short names, also with "(the Republic of)"."""
    code, _ = countries.normalise(_known(value))
    if code is None and value and "(the " in value:  # "Korea (the Republic of)": pycountry knows "Korea, Republic of"
        code = countries.lookup(value.replace("(the ", "("))
    return code, value if value != code else None


def attack_types(subtypes: str | None) -> tuple[tuple[AttackType, ...], tuple[str, ...]]:
    """Each comma-separated subtype mapped (singular or plural, any case); one CISSM does
    not have is `other`, and handed back as written."""
    found: dict[AttackType, None] = {}
    unmapped: dict[str, None] = {}
    for word in (part.strip() for part in (subtypes or "").split(",")):
        key = " ".join(word.casefold().split())
        key = key if key in SUBTYPES or key[-1:] != "s" else key[:-1]
        if key in SUBTYPES:
            found[SUBTYPES[key]] = None
        elif word and _known(word):
            found["other"], unmapped[word] = None, None
    return tuple(found) or ("other",), tuple(unmapped)


def _codes(row: CissmEvent) -> str:
    """CISSM's coded columns as written, for the record's description."""
    cells = [f"{name}: {getattr(row, name) or '(blank)'}" for name in ("event_type", "event_subtype", "actor_type")]
    cells += [
        f"motive: {row.motive or '(blank)'}",
        f"industry: {row.industry_code or ''} {row.industry or ''}".rstrip(),
    ]
    cells += [f"{name}: {getattr(row, name) or '(blank)'}" for name in ("country", "actor_country")]
    if row.source_url and not row.source_url.startswith(("http://", "https://")):
        cells.append(f"source_url: {row.source_url}")
    return "CISSM " + "; ".join(cells) + "."


def _texts(row: CissmEvent) -> tuple[dict[str, str | None], list[str]]:
    """The free-text cells repaired, and notes on what was repaired or left garbled."""
    texts: dict[str, str | None] = {}
    fixed, garbled = [], []
    for name in ("actor", "organization", "description"):
        value = getattr(row, name)
        texts[name], bad = repaired(value) if value else (value, False)
        if texts[name] != value:
            fixed.append(f"{name} {value!r}")
        elif bad:
            garbled.append(name)
    notes = [f"Repaired from UTF-8 read as cp1252; as written: {'; '.join(fixed)}."] if fixed else []
    notes += [f"Garbled text (mojibake) kept as written in: {', '.join(garbled)}."] if garbled else []
    return texts, notes


def convert(row: CissmEvent) -> Incident:
    texts, notes = _texts(row)
    types, unmapped = attack_types(row.event_subtype)
    code, raw = country(row.country)
    sector = SECTORS.get(row.industry_code[:2], "other") if row.industry_code else None
    unmapped_sectors = (row.industry or row.industry_code,) if sector == "other" and row.industry_code else ()
    organisation = _known(texts["organization"])
    target = Target.of(organisation, None, code, raw, (sector,) if sector else (), unmapped_sectors)
    name = _known(texts["actor"])
    actor_code, actor_raw = country(row.actor_country)
    kind, motive = _known(row.actor_type), _known(row.motive)
    actors = (Actor(name, "suspected", None, None, actor_code, actor_raw, kind, motive),) if name else ()
    first = next((part.strip() for part in (row.event_subtype or "").split(",") if _known(part.strip())), None)
    # line ends inside a cell as LF: the same row saved with CRLF is the same record
    key = "\x1f".join((getattr(row, name) or "").replace("\r\n", "\n") for name in COLUMNS if name != "evtDate")
    return Incident(
        source_ref=hashlib.blake2b(f"{row.evtDate.at.date()}\x1f{key}".encode(), digest_size=8).hexdigest(),
        title=f"{organisation or 'Undetermined organisation'}: {first or 'undetermined event'}",
        description="\n\n".join(filter(None, (texts["description"], _codes(row), *notes))),
        attack_types=types,
        started=row.evtDate,
        ended=None,
        evidence="reported",
        severity=None,
        url=row.source_url if row.source_url and row.source_url.startswith(("http://", "https://")) else None,
        targets=(target,) if organisation or code or raw or sector else (),
        actors=actors,
        time_basis=BASIS,
        unmapped_attack_types=unmapped,
    )


SNIFF = HeaderSniff(frozenset(COLUMNS), frozenset(COLUMNS))


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """The rows; a later exact copy of a row (the export repeats some) is counted as skipped."""
    seen: set[bytes] = set()
    for record in read_csv(path, encoding=encoding, columns=SNIFF.columns, required=SNIFF.required, progress=progress):
        if record.fields is not None:
            cells = "\x1f".join(str(record.fields.get(name, "")).strip().replace("\r\n", "\n") for name in COLUMNS)
            digest = hashlib.blake2b(cells.encode("utf-8", "surrogateescape"), digest_size=16).digest()
            if digest in seen:
                record = RawRecord(record.line, record.pointer, record.raw, record.fields, skip=DUPLICATE)
            seen.add(digest)
        yield record


FORMAT = Format(
    "cissm",
    "incident",
    "CISSM Cyber Events Database CSV export (13 columns, one row per event)",
    "cissm",
    CissmEvent,
    convert,
    read,
    SNIFF,
    tabular=True,
)
