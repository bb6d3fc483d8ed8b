"""VIINA (Violent Incident Information from News Articles, Ukraine 2022-): an `event_labels_*`
file, joined on `event_id` with the `event_info_*` file beside it (place, outlet, URL, headline).

A row is one (news report, geocoded place) pair labelled by VIINA's classifier. The `_b`
flags decide what it becomes, never the probabilities (VIINA's cutoffs differ per label):
`t_cyber` an incident (a lead: the label is weak), `t_san` a sanction, `t_mil` or a combat
tactic a military event; a row with none is skipped. `date`/`time` are when the report was
published, in a zone VIINA does not state: a record holds the report's day, ended early by
the publication minute only when the source's zone is declared.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, create_model, model_validator
from pydantic_core import PydanticCustomError

from ingest.canon.records import Actor, DiplomaticEvent, EventClass, EventDetail, Incident, Skip
from ingest.canon.times import TimeValue, bounded, parse_time
from ingest.errors import FileUnreadable
from ingest.formats.base import Format, HeaderSniff, Latitude, Longitude, OptText, Text, Url
from ingest.inputs import archives
from ingest.inputs.readers import RawRecord, csv_header, peek, read_csv

ACTORS = ("a_rus", "a_ukr", "a_rus_init", "a_ukr_init", "a_civ", "a_other")
TOPICS = (
    *("t_mil", "t_loc", "t_san", "t_aad", "t_airstrike", "t_uav", "t_airalert", "t_armor", "t_arrest"),
    *("t_artillery", "t_control", "t_firefight", "t_ied", "t_raid", "t_occupy", "t_property", "t_cyber"),
    *("t_hospital", "t_milcas", "t_civcas", "t_retreat"),
)
LABELS = ACTORS + TOPICS
# a military event: the war label, or a tactic of combat (not alerts, arrests, damage or casualties alone)
COMBAT = frozenset(
    ("t_mil", "t_aad", "t_airstrike", "t_uav", "t_armor", "t_artillery", "t_firefight", "t_ied", "t_raid", "t_occupy")
) | {"t_retreat"}
WORDS = {"t_mil": "military", "t_san": "sanctions", "t_aad": "air defence", "t_uav": "drone", "t_ied": "mine/IED"}
WORDS |= {"t_airalert": "air alert", "t_milcas": "military casualties", "t_civcas": "civilian casualties"}
SIDES = (("a_rus", "RUS", "Russia"), ("a_ukr", "UKR", "Ukraine"))
KEYS = ("viina_version", "event_id", "event_id_1pd", "date", "time", "geonameid")
INFO = (
    *("feature_code", "asciiname", "ADM1_NAME", "ADM1_CODE", "ADM2_NAME", "ADM2_CODE", "longitude", "latitude"),
    *("GEO_PRECISION", "GEO_API", "location", "address", "report_id", "source", "url", "text", "lang"),
)
FLAGS = frozenset(f"{label}_b" for label in LABELS)
PROBABILITIES = frozenset(LABELS) | {f"{label}_pred" for label in LABELS}
COLUMNS = frozenset(KEYS + INFO) | FLAGS | PROBABILITIES | {"tid"}  # tid: undocumented, not read
INFO_COLUMNS = frozenset(KEYS + INFO)
REQUIRED = frozenset({"event_id", "date", "geonameid"})
INFO_ONLY = "event info: read with its event_labels file"
NOT_FOR_US = "no cyber, sanction or kinetic label (VIINA _b flags)"
Joined = Literal["joined", "in file", "no row", "no file"]
NOTES = {"no row": "no event_info row", "no file": "no event_info file"}
_STAMP = re.compile(r"(?:[A-Za-z]+_)?(\d{8})(\d{6})?\d*")
_DAY = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MINUTE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class Published:
    """The report's publication time as written (`HH:MM`) and, when the zone is declared, the instant."""

    text: str
    at: datetime | None
    unused: str | None = None  # why `at` is not known


