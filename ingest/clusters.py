"""Cross-source identity: which stored incidents describe the same attack.

Every source's record stays as it was stored. The matcher (`sql/identity.sql`) proposes
pairs; each decision goes into the append-only `incident_links` ledger with the rule
and its evidence, and the clusters are the connected groups of the pairs in force. A
pair undone by hand stays undone: the matcher never proposes it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingest.errors import UsageError
from ingest.store import scalar, sql_dir, statements

RULE = "same target, overlapping time, compatible attack type (v1)"
IN_FORCE = ("matched", "merged")
_TEMP = ("id_incidents", "id_words", "id_keys", "id_target_pairs", "id_matches", "id_new")


@dataclass(frozen=True)
class IdentitySettings:
    """How tolerant the matcher is; `[identity]` in cyberlog.toml."""

    slack_hours: int = 24
    min_similarity: float = 0.5


@dataclass(frozen=True)
class MatchResult:
    matched: int
    stale: int
    clusters: int  # clusters of two or more records, after the change

    def as_dict(self) -> dict[str, int]:
        return {"matched": self.matched, "stale": self.stale, "clusters": self.clusters}


def match(
    con: duckdb.DuckDBPyConnection, run_id: str | None, settings: IdentitySettings, *, everything: bool = False
) -> MatchResult:
    """Propose matches for incidents this run loaded (or all), in one transaction."""
    from ingest.identity import GENERIC  # pycountry, only when matching

    params = {"run": run_id, "all": everything, "slack_hours": settings.slack_hours,
              "min_similarity": settings.min_similarity, "generic": list(GENERIC)}  # fmt: skip
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in _statements():
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
        now = datetime.now(UTC)
        matched = _insert(con, "matched", now, run_id, """
            SELECT m.a, m.b, m.evidence::JSON AS evidence FROM id_matches m
            LEFT JOIN v_incident_links l ON l.incident_a = m.a AND l.incident_b = m.b
            WHERE l.decision IS NULL OR l.decision = 'stale'""")  # fmt: skip
        stale = _insert(con, "stale", now, run_id, """
            SELECT l.incident_a AS a, l.incident_b AS b, NULL::JSON AS evidence FROM v_incident_links l
            JOIN id_incidents a ON a.incident_id = l.incident_a
            JOIN id_incidents b ON b.incident_id = l.incident_b
            WHERE l.decision = 'matched' AND (a.touched OR b.touched)
              AND NOT EXISTS (
                  SELECT 1 FROM id_matches m WHERE m.a = l.incident_a AND m.b = l.incident_b)""")  # fmt: skip
        clusters = refresh_clusters(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return MatchResult(matched, stale, clusters)


def _statements() -> list[str]:
    text = (sql_dir() / "identity.sql").read_text("utf-8")
    return statements(text)


def _insert(con: duckdb.DuckDBPyConnection, decision: str, now: datetime, run_id: str | None, select: str) -> int:
    """Record `decision` for each pair (a, b, evidence) the SELECT yields; how many."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE id_new AS {select}")
    con.execute(
        "INSERT INTO incident_links (incident_a, incident_b, decision, rule, evidence, decided_at, run_id) "
        "SELECT a, b, $decision, $rule, evidence, $now, $run FROM id_new ORDER BY a, b",
        {"decision": decision, "rule": RULE, "now": now, "run": run_id},
    )
    return int(scalar(con, "SELECT count(*) FROM id_new"))


def decide(con: duckdb.DuckDBPyConnection, first: str, second: str | None, decision: str, note: str | None) -> int:
    """By hand: merge two incidents, or undo one pair (or every pair in force of one incident)."""
    ids = [first] if second is None else [first, second]
    known = {
        row[0] for row in con.execute("SELECT incident_id FROM incidents WHERE incident_id IN ?", [ids]).fetchall()
    }
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UsageError(f"no incident {unknown[0]!r}: use an incident_id from v_incidents (inc_...)")
    if second is None:
        pairs = con.execute(
            "SELECT incident_a, incident_b FROM v_incident_links WHERE decision IN ('matched', 'merged') "
            "AND $id IN (incident_a, incident_b)",
            {"id": first},
        ).fetchall()
    else:
        pairs = [tuple(sorted((first, second)))]
    if not pairs:
        raise UsageError(f"{first} is not linked to any other incident: nothing to undo")
    import pyarrow as pa  # Arrow, only when a decision is written

    rows = [{"incident_a": a, "incident_b": b, "decision": decision, "rule": "by hand", "note": note,
             "decided_at": datetime.now(UTC)} for a, b in pairs]  # fmt: skip
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_decisions", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO incident_links BY NAME SELECT * FROM _decisions")
        con.unregister("_decisions")
        refresh_clusters(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(pairs)


def refresh_clusters(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild `incident_clusters` from the pairs in force; returns the clusters of 2+."""
    import pyarrow as pa  # Arrow, only when clusters change

    pairs = con.execute(
        "SELECT incident_a, incident_b FROM v_incident_links WHERE decision IN ('matched', 'merged')"
    ).fetchall()
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    loaded = dict(
        con.execute(
            "SELECT incident_id, first_loaded_at FROM incidents WHERE incident_id IN ?", [list(parent)]
        ).fetchall()
    ) if parent else {}  # fmt: skip
    groups: dict[str, list[str]] = {}
    for member in parent:
        groups.setdefault(root(member), []).append(member)
    rows: list[dict[str, Any]] = []
    for members in groups.values():
        lead = min(members, key=lambda m: (loaded.get(m) or datetime.max.replace(tzinfo=UTC), m))
        rows += [{"incident_id": m, "cluster_id": "clu_" + lead.removeprefix("inc_")} for m in members]
    con.execute("DELETE FROM incident_clusters")
    if rows:
        con.register("_clusters", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO incident_clusters BY NAME SELECT * FROM _clusters")
        con.unregister("_clusters")
    return len(groups)
