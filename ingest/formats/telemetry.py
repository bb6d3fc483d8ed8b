"""What the security-telemetry formats share (CEF, ECS, OCSF, Suricata EVE): logs of
millions of lines, checked and converted inside DuckDB in one pass, like GDELT.

A format is one SQL file, `sql/telemetry/<name>.sql`, that turns the file's lines
(`tl_lines`: line, raw) into the columns `sql/telemetry.sql` lists; the
checks every alert must pass (a time in range, IP addresses, ports, counts), the rejects,
the attack type and the stage for the merge are common, in `sql/telemetry.sql`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache

import duckdb
import pyarrow as pa

from ingest import lines, vocab
from ingest.formats.base import Format, Reader, Stager, StageRequest
from ingest.store import sql_dir, statements

MALFORMED = "malformed JSON"


@cache
def _statements(name: str) -> tuple[list[str], list[str]]:
    """The statements before and after the attack types are mapped."""
    common = (sql_dir() / "telemetry.sql").read_text("utf-8")
    own = (sql_dir() / "telemetry" / f"{name}.sql").read_text("utf-8")
    before, after = common.replace("/* format */", own).split("/* categories */")

    return statements(before), statements(after)


def stager(name: str, labels: Mapping[str, str] | None = None) -> Stager:
    """The stage function of telemetry format `name`; `labels` names the checked fields as
    the format does (src_ip -> src for CEF), for the rejects."""

    def stage(request: StageRequest) -> int:
        con = request.con
        before, after = _statements(name)
        params: dict[str, object] = {
            "zone": request.zone.key if request.zone else None,
            "latest": datetime.now(UTC) + timedelta(days=1),
        }

        def run(where: Mapping[str, str]) -> None:
            for statement in before:
                con.execute(statement, {k: v for k, v in {**params, **where}.items() if f"${k}" in statement})

        try:
            unreadable = lines.stage_lines(con, request.path, request.encoding, request.workdir, run)
            _categories(con)
            for statement in after:
                con.execute(statement)
            if labels:
                con.executemany(
                    "UPDATE stage_rejects SET field = ? WHERE field = ?", [(v, k) for k, v in labels.items()]
                )
            _explain_malformed(con)
            con.execute("UPDATE stage_rejects SET errors = json_array(json_object('field', field, 'reason', reason))")
            read = int(con.execute("SELECT count(*) FROM tl_all").fetchall()[0][0])
            for reason, n in con.execute("SELECT skip, count(*) FROM tl_all WHERE skipped GROUP BY skip").fetchall():
                request.skipped[reason] = request.skipped.get(reason, 0) + int(n)
        finally:
            con.execute("DROP VIEW IF EXISTS tl_lines")
            con.execute("DROP TABLE IF EXISTS tl_text")
            con.execute("DROP TABLE IF EXISTS tl_parsed")
            con.execute("DROP TABLE IF EXISTS tl_ips")
        return read + unreadable

    return stage


def _categories(con: duckdb.DuckDBPyConnection) -> None:
    """Attack types from the alerts' words, once per distinct pair, through the vocabulary
    every other format uses: the category first, then the signature's words."""
    pairs = con.execute("SELECT category_raw, signature FROM tl_terms").fetchall()
    mapped = [
        (raw, signature, (raw and vocab.attack_type(raw)) or (signature and vocab.attack_type(signature)) or "other")
        for raw, signature in pairs
    ]
    table = pa.table(
        {name: [row[i] for row in mapped] for i, name in enumerate(("category_raw", "signature", "category"))},
        schema=pa.schema([("category_raw", pa.string()), ("signature", pa.string()), ("category", pa.string())]),
    )
    con.register("_categories", table)
    con.execute("CREATE OR REPLACE TEMP TABLE tl_categories AS SELECT * FROM _categories")
    con.unregister("_categories")


def _explain_malformed(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB says only that a line is not JSON; Python's parser says where and why."""
    found = con.execute(f"SELECT line, raw FROM stage_rejects WHERE reason = '{MALFORMED}'").fetchall()
    if not found:
        return
    why = []
    for line, raw in found:
        try:
            json.loads(raw)
            why.append((line, "not a JSON object"))
        except ValueError as exc:
            why.append((line, f"{MALFORMED}: {exc}"))
    con.register("_why", pa.table({"line": [w[0] for w in why], "why": [w[1] for w in why]}))
    con.execute("UPDATE stage_rejects SET reason = w.why FROM _why w WHERE stage_rejects.line = w.line")
    con.unregister("_why")


def telemetry_format(
    name: str, description: str, sniff: Callable[[bytes], bool], labels: Mapping[str, str] | None = None,
    reader: Reader = lines.read_lines,
) -> Format:  # fmt: skip
    return Format(name, "alert", description, name, None, None, reader, sniff, stage=stager(name, labels))