def _stamp(value: Any) -> datetime:
    """`viina_version`, e.g. `bert_20240301024050`: the release's time (UTC assumed: it only orders releases)."""
    if match := _STAMP.fullmatch(str(value).strip()):
        try:
            return datetime.strptime(match[1] + (match[2] or "000000"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            pass
    raise PydanticCustomError(
        "viina_version", "'{value}' is not a VIINA release stamp, e.g. bert_20240301024050", {"value": value}
    )


def _day(value: Any, info: ValidationInfo) -> TimeValue:
    """`date`, an integer YYYYMMDD: the report's day, in the source's declared zone or else UTC."""
    match = _DAY.fullmatch(str(value).strip())
    if not match:
        raise PydanticCustomError("date", "'{value}' is not a date in YYYYMMDD form (20220215)", {"value": value})
    return parse_time("-".join(match.groups()), (info.context or {}).get("zone"), "day")


def _published(value: Any, info: ValidationInfo) -> Published:
    """`time`, HH:MM. `00:00` is VIINA's "time not known" as much as midnight: it bounds nothing."""
    text = str(value).strip()
    if not _MINUTE.fullmatch(text):
        raise PydanticCustomError("time", "'{value}' is not a time in HH:MM form (09:15)", {"value": value})
    zone, day = (info.context or {}).get("zone"), info.data.get("day")
    if zone is None or day is None or text == "00:00":
        return Published(text, None, "zone not stated" if zone is None else "00:00: VIINA's unknown time")
    local = day.at.astimezone(zone).replace(hour=int(text[:2]), minute=int(text[3:]))
    return Published(text, local.astimezone(UTC))


def _flag(value: Any) -> int:
    if str(value).strip() not in ("0", "1"):
        raise PydanticCustomError("flag", "'{value}' is not a VIINA binary label: 0 or 1", {"value": value})
    return int(value)


class ViinaReport(BaseModel):
    """A labels row and its event_info columns; the label columns are added below."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    viina_version: Annotated[datetime, PlainValidator(_stamp)] | None = None
    event_id: Text
    event_id_1pd: OptText = None
    day: Annotated[TimeValue, PlainValidator(_day)] = Field(alias="date")
    time: Annotated[Published, PlainValidator(_published)] | None = None
    geonameid: Annotated[int, Field(ge=1)] | None = None
    asciiname: OptText = None
    adm1_name: OptText = Field(None, alias="ADM1_NAME")
    latitude: Latitude = None
    longitude: Longitude = None
    geo_precision: OptText = Field(None, alias="GEO_PRECISION")
    place_index: OptText = Field(None, alias="location")
    report_id: OptText = None
    source: OptText = None
    url: Url = None
    text: OptText = None
    lang: OptText = None
    info: Joined = Field("in file", alias="viina_info")  # set by the reader: how the event_info row was found

    @model_validator(mode="before")
    @classmethod
    def _absent(cls, data: Any) -> Any:
        """`NA` (R's absent value) is an absent cell, like a blank one."""
        if isinstance(data, dict):
            return {name: cell for name, cell in data.items() if not (isinstance(cell, str) and cell.strip() == "NA")}
        return data

    def flagged(self) -> list[str]:
        return [label for label in LABELS if getattr(self, f"{label}_b") == 1]

    def probability(self, label: str) -> float | None:
        found: float | None = getattr(self, label)
        return found if found is not None else getattr(self, f"{label}_pred")


Flag = Annotated[int, PlainValidator(_flag)] | None
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None
_LABEL_FIELDS: dict[str, Any] = {f"{label}_b": (Flag, None) for label in LABELS}
_LABEL_FIELDS |= {name: (Probability, None) for label in LABELS for name in (label, f"{label}_pred")}
ViinaRow = create_model("ViinaRow", __base__=ViinaReport, **_LABEL_FIELDS)


def _place(row: ViinaReport) -> str | None:
    return ", ".join(part for part in (row.asciiname, row.adm1_name) if part) or None


def _title(row: ViinaReport, flagged: list[str]) -> str:
    """`VIINA military, artillery at Shchastya, Luhans'k: <headline>`."""
    what = ", ".join(WORDS.get(label, label[2:]) for label in flagged if label.startswith("t_") and label != "t_loc")
    where = _place(row) or (f"geonameid {row.geonameid}" if row.geonameid else None)
    return f"VIINA {what}" + (f" at {where}" if where else "") + (f": {row.text}" if row.text else "")


def _description(row: ViinaReport, flagged: list[str], bound: str | None) -> str:
    """The labels VIINA set (with their probabilities), its ids, place and publication, compactly."""
    shown = [f"{label} {p:.3g}" if (p := row.probability(label)) is not None else label for label in flagged]
    parts = [f"labels: {', '.join(shown)}", f"event_id {row.event_id}"]
    parts += [f"event_id_1pd {row.event_id_1pd}"] if row.event_id_1pd else []
    outlet = ", ".join(part for part in (row.source, row.lang) if part)
    if row.report_id:
        parts.append(f"report {row.report_id}" + (f" ({outlet})" if outlet else ""))
    if row.place_index:
        parts.append(f"place {row.place_index} of the report")
    if row.geonameid:
        parts.append(f"geonameid {row.geonameid}" + (f" ({row.geo_precision})" if row.geo_precision else ""))
    if row.time:
        local = row.day.at + (row.day.latest - row.day.at) / 2  # midday: the date as written, in any zone
        when = f"{row.time.at:%Y-%m-%dT%H:%MZ}" if row.time.at else f"not used: {row.time.unused}"
        parts.append(f"published {local:%Y-%m-%d} {row.time.text} ({when})")
    parts += [bound] if bound else []
    parts += [NOTES[row.info]] if row.info in NOTES else []
    return "; ".join(parts)


def _detail(row: ViinaReport, flagged: list[str], kinetic: bool) -> EventDetail:
    """A military event's sides (the initiating one first) and place; a sanction's are neither:
    VIINA does not say who imposes it, and the town a report names is not where it happened."""
    involved = [side for side in SIDES if kinetic and (side[0] in flagged or f"{side[0]}_init" in flagged)]
    actors: dict[str, Any] = {}
    for n, (label, code, name) in enumerate(sorted(involved, key=lambda side: f"{side[0]}_init" not in flagged), 1):
        init = f"{label}_init" in flagged
        actors |= {f"actor{n}": name, f"actor{n}_code": f"{label}_init" if init else label}
        actors |= {f"actor{n}_country": code, f"actor{n}_role": "initiator" if init else "involved"}
    detail = EventDetail(**actors, recorded_at=row.time.at if row.time else None)
    if not kinetic:
        return detail
    place = "UKR" if row.geonameid else None  # VIINA geocodes to its gazetteer of Ukrainian places
    return replace(
        detail,
        location_country=place,
        latitude=row.latitude,
        longitude=row.longitude,
        location_precision=row.geo_precision,
    )


def _incident(row: ViinaReport, flagged: list[str], started: TimeValue, bound: str | None) -> Incident:
    """A t_cyber lead. A side VIINA's classifier says initiated it is a suspect, by that label alone."""
    suspects = tuple(
        Actor(f"unnamed actor (VIINA {label}_init)", "suspected", "VIINA classifier", None, country=code)
        for label, code, _ in SIDES
        if f"{label}_init" in flagged
    )
    return Incident(
        source_ref=f"viina:{row.event_id}",
        title=_title(row, flagged),
        description=_description(row, flagged, None),
        attack_types=("other",),
        started=started,
        ended=None,
        evidence="reported",
        severity=None,
        url=row.url,
        actors=suspects,
        source_modified=row.viina_version,
        time_basis="report publication" + (f"; {bound}" if bound else ""),
        unmapped_attack_types=("t_cyber",),
    )


def convert(row: ViinaReport) -> Incident | DiplomaticEvent:
    flagged = row.flagged()
    occurred, bound = bounded(row.day, row.time.at if row.time else None)
    if "t_cyber" in flagged:
        return _incident(row, flagged, occurred, bound)
    event_class: EventClass
    if "t_san" in flagged:
        event_class = "sanction"
    elif any(label in flagged for label in COMBAT):
        event_class = "military"
    else:
        raise Skip(NOT_FOR_US)
    kinetic = event_class == "military"
    detail = _detail(row, flagged, kinetic)
    return DiplomaticEvent(
        source_ref=f"viina:{row.event_id}",
        occurred=occurred,
        title=_title(row, flagged),
        event_class=event_class,
        cameo_code=None,
        actor_countries=tuple(sorted(c for c in (detail.actor1_country, detail.actor2_country) if c))
        if kinetic
        else (),
        location=_place(row) if kinetic else None,
        url=row.url,
        description=_description(row, flagged, bound),
        source_modified=row.viina_version,
        detail=detail,
    )


# Reading: the labels file, joined with its event_info sibling --------------------------


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """The records of a labels file (packed or not: its sibling is found beside `path`), an
    early single events file, or an event_info file alone (every row skipped)."""
    with tempfile.TemporaryDirectory(prefix="cyberlog-viina-") as work:
        plain = archives.unpack(path, Path(work))
        header = set(csv_header(peek(plain, 1 << 16)) or ())
        records = read_csv(plain, encoding=encoding, columns=COLUMNS, required=REQUIRED, progress=progress)
        if not header & FLAGS:  # an event_info file alone: its rows are read with the labels
            yield from (replace(r, fields=None, skip=INFO_ONLY) if r.fields is not None else r for r in records)
        elif "report_id" in header or "url" in header:  # an early events_<stamp>.csv: info and labels in one
            yield from records
        else:
            yield from _joined(records, sibling(path), encoding)


def sibling(path: Path) -> Path | None:
    """The event_info file beside an event_labels file: the same name, `event_info` for
    `event_labels`, as a CSV, a zip or gzipped."""
    if "event_labels" not in path.name:
        return None
    name = path.name.replace("event_labels", "event_info", 1)
    stem = name.removesuffix(".gz").removesuffix(".zip").removesuffix(".csv")
    found = [path.with_name(n) for n in (name, f"{stem}.csv", f"{stem}.zip", f"{stem}.csv.gz") if n]
    return next((candidate for candidate in found if candidate.is_file()), None)


def _joined(records: Iterable[RawRecord], info_path: Path | None, encoding: str) -> Iterator[RawRecord]:
    info = _info_rows(info_path, encoding) if info_path else None
    for record in records:
        if record.fields is None:
            yield record
            continue
        row = info.get(str(record.fields.get("event_id", "")).strip()) if info is not None else None
        state: Joined = "no file" if info is None else "joined" if row is not None else "no row"
        yield replace(record, fields={**(row or {}), **record.fields, "viina_info": state})


def _info_rows(path: Path, encoding: str) -> dict[str, dict[str, Any]]:
    """event_id -> the event_info columns the labels lack (the first row of an id wins)."""
    found: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="cyberlog-viina-") as work:
            plain = archives.unpack(path, Path(work))
            for record in read_csv(plain, encoding=encoding, columns=INFO_COLUMNS, required=frozenset({"event_id"})):
                key = str((record.fields or {}).get("event_id", "")).strip()
                if key and key not in found:
                    found[key] = {name: cell for name, cell in (record.fields or {}).items() if name in INFO}
    except FileUnreadable as exc:
        raise FileUnreadable(f"its event info file {path.name}: {exc.message}", path=path) from None
    except (OSError, UnicodeError) as exc:
        raise FileUnreadable(f"cannot read its event info file {path.name}: {exc}", path=path) from None
    return found


FORMAT = Format(
    "viina",
    "event",
    "VIINA event_labels CSV (Ukraine 2022-), joined with its event_info file; "
    "cyber rows as incidents, sanctions, military events",
    "viina",
    ViinaRow,
    convert,
    read,
    HeaderSniff(COLUMNS, REQUIRED),
    mixed=True,  # a t_cyber row is an incident
    reads_archives=True,  # a zipped labels file finds its zipped event_info file beside it
)
