"""DDoSia target lists: the JSON list of targets NoName057(16)'s command server hands its
volunteers' DDoS client, as trackers capture and republish it, one file per capture.

A list is a claim, not an observation: the group ordered these attacks, and a host on it
may never have gone down. The capture's time is only in the file's name
(`2024-05-20_07-10-29_DDoSia-target-list-full.json`, or the early day-first
`05-06-2023_20-15-12_…`): read year-first, then day-first, never month-first, as UTC (the
tracker's assumption; the list states no zone). Each request the list orders is stored
(`claim_targets`: host, address, port, request type and method, the list's ids), never its
path, body or headers: they are attack templates no report needs. `"targets": null` is a
list with no targets. Incidents come from runs of consecutive lists naming a host
(ingest/derive/claims.py), so a host on a hundred lists is one claimed attack.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ingest.canon.records import ClaimedTarget
from ingest.errors import FileUnreadable
from ingest.formats.base import Domain, Format, OptText
from ingest.inputs.json_stream import JsonDocument, kind, top_kind
from ingest.inputs.readers import RawRecord, json_text, open_json

CLAIMANT = "NoName057(16)"
KEPT = ("host", "ip", "port", "type", "method", "target_id", "request_id")  # never path, body, headers
_YEAR_FIRST = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})(?!\d)")
_DAY_FIRST = re.compile(r"(?<!\d)(\d{2})-(\d{2})-(\d{4})_(\d{2})-(\d{2})-(\d{2})(?!\d)")
_NAMING = "name it as the tracker does: <YYYY-MM-DD_HH-MM-SS>_DDoSia-target-list-full.json"


def snapshot_time(path: Path) -> datetime:
    """The list's time from its file's name, UTC: year-first, else day-first."""
    name = path.name
    if found := _YEAR_FIRST.search(name):
        year, month, day, hour, minute, second = (int(part) for part in found.groups())
    elif found := _DAY_FIRST.search(name):
        day, month, year, hour, minute, second = (int(part) for part in found.groups())
    else:
        raise FileUnreadable(f"no capture time in the file's name (a DDoSia list states none): {_NAMING}", path=path)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise FileUnreadable(f"'{found[0]}' in the file's name is not a date and time: {_NAMING}", path=path) from None


def _address(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise PydanticCustomError("ip", "'{value}' is not an IPv4 or IPv6 address", {"value": value}) from None


class DdosiaRequest(BaseModel):
    """One entry of a list's `targets`: the keys cyberlog keeps (others are not read)."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    snapshot: datetime
    host: Domain
    ip: Annotated[OptText, AfterValidator(_address)] = None
    port: Annotated[int, Field(ge=0, le=65535, strict=True)] | None = None  # a number: not "443", not true
    type: OptText = None
    method: OptText = None
    target_id: OptText = None
    request_id: OptText = None


def convert(row: DdosiaRequest) -> ClaimedTarget:
    at = row.snapshot.strftime("%Y-%m-%dT%H:%M:%SZ")
    ref = row.request_id or f"{row.host}:{row.port}:{row.type}:{row.method}"
    return ClaimedTarget(
        source_ref=f"{ref}@{at}",
        snapshot_at=row.snapshot,
        host=row.host,
        claimant=CLAIMANT,
        ip=row.ip,
        port=row.port,
        request_type=row.type,
        method=row.method,
        target_id=row.target_id,
        request_id=row.request_id,
    )


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """One record per entry of `targets` (pointer /targets/N), with the capture time and only
    the kept keys; `"targets": null` is a list with none. The list is streamed: an entry
    that cannot be read (a key twice, a NUL) is a reject, the others load."""
    snapshot = snapshot_time(path)
    with open_json(path, progress, encoding) as (stream, _first):
        document = JsonDocument(stream, path)
        event, _ = document.next()
        if event != "start_map":
            raise FileUnreadable(f"not a DDoSia target list: the document is {top_kind(event)}", path=path)
        seen = False
        while (step := document.next())[0] == "map_key":
            key = step[1]
            event, value = document.next()
            if key != "targets":
                if event in ("start_map", "start_array"):
                    document.skip()  # randoms, and whatever else a list may carry: not read
                continue
            if seen:
                raise FileUnreadable("not a DDoSia target list: 'targets' is given twice", path=path)
            seen = True
            if event == "start_array":
                yield from _entries(document.items("/targets"), snapshot)
            elif event != "null":
                found, _ = document.value(event, value, "/targets")
                raise FileUnreadable(f"not a DDoSia target list: 'targets' is {kind(found)}, not an array", path=path)
        document.end()
    if not seen:
        raise FileUnreadable("not a DDoSia target list: the object has no 'targets'", path=path)


def _entries(items: Iterator[tuple[str, Any, str | None]], snapshot: datetime) -> Iterator[RawRecord]:
    for where, entry, problem in items:
        if problem:
            yield RawRecord(None, where, "", None, problem)
        elif not isinstance(entry, dict):
            yield RawRecord(None, where, json_text(entry)[:200], None, f"expected a JSON object, found {kind(entry)}")
        else:
            kept = {key: entry[key] for key in KEPT if key in entry}
            yield RawRecord(None, where, json_text(kept), {"snapshot": snapshot, **kept})


_TARGETS = re.compile(rb'"targets"\s*:')
_LIST_KEYS = re.compile(rb'"(randoms|target_id|request_id)"\s*:')


def sniff(head: bytes) -> bool:
    """A JSON object with `targets` beside `randoms` (or DDoSia's ids)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" and bool(_TARGETS.search(head) and _LIST_KEYS.search(head))


FORMAT = Format(
    "ddosia",
    "claim",
    "DDoSia target lists (NoName057(16)), one JSON list per capture, its time in the file's name",
    "ddosia",
    DdosiaRequest,
    convert,
    read,
    sniff,
    snapshot=snapshot_time,
)
