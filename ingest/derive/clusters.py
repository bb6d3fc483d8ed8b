"""Cross-source identity: which stored incidents describe the same attack.

Every source's record stays as it was stored. The matcher (`sql/identity.sql`) proposes
pairs; each decision goes into the append-only `incident_links` ledger with the rule
and its evidence, and the clusters are the connected groups of the pairs in force. A
pair undone by hand stays undone: the matcher never proposes it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingest.errors import UsageError
from ingest.store import scalar, sections, sql_dir, statements

RULE = "same target or named malware or report URL, overlapping time, compatible attack type (v2)"
_TEMP = (
    "id_incidents",
    "id_words",
    "id_malware",
    "id_named",
    "id_keys",
    "id_joined",
    "id_target_any",
    "id_named_target",
    "id_named_pairs",
    "id_target_pairs",
    "id_candidates",
    "id_matches",
    "id_evidence",
    "id_new",
)


@dataclass(frozen=True)
class IdentitySettings:
    """How tolerant the matcher is; `[identity]` in cyberlog.toml."""

    slack_hours: int = 24
    min_similarity: float = 0.5
    max_url_share: int = 10  # a URL more incidents give is a landing page, not one report


@dataclass(frozen=True)
class MatchResult:
    matched: int
    stale: int
    clusters: int  # clusters of two or more records, after the change

    def as_dict(self) -> dict[str, int]:
        return {"matched": self.matched, "stale": self.stale, "clusters": self.clusters}


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, temps: tuple[str, ...]) -> Iterator[None]:
    """One transaction, rolled back on any error; the temp tables dropped either way."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in temps:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def match(
    con: duckdb.DuckDBPyConnection, run_id: str | None, settings: IdentitySettings, *, everything: bool = False
) -> MatchResult:
    """Propose matches for incidents this run loaded (or all), in one transaction."""
    with _transaction(con, _TEMP):
        _candidates(con, settings, everything=everything, search_hours=2 * settings.slack_hours, run_id=run_id)
        now = datetime.now(UTC)
        matched = _decide_by_rule(
            con, "matched", now, run_id, "SELECT a, b, evidence::JSON AS evidence FROM id_evidence"
        )
        stale = _decide_by_rule(
            con,
            "stale",
            now,
            run_id,
            """
            SELECT l.incident_a AS a, l.incident_b AS b, NULL::JSON AS evidence FROM v_incident_links l
            JOIN id_incidents a ON a.incident_id = l.incident_a
            JOIN id_incidents b ON b.incident_id = l.incident_b
            WHERE l.decision = 'matched' AND (a.touched OR b.touched)
              AND NOT EXISTS (
                  SELECT 1 FROM id_matches m WHERE m.a = l.incident_a AND m.b = l.incident_b)""",
        )
        clusters = refresh_clusters(con)
    return MatchResult(matched, stale, clusters)


def _candidates(
    con: duckdb.DuckDBPyConnection,
    settings: IdentitySettings,
    *,
    everything: bool,
    search_hours: int,
    run_id: str | None = None,
    near: bool = False,
) -> None:
    """Build the temp tables of sql/identity.sql: candidate pairs, each criterion judged."""
    from ingest.canon.galaxy import malware_names
    from ingest.canon.identity import GENERIC  # pycountry, only when matching
    from ingest.canon.records import AFTER_INTRUSION

    names = malware_names()
    params = {
        "run": run_id,
        "all": everything,
        "slack_hours": settings.slack_hours,
        "search_hours": search_hours,
        "near": near,
        "after_intrusion": list(AFTER_INTRUSION),
        "min_similarity": settings.min_similarity,
        "generic": list(GENERIC),
        "max_url_share": settings.max_url_share,
        "malware_phrases": [p for p, _ in names],
        "malware_names": [n for _, n in names],
    }
    for statement in _statements():
        con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})


