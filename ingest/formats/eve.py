"""Suricata EVE JSON (FORMATS.md 7.4): NDJSON, one record per line; alerts are stored,
the other event types (flow, http, dns, tls, stats ...) counted and skipped.

Checked and converted inside DuckDB (`sql/telemetry/eve.sql`): `timestamp` with its
colon-less offset (`+0000`), or sensor-local time when the source declares its zone;
`severity` 1 is the most severe (high), 2 medium, 3 and 4 low; `flow_id` is a join key,
not an id: an alert is (flow_id, tx_id, gid:signature_id, timestamp).
"""

from __future__ import annotations

import re

from ingest.formats.telemetry import telemetry_format

_EVE = re.compile(rb'^\s*\{.*"event_type"\s*:', re.S)


def sniff(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    return bool(_EVE.match(first)) and b'"timestamp"' in first


FORMAT = telemetry_format(
    "eve",
    "Suricata EVE JSON lines (alerts; flow, dns, http and other records are counted and skipped)",
    sniff,
    labels={
        "src_ip": "src_ip",
        "dst_ip": "dest_ip",
        "src_port": "src_port",
        "dst_port": "dest_port",
        "observed_at": "timestamp",
    },
    digest_refs=False,  # every EVE alert has flow_id, tx_id, signature and timestamp
)
