"""Reading clusters for people: the list of clusters of several records, and one cluster
with its records, the decisions that joined them and where its sources disagree.

The matcher that makes them is `ingest/derive/clusters.py`; this only reads its views.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ingest.errors import UsageError

Query = tuple[str, dict[str, Any]]  # a SELECT and its params, for the caller to write out

_LISTED = {  # events?: (view, its clusters newest first)
    False: (
        "v_clusters",
        "SELECT cluster_id, records, array_to_string(sources, ';') AS sources, started, "
        "time_records, title FROM v_clusters WHERE records > 1 OR $every ORDER BY started_at DESC, cluster_id",
    ),
    True: (
        "v_event_clusters",
        "SELECT cluster_id, records, array_to_string(sources, ';') AS sources, "
        "time_text(occurred_at, occurred_latest, time_precision) AS occurred, event_class, title "
        "FROM v_event_clusters WHERE records > 1 OR $every ORDER BY occurred_at DESC, cluster_id",
    ),
}


def listing(*, events: bool, every: bool) -> Query:
    """Clusters of several records, newest first; `every`: those of one record too."""
    return _LISTED[events][1], {"every": every}


def sizes(con: duckdb.DuckDBPyConnection, *, events: bool) -> tuple[int, int]:
    """How many clusters hold several records, and how many one."""
    several, single = con.execute(
        f"SELECT count(*) FILTER (records > 1), count(*) FILTER (records = 1) FROM {_LISTED[events][0]}"
    ).fetchone() or (0, 0)
    return int(several), int(single)


_SHOWN = {  # kind: (view, id column, where to find ids, {section: SELECT of cluster $c})
    "event": (
        "v_events",
        "event_id",
        "`cyberlog clusters list --events`",
        {
            "records": "SELECT event_id, source, source_ref, "
            "time_text(occurred_at, occurred_latest, time_precision) AS occurred, event_class, cameo_code, "
            "array_to_string(actor_countries, ';') AS actor_countries, title "
            "FROM v_events WHERE cluster_id = $c ORDER BY occurred_at, event_id",
            "decisions": "SELECT l.event_a, l.event_b, l.decision, l.rule, l.evidence, l.note, l.decided_at "
            "FROM event_links l JOIN v_events a ON a.event_id = l.event_a WHERE a.cluster_id = $c ORDER BY l.seq",
        },
    ),
    "incident": (
        "v_incidents",
        "incident_id",
        "`cyberlog clusters list`",
        {
            "records": "SELECT incident_id, source, source_ref, "
            "time_text(started_at, started_latest, time_precision) AS started, time_basis, attack_types, title "
            "FROM v_incidents WHERE cluster_id = $c ORDER BY started_at, incident_id",
            "decisions": "SELECT l.incident_a, l.incident_b, l.decision, l.rule, l.evidence, l.note, l.decided_at "
            "FROM incident_links l JOIN v_incidents a ON a.incident_id = l.incident_a "
            "WHERE a.cluster_id = $c ORDER BY l.seq",
            "disagreements": "SELECT aspect, says FROM v_cluster_disagreements WHERE cluster_id = $c ORDER BY aspect",
        },
    ),
}


def shown(con: duckdb.DuckDBPyConnection, record: str) -> tuple[str, dict[str, Query]]:
    """The cluster a cluster, incident or event id names, and what shows it: its records,
    the decisions that joined them and (of incidents) where the sources disagree."""
    view, id_column, hint, sections = _SHOWN["event" if record.startswith(("ecl_", "evt_")) else "incident"]
    found = con.execute(
        f"SELECT cluster_id FROM {view} WHERE $id IN (cluster_id, {id_column}) LIMIT 1", {"id": record}
    ).fetchall()
    if not found:
        raise UsageError(f"no cluster or record {record!r}: see {hint}")
    cluster_id = str(found[0][0])
    return cluster_id, {title: (sql, {"c": cluster_id}) for title, sql in sections.items()}