# A near miss: a candidate pair from two sources that fails exactly one of the rule's
# criteria, with the criterion and why; pairs the ledger already decided are left out.
_SUGGESTIONS = """
WITH near AS (
    SELECT * FROM id_candidates
    WHERE (NOT same_target)::INT + (NOT same_time)::INT + (NOT same_type)::INT + (NOT same_malware)::INT = 1
), best AS (  -- the most alike pair of targets, for a pair that fails only on its target
    SELECT t.a, t.b, arg_max({'a': t.org_a, 'b': t.org_b, 'similarity': t.similarity}, t.similarity) AS best
    FROM id_target_pairs t
    SEMI JOIN (SELECT a, b FROM near WHERE NOT same_target) n ON n.a = t.a AND n.b = t.b
    GROUP BY t.a, t.b
)
SELECT
    c.a AS incident_a, ia.source AS source_a, c.b AS incident_b, ib.source AS source_b,
    CASE WHEN NOT c.same_target
             THEN coalesce('target: names only ' || CAST(s.best.similarity AS VARCHAR) || ' alike ('
                  || s.best.a || ' / ' || s.best.b || '), the rule wants ' || $min_similarity,
                  'target: the same malware or report, but each names another target')
         WHEN NOT c.same_time
             THEN 'time: ' || c.gap_hours || ' h apart, the rule allows ' || 2 * $slack_hours || ' h'
         WHEN NOT c.same_type
             THEN 'attack types: ' || array_to_string(ia.attack_types, ';') || ' vs '
                  || array_to_string(ib.attack_types, ';')
         ELSE 'malware: ' || array_to_string(ma.malware, ';') || ' vs ' || array_to_string(mb.malware, ';')
    END AS fails,
    c.gap_hours, ia.title AS title_a, ib.title AS title_b,
    'cyberlog clusters merge ' || c.a || ' ' || c.b AS to_merge
FROM near c
JOIN incidents ia ON ia.incident_id = c.a
JOIN incidents ib ON ib.incident_id = c.b
LEFT JOIN best s ON s.a = c.a AND s.b = c.b
LEFT JOIN id_malware ma ON ma.incident_id = c.a
LEFT JOIN id_malware mb ON mb.incident_id = c.b
WHERE NOT EXISTS (SELECT 1 FROM incident_links l WHERE l.incident_a = c.a AND l.incident_b = c.b)
  AND NOT EXISTS (SELECT 1 FROM incident_clusters x JOIN incident_clusters y USING (cluster_id)
                  WHERE x.incident_id = c.a AND y.incident_id = c.b)
ORDER BY fails LIKE 'time%', c.gap_hours, c.a, c.b
"""


