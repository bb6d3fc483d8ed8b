"""Reading a STIX 2.1 bundle into one record per incident, with its graph folded in.

A STIX incident is a node: its victims, actors, attack patterns and times hang off it
through relationships, extension events, impacts and sightings anywhere in the bundle.
This reader streams the bundle object by object (ijson), keeps only the few properties
of the object types that can describe an incident (the newest `modified` of each id),
counts everything else by type, and then yields each incident, campaign, sighting or
incident report as one record: the object itself plus what the graph says about it.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ingest.canon.times import parse_time
from ingest.errors import FileUnreadable
from ingest.formats.stix_objects import RECORD_TYPES, StixObject, checked, envelope_problem, times_problem
from ingest.inputs.graph import Edges, NoRoom, ObjectGraph, Seen
from ingest.inputs.json_stream import JsonDocument, top_kind
from ingest.inputs.readers import RawRecord, json_text, open_json

CORE_EXT = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
ACTOR_TYPES = ("threat-actor", "intrusion-set")
CONTEXT_TYPES = ("identity", "location", *ACTOR_TYPES, "attack-pattern", "malware", "indicator", "event", "impact")
RELATIONSHIPS = {"targets", "impacts", "attributed-to", "uses", "related-to", "located-at", "originates-from"}
_KEEP = frozenset(
    (
        "id",
        "type",
        "name",
        "description",
        "created",
        "modified",
        "created_by_ref",
        "labels",
        "revoked",
        "first_seen",
        "last_seen",
        "sectors",
        "identity_class",
        "country",
        "region",
        "threat_actor_types",
        "primary_motivation",
        "malware_types",
        "start_time",
        "start_time_fidelity",
        "end_time",
        "end_time_fidelity",
        "stop_time",
        "event_types",
        "relationship_type",
        "source_ref",
        "target_ref",
        "sighting_of_ref",
        "where_sighted_refs",
        "sighting_refs",
        "report_types",
        "published",
        "object_refs",
        "aliases",
    )
)
_KEEP_CONTEXT = _KEEP - {"description", "object_refs", "labels"}
Obj = dict[str, Any]


def _kind(ref: Any) -> str:
    return ref.split("--", 1)[0] if isinstance(ref, str) else ""


def _trim(obj: Obj) -> Obj:
    """Only what an incident's assembly reads: a context object keeps no description."""
    # records keep their text; of the context, only an attributed-to link keeps its words
    # (they say whether it is a claim or a suspicion)
    wordy = obj.get("type") in RECORD_TYPES or obj.get("relationship_type") == "attributed-to"
    keep = _KEEP if wordy else _KEEP_CONTEXT
    kept = {key: value for key, value in obj.items() if key in keep}
    core = (obj.get("extensions") or {}).get(CORE_EXT) if isinstance(obj.get("extensions"), dict) else None
    if isinstance(core, dict):
        kept["core"] = core
    refs = obj.get("external_references")
    urls = (
        [r["url"] for r in refs if isinstance(r, dict) and isinstance(r.get("url"), str)]
        if isinstance(refs, list)
        else []
    )
    if urls:
        kept["url"] = urls[0]
    if obj.get("type") == "attack-pattern" and isinstance(refs, list):  # its ATT&CK or CAPEC id
        ids = [r["external_id"] for r in refs if isinstance(r, dict) and isinstance(r.get("external_id"), str)]
        if ids:
            kept["external_ids"] = ids
    return kept


_REFS = ("id", "type", "source_ref", "target_ref", "created_by_ref", "sighting_of_ref", "relationship_type")


def _compact(obj: StixObject) -> Obj:
    """The object without empty properties, its ids interned: a bundle repeats each id in
    many relationships and reports, and one copy of each string is enough."""
    kept: Obj = {key: value for key, value in obj.items() if value is not None}
    for key in _REFS:
        if isinstance(kept.get(key), str):
            kept[key] = sys.intern(kept[key])
    for key in ("object_refs", "where_sighted_refs", "sighting_refs"):
        if key in kept:
            kept[key] = [sys.intern(ref) for ref in kept[key]]
    return kept


