"""Incidents derived from bursts of alerts (`source = derived`).

A WAF, IDS or SIEM logs every alert; a burst of them against one target is an attack
seen from the inside, with a start and end far more precise than any report. The rule is
SQL (`sql/bursts.sql`), tuned by `[bursts]` in cyberlog.toml; this module runs it after a
run's files, writes the incidents it finds (with their targets, for cross-source matching)
and their numbers (`derived_incidents`), and marks the runs it covered.

Re-running over the same alerts gives the same incidents (ids from target, attack type
and first minute); new alerts that extend a burst update its incident in place.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingest.store import execute_all, sql_dir, statements

SOURCE = "derived"  # the incidents' source (sql/bursts.sql writes it)


@dataclass(frozen=True)
class BurstSettings:
    """`[bursts]` in cyberlog.toml."""

    min_per_minute: int = 60  # a minute with this many alerts of one target and attack type is hot
    max_gap_minutes: int = 5  # hot minutes this close are one burst
    min_alerts: int = 300  # a burst with fewer alerts is not an incident
    categories: tuple[str, ...] = field(default_factory=tuple)  # attack types to derive; empty: all but other
    # what the thresholds count: alerts, or the events they stand for (CEF cnt), for devices
    # that log one aggregated alert per attack and interval
    count: str = "alerts"


@dataclass(frozen=True)
class Derived:
    """What deriving incidents did to those derived before (bursts, claimed target lists)."""

    inserted: int
    updated: int
    unchanged: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.removed)

    def as_dict(self) -> dict[str, int]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass(frozen=True)
class BurstResult(Derived):
    everything: bool = False  # all alerts derived again: the rule changed


def kept_settings(con: duckdb.DuckDBPyConnection) -> BurstSettings | None:
    """The rule the last nightly used, kept in the store."""
    found = con.execute("SELECT value FROM store_settings WHERE name = 'bursts'").fetchall()
    if not found:
        return None
    value = json.loads(found[0][0])
    return BurstSettings(**{**value, "categories": tuple(value.get("categories", ()))})


def keep_settings(con: duckdb.DuckDBPyConnection, settings: BurstSettings) -> None:
    con.execute(
        "INSERT OR REPLACE INTO store_settings VALUES ('bursts', $value, $now)",
        {"value": json.dumps(asdict(settings)), "now": datetime.now(UTC)},
    )


def derive(
    con: duckdb.DuckDBPyConnection, run_id: str, settings: BurstSettings, everything: bool = False
) -> BurstResult:
    """Find the bursts of the alerts not yet covered (or of all, `everything`) and write
    their incidents, in one transaction; then mark the runs covered."""
    now = datetime.now(UTC)
    params: dict[str, Any] = {
        "everything": everything,
        "categories": list(settings.categories) or list(ATTACKS),
        "min_per_minute": settings.min_per_minute,
        "max_gap_minutes": settings.max_gap_minutes,
        "min_alerts": settings.min_alerts,
        "by_events": settings.count == "events",
        "run": run_id,
        "file": f"bursts:{run_id}",
        "now": now,
        "rule": json.dumps({"rule": "bursts v1", **asdict(settings)}),
    }
    find, write = _statements()
    con.execute("BEGIN TRANSACTION")
    try:
        execute_all(con, find, params)
        _words(con)
        execute_all(con, write, params)
        inserted, updated, unchanged, removed = con.execute("SELECT * FROM b_counts").fetchall()[0]
        con.execute("UPDATE ingest_runs SET bursts_done_at = $now WHERE bursts_done_at IS NULL", {"now": now})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for table in ("rekeyed", "groups", "minutes", "bursts", "detail", "plan", "gone", "words", "rows", "counts"):
            con.execute(f"DROP TABLE IF EXISTS b_{table}")
    return BurstResult(int(inserted), int(updated), int(unchanged), int(removed), everything)


ATTACKS = ("ddos", "defacement", "wiper", "ransomware", "phishing", "intrusion", "data_leak")  # all but other


def _statements() -> tuple[list[str], list[str]]:
    text = (sql_dir() / "bursts.sql").read_text("utf-8")
    find, write = text.split("/* words */")

    return statements(find), statements(write)


def _words(con: duckdb.DuckDBPyConnection) -> None:
    """The target organisations as the words cross-source matching compares."""
    import pyarrow as pa  # Arrow and the name rules only when there are bursts: `--version` stays quick

    from ingest.canon.identity import org_words

    orgs = [
        row[0] for row in con.execute("SELECT DISTINCT target_org FROM b_plan WHERE target_org IS NOT NULL").fetchall()
    ]
    schema = pa.schema([("target_org", pa.string()), ("name_words", pa.list_(pa.string()))])
    con.register("_words", pa.table({"target_org": orgs, "name_words": [list(org_words(o)) for o in orgs]}, schema))
    con.execute("CREATE OR REPLACE TEMP TABLE b_words AS SELECT * FROM _words")
    con.unregister("_words")