def suggest(
    con: duckdb.DuckDBPyConnection, settings: IdentitySettings, *, extra_days: int = 3
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Near misses of the matching rule over the whole store, for review: (columns, rows).

    Pairs are searched `extra_days` beyond what the rule allows, so a report dated a few
    days late shows up as a time miss."""
    try:
        _candidates(con, settings, everything=True, search_hours=2 * settings.slack_hours + 24 * extra_days, near=True)
        result = con.execute(
            _SUGGESTIONS, {"slack_hours": settings.slack_hours, "min_similarity": settings.min_similarity}
        )
        columns = [d[0] for d in result.description]
        return columns, result.fetchall()
    finally:
        for name in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _statements() -> list[str]:
    text = (sql_dir() / "identity.sql").read_text("utf-8")
    return statements(text)


@dataclass(frozen=True)
class Ledger:
    """The ledger of one kind of identity: incidents (attacks) or diplomatic events."""

    kind: str  # "incident" or "event"
    records: str
    prefix: str  # of a record's id

    @property
    def links(self) -> str:
        return f"{self.kind}_links"

    @property
    def id(self) -> str:
        return f"{self.kind}_id"

    def in_force(self, where: str = "TRUE") -> str:
        """The pairs (a, b) whose latest decision joins them."""
        return (
            f"SELECT {self.kind}_a AS a, {self.kind}_b AS b FROM (SELECT * FROM {self.links} "
            f"QUALIFY row_number() OVER (PARTITION BY {self.kind}_a, {self.kind}_b ORDER BY seq DESC) = 1) "
            f"WHERE decision IN ('matched', 'merged') AND ({where})"
        )


INCIDENTS = Ledger("incident", "incidents", "inc_")
EVENTS = Ledger("event", "diplomatic_events", "evt_")


def ledger_of(record_id: str) -> Ledger:
    """The ledger a record id belongs to, by its prefix."""
    return EVENTS if record_id.startswith(EVENTS.prefix) else INCIDENTS


def decide(con: duckdb.DuckDBPyConnection, first: str, second: str | None, decision: str, note: str | None) -> int:
    """By hand: merge two incidents (or two events), or undo one pair (or every pair in force
    of one record)."""
    ledger = ledger_of(first)
    ids = [first] if second is None else [first, second]
    if second is not None and ledger_of(second) is not ledger:
        raise UsageError(f"{first} and {second} are not both incidents (inc_...) or both events (evt_...)")
    known = {
        row[0]
        for row in con.execute(f"SELECT {ledger.id} FROM {ledger.records} WHERE {ledger.id} IN ?", [ids]).fetchall()
    }
    unknown = [i for i in ids if i not in known]
    if unknown:
        source = "v_incidents (inc_...)" if ledger is INCIDENTS else "v_events (evt_...)"
        raise UsageError(f"no {ledger.kind} {unknown[0]!r}: use an {ledger.id} from {source}")
    if second is not None:
        pairs = [tuple(sorted((first, second)))]
    elif ledger is EVENTS:  # the rule's links are not stored: every other record of its event
        pairs = con.execute(
            "SELECT least($id, o.event_id), greatest($id, o.event_id) FROM event_clusters c "
            "JOIN event_clusters o ON o.cluster_id = c.cluster_id AND o.event_id <> c.event_id WHERE c.event_id = $id",
            {"id": first},
        ).fetchall()
    else:
        pairs = con.execute(ledger.in_force("$id IN (a, b)"), {"id": first}).fetchall()
    if not pairs:
        raise UsageError(f"{first} is not linked to any other {ledger.kind}: nothing to undo")
    import pyarrow as pa  # Arrow, only when a decision is written

    rows = [
        {
            f"{ledger.kind}_a": a,
            f"{ledger.kind}_b": b,
            "decision": decision,
            "rule": "by hand",
            "note": note,
            "decided_at": datetime.now(UTC),
        }
        for a, b in pairs
    ]
    with _transaction(con, _EVENT_TEMP if ledger is EVENTS else ()):
        con.register("_decisions", pa.Table.from_pylist(rows))
        con.execute(f"INSERT INTO {ledger.links} BY NAME SELECT * FROM _decisions")
        con.unregister("_decisions")
        if ledger is EVENTS:  # the events of both records worked again, the decision applied
            _cluster_events(con, IdentitySettings(), everything=False, ids=tuple(ids))
        else:
            refresh_clusters(con)
    return len(pairs)


def refresh_clusters(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild `incident_clusters` from the pairs in force; returns the clusters of 2+.

    Connected groups by union-find in Python: label propagation in SQL needs as many rounds
    as the longest chain of pairs, and chains of hundreds of records occur on big stores.
    A cluster is named after its first-loaded record."""
    import pyarrow as pa  # Arrow, only when clusters change

    parent = _components(con.execute(INCIDENTS.in_force()).fetchall())
    con.execute("DELETE FROM incident_clusters")
    if not parent:
        return 0
    con.register("_members", pa.table({"member": list(parent), "root": list(parent.values())}))
    con.execute("""
        INSERT INTO incident_clusters (incident_id, cluster_id)
        SELECT m.member,
               'clu_' || substr(arg_min(m.member, (r.first_loaded_at, m.member)) OVER (PARTITION BY m.root), 5)
        FROM _members m
        JOIN incidents r ON r.incident_id = m.member""")
    con.unregister("_members")
    return int(scalar(con, "SELECT count(DISTINCT cluster_id) FROM incident_clusters"))


def _components(pairs: list[tuple[Any, ...]]) -> dict[Any, Any]:
    """Each member of the pairs -> the root of its connected group (union-find)."""
    parent: dict[Any, Any] = {}

    def root(x: Any) -> Any:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    return {member: root(member) for member in list(parent)}


_EVENT_TEMP = (
    "ev_pending",
    "ev_touched",
    "ev_records",
    "ev_events",
    "ev_worked",
    "ev_url_edges",
    "ev_roots",
    "ev_assigned",
    "ev_old",
    "ev_changed",
)


def match_events(
    con: duckdb.DuckDBPyConnection,
    run_id: str | None,
    settings: IdentitySettings,
    *,
    everything: bool = False,
    ids: tuple[str, ...] = (),
) -> MatchResult:
    """Recognise one real-world event in several event records (sql/event_identity.sql): for
    the days this run touched, those of `ids`, or all; in one transaction. `matched` counts
    the records that joined an event, `stale` those that left one."""
    with _transaction(con, _EVENT_TEMP):
        return _cluster_events(con, settings, everything, ids)


def _cluster_events(
    con: duckdb.DuckDBPyConnection, settings: IdentitySettings, everything: bool, ids: tuple[str, ...]
) -> MatchResult:
    import pyarrow as pa  # Arrow, only when matching

    parts = sections((sql_dir() / "event_identity.sql").read_text("utf-8"))
    # a record is stamped loaded_at when its file's load began (the ledger row's started_at)
    since = scalar(
        con,
        "SELECT min(started_at) FROM ingest_files "
        "WHERE run_id IN (SELECT run_id FROM ingest_runs WHERE identity_done_at IS NULL)",
    )
    params = {"all": everything, "ids": list(ids), "since": since, "max_url_share": settings.max_url_share}
    for statement in parts["groups"]:
        con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
    roots = _components(con.execute("SELECT grp_a, grp_b FROM ev_url_edges").fetchall())
    table = pa.table(
        {"grp": list(roots), "root": list(roots.values())},
        schema=pa.schema([("grp", pa.uint64()), ("root", pa.uint64())]),
    )
    con.register("_roots", table)
    con.execute("CREATE OR REPLACE TEMP TABLE ev_roots AS SELECT * FROM _roots")
    con.unregister("_roots")
    # the touched days, as constants: the zone maps of event_clusters skip the other days
    # (every record worked lies on one: ev_records keeps only the records of these days)
    first_day, last_day = con.execute(
        "SELECT min(middle_day(occurred_at, occurred_latest)), max(middle_day(occurred_at, occurred_latest)) "
        "FROM ev_touched"
    ).fetchone() or (None, None)
    span = {"first_day": first_day, "last_day": last_day}
    for statement in parts["clusters"]:
        con.execute(statement, {k: v for k, v in span.items() if f"${k}" in statement})
    joined, left = con.execute(
        "SELECT count(*) FILTER (WHERE now IS NOT NULL AND now IS DISTINCT FROM was), "
        "count(*) FILTER (WHERE now IS NULL) FROM ev_changed"
    ).fetchone() or (0, 0)
    _merge_by_hand(con)
    clusters = scalar(con, "SELECT count(DISTINCT cluster_id) FROM event_clusters")
    return MatchResult(int(joined), int(left), int(clusters))


def _merge_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    """Join the events of every pair merged by hand (few): their clusters become one, named
    after the first-loaded record of all."""
    import pyarrow as pa

    merged = con.execute("""
        SELECT coalesce(ca.cluster_id, 'ecl_' || substr(l.event_a, 5)),
               coalesce(cb.cluster_id, 'ecl_' || substr(l.event_b, 5))
        FROM v_event_links l
        LEFT JOIN event_clusters ca ON ca.event_id = l.event_a
        LEFT JOIN event_clusters cb ON cb.event_id = l.event_b
        WHERE l.decision = 'merged'""").fetchall()
    if not merged:
        return
    roots = _components(merged)
    con.register("_joined", pa.table({"cluster_id": list(roots), "root": list(roots.values())}))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ev_merged AS
        WITH members AS (
            SELECT e.event_id, e.first_loaded_at, j.root, middle_day(e.occurred_at, e.occurred_latest) AS day
            FROM diplomatic_events e
            LEFT JOIN event_clusters c USING (event_id)
            JOIN _joined j ON j.cluster_id = coalesce(c.cluster_id, 'ecl_' || substr(e.event_id, 5))
        )
        SELECT event_id, 'ecl_' || substr(arg_min(event_id, (first_loaded_at, event_id)) OVER (PARTITION BY root), 5)
            AS cluster_id, day
        FROM members""")
    con.unregister("_joined")
    con.execute("DELETE FROM event_clusters WHERE event_id IN (SELECT event_id FROM ev_merged)")
    con.execute("INSERT INTO event_clusters BY NAME SELECT * FROM ev_merged")
    con.execute("DROP TABLE ev_merged")


def _decide_by_rule(
    con: duckdb.DuckDBPyConnection, decision: str, now: datetime, run_id: str | None, select: str
) -> int:
    """Record the rule's `decision` for each distinct pair (a, b, evidence) of incidents the
    SELECT yields; how many."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE id_new AS SELECT DISTINCT ON (a, b) * FROM ({select})")
    con.execute(
        "INSERT INTO incident_links (incident_a, incident_b, decision, rule, evidence, decided_at, run_id) "
        "SELECT a, b, $decision, $rule, evidence, $now, $run FROM id_new ORDER BY a, b",
        {"decision": decision, "rule": RULE, "now": now, "run": run_id},
    )
    return int(scalar(con, "SELECT count(*) FROM id_new"))
