"""MISP events: one incident per event, from a single event file (`{"Event": ...}` or bare),
a JSON array of events, a REST search result (`{"response": [...]}`), or a MISP feed folder
(`manifest.json` + `<uuid>.json`, see `ingest.inputs.misp_feed`).

The event `uuid` is the identity and its `timestamp` the version: a newer timestamp
updates the stored incident in place, an older copy never overwrites a newer one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from ingest.canon import countries, vocab
from ingest.canon.records import Actor, Incident, Severity, Target
from ingest.canon.times import ISO, TimeValue, bounded, parse_time
from ingest.errors import FileUnreadable
from ingest.formats.base import Format, OptText, Text, domain_name
from ingest.inputs.json_stream import JsonDocument, top_kind
from ingest.inputs.misp_feed import MANIFEST, UUID, manifest_problem
from ingest.inputs.readers import RawRecord, json_text, open_json

_TAG = re.compile(r'^(?P<namespace>[^:="]+)(?::(?P<predicate>[^=]+))?(?:="?(?P<value>.*?)"?)?$')
_SEVERITY: dict[str, Severity] = {"1": "high", "2": "medium", "3": "low"}


def _epoch(value: Any) -> datetime:
    """MISP writes epoch seconds as strings ("1644973200"); PyMISP manifests as numbers."""
    try:
        # ASCII digits only: int() would also take " 12" and fullwidth digits
        if isinstance(value, bool) or not re.fullmatch("[0-9]+", str(value)):
            raise ValueError(value)
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (ValueError, OverflowError, OSError):
        raise PydanticCustomError(
            "epoch", "'{value}' is not a MISP timestamp: epoch seconds such as \"1644973200\"", {"value": value}
        ) from None


Epoch = Annotated[datetime, BeforeValidator(_epoch)]


def _seen(value: Any) -> TimeValue | None:
    """A first_seen or last_seen as precise as it is written. MISP stores a full timestamp
    and states no fidelity, so an analyst's "13:00" arrives as 13:00:00.000000: zeros at the
    end are not a claim to the second. 2022-02-15T13:00:00Z is that hour, 13:58:00 that
    minute, midnight that day; a time with seconds keeps them."""
    if value in (None, ""):
        return None
    text = str(value)
    if text != text.strip():
        raise PydanticCustomError("time_space", "'{value}' has spaces around it: not a MISP time", {"value": text})
    found = parse_time(text)
    written = ISO.fullmatch(text.strip())  # the clock as written, in the value's own offset
    if found.precision != "second" or not written or written["s"] != "00" or (written["f"] or "0").strip("0"):
        return found
    hour, minute = written["h"], written["mi"]
    precision = "day" if (hour, minute) == ("00", "00") else "hour" if minute == "00" else "minute"
    return parse_time(text, precision=precision)


def _date(value: Any) -> TimeValue:
    """The event's day, written exactly YYYY-MM-DD (ASCII digits, nothing around it)."""
    found = parse_time(str(value))  # not a time at all: says what a time looks like
    if not isinstance(value, str) or not re.fullmatch("[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError("misp_date", "'{value}' is not a MISP date: YYYY-MM-DD", {"value": str(value)})
    return found


Iso = Annotated[TimeValue | None, BeforeValidator(_seen)]
Deleted = Annotated[bool, BeforeValidator(lambda v: str(v).lower() in ("1", "true"))]


class MispTag(BaseModel):
    name: str


class MispCluster(BaseModel):
    value: str
    meta: dict[str, Any] = {}


class MispGalaxy(BaseModel):
    type: str = ""
    GalaxyCluster: list[MispCluster] = []


class MispAttribute(BaseModel):
    type: str
    category: str = ""
    value: str
    first_seen: Iso = None
    last_seen: Iso = None
    deleted: Deleted = False


class MispObject(BaseModel):
    Attribute: list[MispAttribute] = []
    deleted: Deleted = False


class Org(BaseModel):
    name: OptText = None


class MispEvent(BaseModel):
    uuid: Annotated[str, Field(pattern=UUID), AfterValidator(str.lower)]
    info: Text
    date: Annotated[TimeValue, BeforeValidator(_date)]
    timestamp: Epoch | None = None
    publish_timestamp: Epoch | None = None
    threat_level_id: str | None = None
    Orgc: Org | None = None
    Tag: list[MispTag] = []
    Galaxy: list[MispGalaxy] = []
    Attribute: list[MispAttribute] = []
    Object: list[MispObject] = []


def _tag_values(tags: list[MispTag]) -> dict[str, list[str]]:
    """Machine tags by namespace:predicate (`misp-galaxy:threat-actor="Sandworm"`)."""
    found: dict[str, list[str]] = {}
    for tag in tags:
        match = _TAG.match(tag.name.strip())
        if match and match["value"]:
            key = f"{match['namespace']}:{match['predicate']}" if match["predicate"] else match["namespace"]
            found.setdefault(key, []).append(match["value"])
    return found


def _clusters(event: MispEvent, kind: str) -> list[MispCluster]:
    tagged = [MispCluster(value=v) for v in _tag_values(event.Tag).get(f"misp-galaxy:{kind}", [])]
    attached = [c for g in event.Galaxy if g.type == kind for c in g.GalaxyCluster]
    names = {c.value for c in attached}
    return attached + [c for c in tagged if c.value not in names]


def _attributes(event: MispEvent) -> list[MispAttribute]:
    inside = [a for o in event.Object if not o.deleted for a in o.Attribute]
    return [a for a in [*event.Attribute, *inside] if not a.deleted]


def _targets(event: MispEvent, attributes: list[MispAttribute]) -> tuple[Target, ...]:
    places = [a.value for a in attributes if a.type == "target-location"]
    places += [c.value for c in _clusters(event, "country")]
    # a target-location attribute and a country galaxy tag usually name the same country
    # ("Ukraine", "ukraine"): one country, however many times and ways it is stated
    found: dict[str, tuple[str | None, str | None]] = {}
    for place in places:
        code, raw = countries.normalise(place)
        if code or raw:
            found.setdefault(code or (raw or "").casefold(), (code, raw))
    codes = list(found.values())
    sectors, unmapped = vocab.sectors(c.value for c in _clusters(event, "sector"))
    country, raw = codes[0] if len(codes) == 1 else (None, None)
    orgs = [a.value for a in attributes if a.type == "target-org"]
    hosts = [domain_name(a.value) for a in attributes if a.type == "target-machine"]
    if orgs or hosts:
        width = max(len(orgs), len(hosts))
        pad = [None] * width
        pairs = zip((orgs + pad)[:width], (hosts + pad)[:width], strict=True)
        named = [Target.of(org, host, country, raw, sectors, unmapped) for org, host in pairs]
        # several countries and no telling which organisation is where: each kept on its own
        apart = [Target.of(None, None, c, r, sectors, unmapped) for c, r in codes] if len(codes) > 1 else []
        return tuple(named + apart)
    places_or_none = codes or ([(None, None)] if sectors else [])  # a sector alone is a fact about the target too
    return tuple(Target.of(None, None, code, raw, sectors, unmapped) for code, raw in places_or_none)


def _actors(event: MispEvent, attributes: list[MispAttribute], published: TimeValue | None) -> tuple[Actor, ...]:
    named = [MispCluster(value=a.value) for a in attributes if a.type == "threat-actor"]
    clusters = _clusters(event, "threat-actor") + named
    by = event.Orgc.name if event.Orgc else None
    actors: dict[str, Actor] = {}
    for cluster in clusters:
        origin = cluster.meta.get("country") or cluster.meta.get("cfr-suspected-state-sponsor")
        country, raw = countries.normalise(str(origin[0] if isinstance(origin, list) else origin) if origin else None)
        # dated by the event's publication: the attribution was public no later than that
        actors.setdefault(cluster.value, Actor(cluster.value, "attributed", by, published, country, raw, dated="by"))
    return tuple(actors.values())


# Galaxies read as the event's actors and targets, and taxonomies about handling the report
# rather than the attack: none of their words says what happened.
_NOT_ATTACK_GALAXIES = frozenset({"threat-actor", "mitre-intrusion-set", "country", "region", "sector"})
_NOT_ATTACK_TAXONOMIES = frozenset({"tlp", "pap", "workflow", "estimative-language", "admiralty-scale", "osint"})


def _attack_terms(event: MispEvent) -> list[tuple[str, ...]]:
    """The event's words for what happened: tag values, and each galaxy cluster (tagged or
    attached) with its galaxy's name, one term: a cluster of the ransomware galaxy is ransomware."""
    terms: dict[tuple[str, ...], None] = {}
    for key, values in _tag_values(event.Tag).items():
        namespace, _, predicate = key.partition(":")
        galaxy = predicate if namespace == "misp-galaxy" else None
        if namespace.casefold() in _NOT_ATTACK_TAXONOMIES or galaxy in _NOT_ATTACK_GALAXIES:
            continue
        terms.update(dict.fromkeys((v, galaxy) if galaxy else (v,) for v in values))
    for g in event.Galaxy:
        if g.type not in _NOT_ATTACK_GALAXIES:
            clusters: list[tuple[str, ...]] = [(c.value, g.type) for c in g.GalaxyCluster]
            terms.update(dict.fromkeys(clusters or [(g.type,)]))
    return list(terms)


def convert(event: MispEvent) -> Incident:
    attributes = _attributes(event)
    seen = [a.first_seen for a in attributes if a.first_seen]
    ended = [a.last_seen for a in attributes if a.last_seen]
    attack_types, unmapped = vocab.attack_types(_attack_terms(event))
    published = event.publish_timestamp if event.publish_timestamp and event.publish_timestamp.year > 1970 else None
    links = [a.value for a in attributes if a.type == "link" and a.value.startswith(("http://", "https://"))]
    # the event as last edited said the attack had started: its timestamp bounds the start
    # (not publish_timestamp: a first_seen may be added after publishing)
    edited = event.timestamp if event.timestamp and event.timestamp.year > 1970 else None
    started, bound = bounded(min(seen, key=lambda t: t.at) if seen else event.date, edited)
    basis = "MISP attribute first_seen" if seen else "MISP event date (entered by the analyst)"
    return Incident(
        source_ref=event.uuid,
        title=event.info,
        description=next((a.value for a in attributes if a.type == "text"), None),
        attack_types=attack_types,
        started=started,
        ended=max(ended, key=lambda t: t.latest) if ended else None,
        evidence="reported",
        severity=_SEVERITY.get(event.threat_level_id or ""),
        url=links[0] if links else None,
        targets=_targets(event, attributes),
        actors=_actors(event, attributes, parse_time(published.isoformat()) if published else None),
        source_modified=event.timestamp,
        time_basis=f"{basis}; {bound}" if bound else basis,
        unmapped_attack_types=unmapped,
    )


def read_events(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """Each event of the file, unwrapped from `{"Event": ...}`, with its JSON pointer, read
    one at a time: an array of events, or a search result (`{"response": [...]}`, as MISP's
    restSearch writes it) of any size. A document that is not an object or an array, or
    is malformed, fails the file."""
    with open_json(path, progress, encoding) as (stream, _first):
        document = JsonDocument(stream, path)
        event, _ = document.next()
        if event == "start_array":
            for pointer, value, problem in document.items(""):
                yield from _read(value, pointer, problem)
        elif event == "start_map":
            yield from _object(document)
        else:
            kind = top_kind(event)
            raise FileUnreadable(
                f"a MISP file is an event, an array of events or a search result; this is {kind}", path=path
            )
        document.end()


def _object(document: JsonDocument) -> Iterator[RawRecord]:
    """A top-level object. A search result's `response` array is read an event at a time
    wherever it stands: the members before it (a search result's few small ones) are built,
    those after it checked and left, as a search result's are. Any other object (one event)
    is built whole and unwrapped. A member that cannot be read, or a key given twice, refuses
    the whole object, as one reject."""
    root: dict[str, Any] = {}
    while True:
        event, key = document.next()
        if event == "end_map":
            yield from _unwrap(root, "")
            return
        event, scalar = document.next()
        if key == "response" and event == "start_array" and key not in root:
            for pointer, value, problem in document.items("/response"):
                yield from _read(value, pointer, problem)
            root["response"] = []  # read
            _, problem = document.rest(root, "")
            if problem:
                yield RawRecord(None, "", "", None, problem)
            return
        if key in root:
            yield RawRecord(None, "", "", None, document.given_twice(key, event, ""))
            return
        root[key], problem = document.value(event, scalar, f"/{key}")
        if problem:
            document.skip()  # the rest of the object
            yield RawRecord(None, "", "", None, problem)
            return


def _read(value: Any, pointer: str, problem: str | None) -> Iterator[RawRecord]:
    """What the document gave at `pointer`: its events, or a reject saying why it could not be read."""
    if problem is not None:
        yield RawRecord(None, pointer, "", None, problem)
    else:
        yield from _unwrap(value, pointer)


def _unwrap(value: Any, pointer: str) -> Iterator[RawRecord]:
    if isinstance(value, dict) and isinstance(value.get("response"), list):
        for i, item in enumerate(value["response"]):
            yield from _unwrap(item, f"{pointer}/response/{i}")
    elif isinstance(value, dict) and isinstance(value.get("Event"), dict):
        yield RawRecord(None, f"{pointer}/Event", "", value["Event"])
    elif isinstance(value, dict):
        yield RawRecord(None, pointer, "", value)
    else:
        yield RawRecord(None, pointer, json.dumps(value)[:1000], None, "expected a MISP event (a JSON object)")


def read_feed_events(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """`read_events`, with a MISP feed folder's checks: its manifest.json, when it cannot be
    followed, fails as the file standing for the folder; an event file holds its own event."""
    if problem := manifest_problem(path):
        raise FileUnreadable(problem, path=path)
    records = read_events(path, encoding, progress)
    named = _feed_event(path)
    return records if named is None else _named(records, named, path.name)


def _feed_event(path: Path) -> str | None:
    """The event uuid a feed folder's `<uuid>.json` is named for, else None."""
    named = re.fullmatch(UUID, path.stem)
    return path.stem.lower() if named and (path.parent / MANIFEST).exists() else None


def _named(records: Iterator[RawRecord], uuid: str | None, name: str) -> Iterator[RawRecord]:
    """A feed's event file holds the event it is named for: another is a reject saying so."""
    for record in records:
        found = record.fields.get("uuid") if record.fields is not None and uuid else None
        if isinstance(found, str) and found.lower() != uuid:
            problem = f"event uuid {found[:60]!r} differs from its file name {name} in the MISP feed folder"
            yield RawRecord(record.line, record.pointer, json_text(record.fields), None, problem)
        else:
            yield record


_EVENT = re.compile(rb'"(?:Event|Orgc|threat_level_id|Attribute)"\s*:|"response"\s*:\s*\[')
_INFO, _UUID_KEY = re.compile(rb'"info"\s*:'), re.compile(rb'"uuid"\s*:')


def sniff(head: bytes) -> bool:
    """A JSON document naming MISP's own keys, or a bare event's `info` beside a `uuid`."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        return False
    return _EVENT.search(head) is not None or (_INFO.search(head) is not None and _UUID_KEY.search(head) is not None)


FORMAT = Format(
    "misp",
    "incident",
    "MISP events: one event, an array, a search result or a feed folder",
    "misp",
    MispEvent,
    convert,
    read_feed_events,
    sniff,
    batch=500,  # an event may carry thousands of attributes
)