def _wanted(obj: StixObject) -> str | None:
    """None when the object is kept, else the reason it is counted and left out."""
    kind = obj.get("type")
    if obj.get("revoked") is True:
        return f"STIX {kind} (revoked)"
    if kind == "relationship":
        if obj.get("relationship_type") in RELATIONSHIPS and _kind(obj.get("source_ref")) in (
            *RECORD_TYPES,
            *ACTOR_TYPES,
            "identity",
        ):
            return None
        return f"STIX relationship {obj.get('relationship_type')} (not used)"
    return None if kind in RECORD_TYPES or kind in CONTEXT_TYPES else f"STIX {kind} (not used)"


class _Bundle:
    """The objects of one bundle as they stream past: the newest version of each kept
    object (in `graph`), the others counted by why they were left out, the bad ones as
    rejects (in `graph` too: a bundle of a million bad objects is not held either)."""

    def __init__(self, graph: ObjectGraph) -> None:
        self.graph = graph
        self.skipped: Counter[str] = Counter()

    def take(self, index: int, raw: Any, problem: str | None) -> None:
        pointer = f"/objects/{index}"
        built = problem is None  # a value the reader refused was never built: no raw text
        if problem is None and not isinstance(raw, dict):
            problem = "not a STIX object: not a JSON object"
        problem = problem or envelope_problem(raw)
        obj, problem = (None, problem) if problem else checked(_trim(raw))
        if obj is None:
            self.graph.problem(pointer, json_text(raw) if built else "", problem)
            return
        reason = _wanted(obj)
        if reason:
            self.skipped[reason] += 1
            return
        problem = times_problem(obj)  # of a kept object only: an indicator's times are never read
        if problem:
            self.graph.problem(pointer, json_text(raw), problem)
            return
        self.graph.add(index, _compact(obj))

    def versions(self) -> Counter[str]:
        """The older versions left out, by type: each id is kept once, at its newest `modified`."""
        return Counter(
            {f"STIX {kind} (older version; the newest modified is kept)": n for kind, n in self.graph.older.items()}
        )


