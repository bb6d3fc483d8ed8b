"""ArcSight CEF (FORMATS.md 7.1): one event per line, perhaps behind a syslog prefix;
every line is an alert.

Checked and converted inside DuckDB (`sql/telemetry/cef.sql`): the seven-field header
(`\\|` and `\\\\` escaped), the key=value extension (a value runs to the next ` key=`;
`\\=`, `\\\\`, `\\n`, `\\r` escaped; the first of a repeated key wins); `rt` (else `end`,
`start`) in epoch milliseconds, `MMM dd yyyy HH:mm:ss[.SSS][ zone]` or ISO 8601, where a
zone that means one offset (an offset, CET, MSK, Europe/Kyiv) is resolved, an ambiguous one
(IST) or none is the source's declared zone, and a time without a year is refused, not guessed;
the target organisation from the `csN` whose `csNLabel` says targetOrg. A line has no id
of its own: its digest, numbered when the same line comes again (separate alerts).
"""

from __future__ import annotations

import re

from ingest.formats.telemetry import telemetry_format

_CEF = re.compile(rb"(?:^|[\s>])CEF:[01]\|")
_LINES = 5  # the first non-blank lines looked at


def sniff(head: bytes) -> bool:
    """`CEF:0|` or `CEF:1|` at the start of one of the first lines, or after a syslog prefix."""
    lines = [ln for ln in head.split(b"\n")[:-1] or [head] if ln.strip()][:_LINES]
    return any(not ln.lstrip().startswith((b"{", b"[", b'"')) and _CEF.search(ln) for ln in lines)


FORMAT = telemetry_format(
    "cef",
    "ArcSight CEF lines, with or without a syslog prefix (every line an alert)",
    sniff,
    labels={
        "src_ip": "src",
        "dst_ip": "dst",
        "src_port": "spt",
        "dst_port": "dpt",
        "observed_at": "rt",
        "event_count": "cnt",
    },
)
