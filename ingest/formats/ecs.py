"""Elastic Common Schema alerts (FORMATS.md 7.2): NDJSON, one document per line (a SIEM
export); `event.kind` alert or signal is stored, every other kind (event, metric, state
...) and a document without `event.kind` is counted and skipped.

Checked and converted inside DuckDB (`sql/telemetry/ecs.sql`): each field is read as a
nested path or a flat dotted key (`"event.kind"`), as real documents mix both;
`@timestamp` is an ISO time with an offset (or the source's zone) or epoch milliseconds
(a 10-digit epoch is rejected: seconds); severity from `kibana.alert.severity` (a word)
or `event.severity` / `event.risk_score` (0-100). The alert's id is `event.id`, else the
line's digest and its occurrence (identical lines stay distinct alerts).
"""

from __future__ import annotations

import re

from ingest.formats.telemetry import telemetry_format

_OBJECT = re.compile(rb"^\s*\{")


def sniff(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    return (
        bool(_OBJECT.match(first))
        and b'"@timestamp"' in first
        and (b'"ecs"' in first or b'"ecs.version"' in first)
        and b'"class_uid"' not in first
    )


FORMAT = telemetry_format(
    "ecs",
    "Elastic Common Schema JSON lines (alerts and signals; other event kinds are counted and skipped)",
    sniff,
    labels={
        "src_ip": "source.ip",
        "dst_ip": "destination.ip",
        "src_port": "source.port",
        "dst_port": "destination.port",
        "observed_at": "@timestamp",
    },
)
