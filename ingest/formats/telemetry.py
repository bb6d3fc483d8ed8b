"""What the security-telemetry formats share (CEF, ECS, OCSF, Suricata EVE): logs of
millions of lines, streamed a chunk at a time and checked and converted inside DuckDB.

A format is one SQL file, `sql/telemetry/<name>.sql`: the table macro that turns a chunk's
lines (`tl_lines`: line, raw) into the columns `sql/telemetry.sql` lists. The checks every
alert must pass (a time in range, IP addresses, ports, counts), the rejects and the stage for
the merge are common, in `sql/telemetry.sql`, which staging runs (`ingest/load/staging.py`);
the words an attack type is read from, and why a line is not JSON, are said here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from ingest.canon import vocab
from ingest.formats.base import Format, Reader, SqlStream
from ingest.inputs import lines

MALFORMED = "malformed JSON"  # the reason the SQL gives a line that is not JSON; `malformed` says more


def attack_type(category_raw: str | None, signature: str | None) -> str:
    """An alert's attack type from its words, through the vocabulary every other format
    uses: the category first, then the signature's words."""
    return (category_raw and vocab.attack_type(category_raw)) or (signature and vocab.attack_type(signature)) or "other"


def malformed(raw: str) -> str:
    """Why a line is not a JSON object: DuckDB says only that it is not JSON, Python's parser
    says where and why."""
    try:
        json.loads(raw)
    except ValueError as exc:
        return f"{MALFORMED}: {exc}"
    except RecursionError:
        return f"{MALFORMED}: nested deeper than can be read"
    return "not a JSON object"


def telemetry_format(
    name: str,
    description: str,
    sniff: Callable[[bytes], bool],
    labels: Mapping[str, str] | None = None,
    reader: Reader = lines.read_lines,
    digest_refs: bool = True,
) -> Format:
    """Telemetry format `name`, staged by `sql/telemetry/<name>.sql`; `labels` names the
    checked fields as the format does (src_ip -> src for CEF); `digest_refs`: lines may lack
    an id of the format's own, and are then known by their digest and occurrence."""
    stage = SqlStream(f"telemetry/{name}.sql", dict(labels or {}), digest_refs)
    return Format(name, "alert", description, name, None, None, reader, sniff, stage=stage)
