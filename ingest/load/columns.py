"""Canonical records to Arrow tables, batch by batch, for bulk loads into DuckDB.

Each staged row carries `seq` (its order in the file) so children (targets, actors)
follow their parent through the merge without knowing its id yet.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import pyarrow as pa

from ingest.canon import galaxy
from ingest.canon.identity import org_words
from ingest.canon.records import ClaimedTarget, DiplomaticEvent, EventDetail, Incident
from ingest.canon.times import TimeValue

TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
TEXTS = pa.list_(pa.string())

LOCATION = [("seq", pa.int64()), ("line", pa.int64()), ("pointer", STR)]
INCIDENT = pa.schema(
    [
        *LOCATION,
        ("source_ref", STR),
        ("title", STR),
        ("description", STR),
        ("attack_types", TEXTS),
        ("started_at", TS),
        ("started_latest", TS),
        ("time_precision", STR),
        ("ended_at", TS),
        ("ended_latest", TS),
        ("ended_precision", STR),
        ("evidence", STR),
        ("severity", STR),
        ("url", STR),
        ("source_modified", TS),
        ("time_basis", STR),
        ("unmapped_attack_types", TEXTS),
        ("content_hash", STR),
    ]
)
TARGET = pa.schema(
    [
        ("seq", pa.int64()),
        ("position", pa.int32()),
        ("organisation", STR),
        ("domain", STR),
        ("country", STR),
        ("sector", STR),
        ("country_raw", STR),
        ("sectors", TEXTS),
        ("unmapped_sectors", TEXTS),
        ("name_words", TEXTS),
    ]
)
ACTOR = pa.schema(
    [
        ("seq", pa.int64()),
        ("position", pa.int32()),
        ("actor", STR),
        ("role", STR),
        ("attributed_by", STR),
        ("attributed_at", TS),
        ("attributed_latest", TS),
        ("attributed_precision", STR),
        ("country", STR),
        ("country_raw", STR),
        ("actor_type", STR),
        ("motive", STR),
        ("attributed_dated", STR),
        ("actor_raw", STR),
    ]
)
DETAIL = [
    ("actor1", STR),
    ("actor1_code", STR),
    ("actor1_country", STR),
    ("actor1_role", STR),
    ("actor2", STR),
    ("actor2_code", STR),
    ("actor2_country", STR),
    ("actor2_role", STR),
    ("quad_class", pa.int8()),
    ("goldstein", pa.float64()),
    ("mentions", pa.int32()),
    ("sources", pa.int32()),
    ("articles", pa.int32()),
    ("tone", pa.float64()),
    ("location_country", STR),
    ("latitude", pa.float64()),
    ("longitude", pa.float64()),
    ("recorded_at", TS),
    ("fatalities_best", pa.int32()),
    ("fatalities_low", pa.int32()),
    ("fatalities_high", pa.int32()),
    ("location_precision", STR),
]
EVENT = pa.schema(
    [
        *LOCATION,
        ("source_ref", STR),
        ("occurred_at", TS),
        ("occurred_latest", TS),
        ("time_precision", STR),
        ("title", STR),
        ("event_class", STR),
        ("cameo_code", STR),
        ("actor_countries", TEXTS),
        ("location", STR),
        ("url", STR),
        ("description", STR),
        *DETAIL,
        ("source_modified", TS),
        ("content_hash", STR),
    ]
)
CLAIM = pa.schema(
    [
        *LOCATION,
        ("source_ref", STR),
        ("snapshot_at", TS),
        ("host", STR),
        ("claimant", STR),
        ("ip", STR),
        ("port", pa.int32()),
        ("request_type", STR),
        ("method", STR),
        ("target_id", STR),
        ("request_id", STR),
        ("source_modified", TS),
        ("content_hash", STR),
    ]
)
ALERT = pa.schema(
    [
        *LOCATION,
        ("source_ref", STR),
        ("observed_at", TS),
        ("product", STR),
        ("signature", STR),
        ("signature_id", STR),
        ("severity", STR),
        ("severity_raw", STR),
        ("category", STR),
        ("category_raw", STR),
        ("action", STR),
        ("src_ip", STR),
        ("src_ip_num", pa.decimal128(38, 0)),
        ("src_port", pa.int32()),
        ("dst_ip", STR),
        ("dst_ip_num", pa.decimal128(38, 0)),
        ("dst_port", pa.int32()),
        ("dst_host", STR),
        ("url", STR),
        ("target_org", STR),
        ("event_count", pa.int64()),
        ("message", STR),
        ("source_modified", TS),
        ("content_hash", pa.uint64()),
    ]
)  # staged in DuckDB by the telemetry formats; this is the empty table's shape
_NO_DETAIL = EventDetail()
REJECT = pa.schema(
    [
        ("line", pa.int64()),
        ("pointer", STR),
        ("field", STR),
        ("reason", STR),
        ("errors", STR),
        ("raw", STR),
    ]
)


def content_hash(fields: tuple[Any, ...]) -> str:
    """A digest of everything a record says (its staged values, children included).

    `repr` of str, int, None, lists and UTC datetimes is stable, and much cheaper than
    a JSON round trip on the hot path.
    """
    return hashlib.blake2b(repr(fields).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _span(value: TimeValue | None) -> tuple[datetime | None, datetime | None, str | None]:
    return (value.at, value.latest, value.precision) if value else (None, None, None)


class Batch:
    """Columns of one batch of records, ready to become Arrow tables: the records of the
    format's kind as `main`; a mixed format's records of the other kind as `also`."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {"targets": [], "actors": [], "rejects": []}
        self.records: dict[str, list[tuple[Any, ...]]] = {"incident": [], "event": [], "claim": []}

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.records.values()) + len(self.rows["rejects"])

    def add(
        self, seq: int, line: int | None, pointer: str | None, record: Incident | DiplomaticEvent | ClaimedTarget
    ) -> None:
        if isinstance(record, ClaimedTarget):
            values: tuple[Any, ...] = (
                record.source_ref,
                record.snapshot_at,
                record.host,
                record.claimant,
                record.ip,
                record.port,
                record.request_type,
                record.method,
                record.target_id,
                record.request_id,
                None,
            )
            self.records["claim"].append((seq, line, pointer, *values, content_hash(values)))
            return
        if isinstance(record, Incident):
            values = (
                record.source_ref,
                record.title,
                record.description,
                list(record.attack_types),
                *_span(record.started),
                *_span(record.ended),
                record.evidence,
                record.severity,
                record.url,
                record.source_modified,
                record.time_basis,
                list(record.unmapped_attack_types),
            )
            targets = [
                (
                    t.organisation,
                    t.domain,
                    t.country,
                    t.sector,
                    t.country_raw,
                    t.all_sectors(),
                    list(t.unmapped_sectors),
                )
                for t in record.targets
            ]
            # each actor under its canonical name, once per attribution ("UNC1151" and "Ghostwriter"
            # named by one party on one date are one; the EU's and the UK's are two)
            named = {
                (galaxy.actor(a.actor), a.role, a.attributed_by, a.attributed_at): a for a in reversed(record.actors)
            }
            actors = [
                (
                    name,
                    a.role,
                    a.attributed_by,
                    *_span(a.attributed_at),
                    a.country,
                    a.country_raw,
                    a.actor_type,
                    a.motive,
                    a.dated if a.attributed_at else None,
                    a.actor if name != a.actor else None,
                )
                for (name, *_), a in reversed(named.items())
            ]
            self.rows["targets"] += [
                (seq, pos, *t, org_words(t[0], t[2]) if t[0] else None) for pos, t in enumerate(targets)
            ]
            self.rows["actors"] += [(seq, pos, *a) for pos, a in enumerate(actors)]
            digest = content_hash((values, targets, actors))
            self.records["incident"].append((seq, line, pointer, *values, digest))
        else:
            detail = record.detail or _NO_DETAIL
            values = (
                record.source_ref,
                *_span(record.occurred),
                record.title,
                record.event_class,
                record.cameo_code,
                list(record.actor_countries),
                record.location,
                record.url,
                record.description,
                *(getattr(detail, name) for name, _ in DETAIL),
                record.source_modified,
            )
            self.records["event"].append((seq, line, pointer, *values, content_hash(values)))

    def reject(self, line: int | None, pointer: str | None, errors: list[tuple[str | None, str]], raw: str) -> None:
        listed = json.dumps([{"field": f, "reason": r} for f, r in errors], ensure_ascii=False)
        self.rows["rejects"].append((line, pointer, errors[0][0], errors[0][1], listed, clean_text(raw)))

    def tables(self, kind: str, mixed: bool = False) -> dict[str, pa.Table]:
        """The stage tables' rows: a record of a kind the format does not have is a bug in
        its converter, so it fails loudly instead of being dropped."""
        schemas = _schemas(kind, mixed)
        also = ALSO.get(kind) if mixed else None
        strays = [k for k, rows in self.records.items() if rows and k not in (kind, also)]
        assert not strays, f"a {kind} format's converter returned {strays[0]} records"
        rows = {**self.rows, "main": self.records[kind], **({"also": self.records[also]} if also else {})}
        return {name: _table(found, schemas[name]) for name, found in rows.items() if found}

    @staticmethod
    def empty_tables(kind: str, mixed: bool = False) -> dict[str, pa.Table]:
        return {name: schema.empty_table() for name, schema in _schemas(kind, mixed).items()}


MAIN = {"incident": INCIDENT, "event": EVENT, "alert": ALERT, "claim": CLAIM}
ALSO = {"event": "incident", "incident": "event"}  # a mixed format's second kind


def _schemas(kind: str, mixed: bool = False) -> dict[str, pa.Schema]:
    also = {"also": MAIN[ALSO[kind]]} if mixed else {}
    return {"main": MAIN[kind], **also, "targets": TARGET, "actors": ACTOR, "rejects": REJECT}


def _table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    columns = zip(*rows, strict=True)
    return pa.Table.from_arrays([pa.array(col, f.type) for col, f in zip(columns, schema, strict=True)], schema=schema)


def clean_text(raw: str) -> str:
    """Raw input as storable text: undecodable bytes become U+FFFD, NUL is shown as \\0."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\\0")