def read_bundle(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """The bundle's records, once the whole document has parsed: a malformed or cut-short
    bundle, or one of the wrong shape, fails the file with nothing of it loaded. A big
    bundle's kept objects wait on disk (see `ObjectGraph`), so memory does not grow with it."""
    with tempfile.TemporaryDirectory(prefix="cyberlog-stix-") as folder, ObjectGraph(Path(folder), _newer) as graph:
        try:
            bundle = _Bundle(graph)
            _stream(path, encoding, graph.counted(progress), bundle)
            graph.finish()
            yield from graph.problems()
            for reason, n in sorted((bundle.skipped + bundle.versions()).items()):
                for _ in range(n):
                    yield RawRecord(None, None, "", None, skip=reason)
            yield from _records(graph)
        except NoRoom as exc:  # this file fails, saying where; the run goes on
            raise FileUnreadable(f"{exc}: free some there, or point TMPDIR at a disk with room", path=path) from None


def _stream(path: Path, encoding: str, progress: Callable[[int], None] | None, bundle: _Bundle) -> None:
    with open_json(path, progress, encoding) as (stream, _first):
        document = JsonDocument(stream, path)
        event, _ = document.next()
        if event != "start_map":
            raise FileUnreadable(f"a STIX bundle is a JSON object; this document is {top_kind(event)}", path=path)
        keys: set[str] = set()
        while (step := document.next())[0] == "map_key":
            key = step[1]
            if key in keys:
                raise FileUnreadable(f"the bundle gives the key {key!r} twice", path=path)
            keys.add(key)
            event, scalar = document.next()
            if key == "objects":
                if event != "start_array":
                    why = f"'objects' must be an array of STIX objects; it is {top_kind(event)}"
                    raise FileUnreadable(why, path=path)
                for index, (_pointer, raw, problem) in enumerate(document.items("/objects")):
                    bundle.take(index, raw, problem)
            else:
                value, _problem = document.value(event, scalar, f"/{key}")  # a deep custom property is not read
                _check_top(key, value, path)
        document.end()
    if "objects" not in keys:
        raise FileUnreadable("no 'objects' array: a STIX bundle (or TAXII envelope) lists its objects there", path=path)


def _check_top(key: str, value: Any, path: Path) -> None:
    """The bundle's own type and spec_version (a 2.1 bundle has none; a 2.0 one says "2.0")."""
    if key == "type" and value != "bundle":
        raise FileUnreadable(f'the top-level object has type {json_text(value)[:60]}, not "bundle"', path=path)
    if key == "spec_version" and value not in ("2.0", "2.1"):
        why = f"bundle spec_version {json_text(value)[:60]} is not STIX 2.0 or 2.1"
        raise FileUnreadable(why, path=path)


def _newer(new: Obj, old: Obj) -> bool:
    """Whether a version replaces the one kept: its `modified` is later. An unreadable time
    replaces nothing and is never replaced (the record's checks reject it)."""
    try:
        return parse_time(str(new.get("modified"))).at > parse_time(str(old.get("modified"))).at
    except (ValueError, TypeError):
        return False


def _unlinked(graph: ObjectGraph, records: bytearray, consumed: set[str]) -> Iterator[str]:
    """Kept objects no incident used, so the summary accounts for every object: one that
    was looked up, is a record, or (a relationship) joins a used object to a looked-up one."""
    seen, elsewhere = graph.seen, graph.seen_elsewhere
    for idx, kind, source, source_idx, target, target_idx, relationship in graph.links():
        if records[idx]:
            continue
        used = bool(seen[idx])
        if kind == "relationship":
            source_used = bool(seen[source_idx] or records[source_idx]) if source_idx is not None else False
            source_used = source_used or source in elsewhere or source in consumed
            target_seen = bool(seen[target_idx]) if target_idx is not None else target in elsewhere
            used = source_used and target_seen
        if not used:
            what = f"relationship {relationship}" if kind == "relationship" else kind
            yield f"STIX {what} (not linked to an incident)"


def _records(graph: ObjectGraph) -> Iterator[RawRecord]:
    objects, out = Seen(graph), Edges(graph)
    consumed = _consumed(graph)
    records = bytearray(graph.size)  # records, and the sightings an incident's events consumed
    for ref in consumed:
        if (found := graph.fetch(ref)) is not None:
            records[found[0]] = 1
    for oid, idx, obj in graph.in_order(RECORD_TYPES):
        records[idx] = 1
        if oid in consumed:
            continue
        if obj["type"] == "report" and not _incident_report(obj, objects):
            yield RawRecord(None, f"/objects/{idx}", "", None, skip=_report_skip(obj, objects))
            continue
        record = _assemble(obj, objects, out, graph.reported_in(oid))
        yield RawRecord(None, f"/objects/{idx}", "", record)
    for reason in _unlinked(graph, records, consumed):
        yield RawRecord(None, None, "", None, skip=reason)


def _report_skip(report: Obj, objects: Seen) -> str:
    refs = [r for r in report.get("object_refs") or [] if isinstance(r, str)]
    if any(_kind(r) in ("incident", "campaign", "sighting") and r in objects for r in refs):
        return "STIX report (folded into the incidents it names)"
    return "STIX report (not about an incident)"


def _consumed(graph: ObjectGraph) -> set[str]:
    """Sightings that an incident's extension events point at are part of that incident."""
    used: set[str] = set()
    for _oid, _idx, event in graph.in_order(("event",)):
        used.update(r for r in event.get("sighting_refs") or [] if isinstance(r, str))
    return used


def _incident_report(report: Obj, objects: Seen) -> bool:
    refs = [r for r in report.get("object_refs") or [] if isinstance(r, str)]
    names_one = any(_kind(r) in ("incident", "campaign", "sighting") and r in objects for r in refs)
    return "incident" in (report.get("report_types") or []) and not names_one


def _refs(values: Any, objects: Seen) -> list[Obj]:
    """The objects a list of ids points at, ignoring ids the bundle does not hold."""
    return [objects[v] for v in values or [] if isinstance(v, str) and v in objects]


def _assemble(obj: Obj, objects: Seen, out: Edges, reports: list[Obj]) -> Obj:
    rels = out.get(obj["id"], [])
    core = obj.get("core") or {}
    events = _refs([e.get("event_ref") for e in core.get("events") or [] if isinstance(e, dict)], objects)
    impacts = _refs(core.get("impact_refs"), objects)
    sightings = [s for e in events for s in _refs(e.get("sighting_refs"), objects)]
    if obj["type"] == "sighting":
        sightings.append(obj)
    linked = [objects[r["target_ref"]] for r in rels if r.get("target_ref") in objects]
    linked += [objects[s["sighting_of_ref"]] for s in sightings if s.get("sighting_of_ref") in objects]
    return {
        **{k: obj.get(k) for k in ("type", "id", "description", "created", "modified", "labels", "url")},
        "name": obj.get("name") or _sighting_name(obj, objects),
        "determination": core.get("determination"),
        "criticality": core.get("criticality"),
        "terms": _terms(obj, core, events, linked),
        "starts": _starts(obj, events, impacts, sightings, rels, reports),
        "ends": _ends(obj, events, impacts, sightings, rels),
        "targets": _targets(objects, out, rels, sightings),
        "actors": _actors(obj, objects, out, rels, linked, reports),
        "report_url": next((r["url"] for r in reports if r.get("url")), None),
        # when reports naming it were written and published: it had begun by then
        "reported": [t for r in reports for t in (r.get("created"), r.get("published")) if t is not None],
    }


def _sighting_name(obj: Obj, objects: Seen) -> str | None:
    if obj["type"] != "sighting":
        return None
    sighted = objects.get(obj.get("sighting_of_ref") or "", {})
    return f"Sighting of {sighted.get('name') or obj.get('sighting_of_ref')}"


def _terms(obj: Obj, core: Obj, events: list[Obj], linked: list[Obj]) -> list[tuple[str, ...]]:
    """The words for what happened, each linked attack pattern or malware as one term of
    several names: it maps when any does (HermeticWiper through its type, wiper)."""
    terms = [(t,) for t in [*(core.get("incident_types") or []), *(obj.get("labels") or [])]]
    for event in events:
        terms += [(t,) for t in event.get("event_types") or []]
    for other in linked:
        if other["type"] == "attack-pattern":  # by name, alias and ATT&CK id
            terms.append((other.get("name"), *(other.get("aliases") or []), *(other.get("external_ids") or [])))
        elif other["type"] == "malware":
            terms.append((*(other.get("malware_types") or []), other.get("name")))  # shown by a type when none maps
    names = (tuple(name for name in term if isinstance(name, str) and name) for term in terms)
    return [term for term in names if term]


def _time(value: Any, fidelity: Any, basis: str) -> Obj | None:
    return {"at": value, "fidelity": fidelity, "basis": basis} if value is not None else None


def _starts(
    obj: Obj, events: list[Obj], impacts: list[Obj], sightings: list[Obj], rels: list[Obj], reports: list[Obj]
) -> list[Obj | None]:
    """Start-time candidates, best first: the converter takes the earliest of the first kind present."""
    return [
        *(_time(e.get("start_time"), e.get("start_time_fidelity"), "event start_time") for e in events),
        *(_time(i.get("start_time"), i.get("start_time_fidelity"), "impact start_time") for i in impacts),
        *(_time(s.get("first_seen"), None, "sighting first_seen") for s in sightings),
        _time(obj.get("first_seen"), None, "first_seen"),
        *(_time(r.get("start_time"), None, "relationship start_time") for r in rels),
        *(_time(r.get("published"), "day", "report published") for r in reports),
        _time(obj.get("published"), "day", "report published"),
        _time(obj.get("created"), "day", "object created"),
    ]


def _ends(obj: Obj, events: list[Obj], impacts: list[Obj], sightings: list[Obj], rels: list[Obj]) -> list[Obj | None]:
    return [
        *(_time(e.get("end_time"), e.get("end_time_fidelity"), "event end_time") for e in events),
        *(_time(i.get("end_time"), i.get("end_time_fidelity"), "impact end_time") for i in impacts),
        *(_time(s.get("last_seen"), None, "sighting last_seen") for s in sightings),
        _time(obj.get("last_seen"), None, "last_seen"),
        *(_time(r.get("stop_time"), None, "relationship stop_time") for r in rels),
    ]


def _country(oid: str, objects: Seen, out: Edges) -> Any:
    for rel in out.get(oid, []):
        if rel.get("relationship_type") in ("located-at", "originates-from"):
            place = objects.get(rel.get("target_ref", ""))
            if place and place["type"] == "location":
                return place.get("country") or place.get("region")
    return None


def _targets(objects: Seen, out: Edges, rels: list[Obj], sightings: list[Obj]) -> list[Obj]:
    refs = [r["target_ref"] for r in rels if r.get("relationship_type") in ("targets", "impacts")]
    refs += [w for s in sightings for w in s.get("where_sighted_refs") or []]
    found = []
    for ref in dict.fromkeys(r for r in refs if r in objects):
        target = objects[ref]
        if target["type"] == "identity":
            found.append(
                {
                    "name": target.get("name"),
                    "sectors": target.get("sectors") or [],
                    "country": _country(ref, objects, out),
                }
            )
        elif target["type"] == "location":
            found.append({"name": None, "sectors": [], "country": target.get("country") or target.get("region")})
    return found


def _actors(obj: Obj, objects: Seen, out: Edges, rels: list[Obj], linked: list[Obj], reports: list[Obj]) -> list[Obj]:
    """Who the incident is attributed to, with when: a report carrying the attributed-to
    relationship states the date it was published ('on'); without one, only when the link
    was written down (the relationship's created, 'by'). An actor inherited through another
    (an intrusion set attributed to an agency) was named no earlier than both links."""
    named: list[tuple[str, list[Obj]]] = [
        (r["target_ref"], [r]) for r in rels if r.get("relationship_type") == "attributed-to"
    ]
    named += [(o["id"], []) for o in linked if o["type"] in ACTOR_TYPES]
    for ref, chain in list(named):  # an intrusion set attributed to a threat actor names both
        named += [
            (r["target_ref"], [*chain, r]) for r in out.get(ref, []) if r.get("relationship_type") == "attributed-to"
        ]
    first: dict[str, list[Obj]] = {}
    for ref, chain in named:
        first.setdefault(ref, chain)
    found = []
    for ref, chain in first.items():
        actor = objects.get(ref)
        if not actor or actor["type"] not in ACTOR_TYPES:
            continue
        by = objects.get((chain[-1] if chain else obj).get("created_by_ref") or "", {}).get("name")
        at, dated = _attributed(chain, reports)
        found.append(
            {
                "name": actor.get("name"),
                "types": actor.get("threat_actor_types") or [],
                "motive": actor.get("primary_motivation"),
                "country": _country(ref, objects, out),
                "by": by,
                "at": at,
                "dated": dated,
                "said": " / ".join(r["description"] for r in chain if r.get("description")) or None,
            }
        )
    return found


def _attributed(chain: list[Obj], reports: list[Obj]) -> tuple[str | None, str]:
    """When the last link of `chain` was made, as (time, 'on' | 'by'): each link's report
    publication when a report carries it, else its created; the chain's latest link."""
    times: list[tuple[str, str]] = []
    for rel in chain:
        carried = [
            r["published"] for r in reports if rel.get("id") in (r.get("object_refs") or []) and r.get("published")
        ]
        if carried:
            times.append((min(carried, key=_instant), "on"))
        elif rel.get("created"):
            times.append((rel["created"], "by"))
    if not times:
        return None, "by"
    at = max(times, key=lambda t: _instant(t[0]))[0]
    return at, "by" if any(d == "by" for _, d in times) else "on"


def _instant(text: str) -> str:
    """A STIX timestamp as a sortable UTC instant; an unreadable one sorts first (it is
    rejected where the record is validated)."""
    try:
        return parse_time(str(text)).at.isoformat()
    except ValueError:
        return ""
