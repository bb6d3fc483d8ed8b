"""OCSF findings (FORMATS.md 7.3): NDJSON, one event per line (a SOAR or EDR export);
Detection Findings (class_uid 2004) and Incident Findings (2005) are stored, every other
class is counted and skipped. A file that is one JSON array of events is not read: NDJSON
only.

Checked and converted inside DuckDB (`sql/telemetry/ocsf.sql`): `time` is epoch
milliseconds (a 10-digit value is rejected: seconds), `time_dt` stands in when it is
absent; `severity_id` 1-2 low, 3 medium, 4 high, 5-6 critical, 0 and 99 unknown (99's
caption is read when it is a severity word). The alert's id is `metadata.uid`, else the
finding's uid (an Incident Finding's updates share it, so a later file's update replaces
the stored alert; two within one file are duplicates), else the line's digest and its
occurrence.
"""

from __future__ import annotations

import re

from ingest.formats.telemetry import telemetry_format

_OCSF = re.compile(rb'^\s*\{.*"class_uid"\s*:', re.S)


def sniff(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    return bool(_OCSF.match(first))


FORMAT = telemetry_format(
    "ocsf",
    "OCSF findings JSON lines (Detection and Incident Findings; other classes are counted and skipped)",
    sniff,
    labels={
        "src_ip": "src_endpoint.ip",
        "dst_ip": "dst_endpoint.ip",
        "src_port": "src_endpoint.port",
        "dst_port": "dst_endpoint.port",
        "observed_at": "time",
        "event_count": "count",
    },
)
