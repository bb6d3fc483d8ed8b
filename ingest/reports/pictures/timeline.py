"""Incidents and events on one time axis: the `timeline` report's rows, and the pairs of
`incidents_near_events` joined by a line labelled with their lag.

Only the report's rows are drawn. Each incident sits in one lane per attack type it has,
each event in the lane of its class; a time is drawn as the interval it can lie in (a day
is a bar a day long) with its mark at the middle, where lags are measured. The interval's
ends come from the store (the report shows the time as text), as do each incident's
sources and evidence, shown on hover.
"""

from __future__ import annotations

from typing import Any

from ingest.reports.pictures import Drawing, Picture, builds, capped

BOUNDS_SQL = """
WITH wanted AS (SELECT unnest($ids::VARCHAR[]) AS id),
evidence AS (
    SELECT coalesce(c.cluster_id, 'clu_' || substr(i.incident_id, 5)) AS id,
           string_agg(DISTINCT i.source || ': ' || coalesce(i.evidence, 'evidence not stated'), '; '
                      ORDER BY i.source || ': ' || coalesce(i.evidence, 'evidence not stated')) AS evidence
    FROM incidents i LEFT JOIN incident_clusters c USING (incident_id)
    GROUP BY ALL
)
SELECT a.cluster_id AS id, a.started_at AS t0, a.started_latest AS t1, e.evidence
FROM v_attacks a SEMI JOIN wanted w ON w.id = a.cluster_id
LEFT JOIN evidence e ON e.id = a.cluster_id
UNION ALL
SELECT e.cluster_id, e.occurred_at, e.occurred_latest, NULL
FROM v_event_clusters e SEMI JOIN wanted w ON w.id = e.cluster_id
"""


def _bounds(drawing: Drawing, ids: set[str]) -> dict[str, tuple[Any, Any, str | None]]:
    found = drawing.con.execute(BOUNDS_SQL, {"ids": sorted(ids)}).fetchall()
    return {i: (t0, t1, evidence) for i, t0, t1, evidence in found}


def _lanes(kind: str, category: str | None) -> list[str]:
    """The lanes of one mark: an incident's attack types one by one, an event's class."""
    if kind == "incident":
        return [f"incident: {t}" for t in (category or "other").split(";") if t] or ["incident: other"]
    return [f"event: {category or 'other'}"]


def _marks(items: list[dict[str, Any]], bounds: dict[str, tuple[Any, Any, str | None]]) -> list[dict[str, Any]]:
    """One mark per item and lane, with its interval; items the store no longer has are left out."""
    marks = []
    for item in items:
        if item["id"] not in bounds:
            continue
        t0, t1, evidence = bounds[item["id"]]
        for lane in _lanes(item["kind"], item["category"]):
            marks.append({**item, "lane": lane, "t0": t0, "t1": t1 or t0, "evidence": evidence})
    return marks


def _timeline_items(drawing: Drawing) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "category": r["category"],
            "title": r["title"],
            "when": r["happened"],
            "precision": r["time_precision"],
            "sources": r["source"],
            "records": r["records"],
            "url": r["url"],
            "countries": r["countries"],
            "rows": [r["row"]],
        }
        for r in drawing.records()
    ]


def _near_items(drawing: Drawing) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The incidents and events of the report's pairs, once each, and the pairs."""
    items: dict[str, dict[str, Any]] = {}
    pairs = []
    for r in drawing.records():
        incident = items.setdefault(
            r["cluster_id"],
            {
                "id": r["cluster_id"],
                "kind": "incident",
                "category": r["attack_types"],
                "title": r["incident"],
                "when": r["incident_at"],
                "precision": r["incident_precision"],
                "sources": r["incident_sources"],
                "url": r["incident_url"],
                "countries": r["target_countries"],
                "rows": [],
            },
        )
        event = items.setdefault(
            r["event_cluster_id"],
            {
                "id": r["event_cluster_id"],
                "kind": "event",
                "category": r["event_class"],
                "title": r["event"],
                "when": r["event_at"],
                "precision": r["event_precision"],
                "sources": r["event_source"],
                "records": r["event_records"],
                "url": r["event_url"],
                "countries": r["event_countries"],
                "rows": [],
            },
        )
        incident["rows"].append(r["row"])
        event["rows"].append(r["row"])
        pairs.append(
            {
                "incident": r["cluster_id"],
                "event": r["event_cluster_id"],
                "lag": r["lag_hours"],
                "lag_min": r["lag_min_hours"],
                "lag_max": r["lag_max_hours"],
                "within": r["within"],
                "row": r["row"],
            }
        )
    return list(items.values()), pairs


def _lane_order(marks: list[dict[str, Any]]) -> list[dict[str, str]]:
    keys = sorted({m["lane"] for m in marks}, key=lambda k: (not k.startswith("incident"), k))
    return [{"key": k, "kind": k.split(":", 1)[0], "label": k.split(": ", 1)[1]} for k in keys]


@builds("timeline")
def timeline(drawing: Drawing) -> Picture:
    items, notes = capped(_timeline_items(drawing), "incidents and events")
    marks = _marks(items, _bounds(drawing, {i["id"] for i in items}))
    return Picture("timeline", {"lanes": _lane_order(marks), "marks": marks, "pairs": []}, notes)


@builds("incidents_near_events")
def incidents_near_events(drawing: Drawing) -> Picture:
    items, pairs = _near_items(drawing)
    items, notes = capped(items, "incidents and events")
    shown = {i["id"] for i in items}
    pairs, more = capped([p for p in pairs if p["incident"] in shown and p["event"] in shown], "pairs")
    marks = _marks(items, _bounds(drawing, shown))
    return Picture("timeline", {"lanes": _lane_order(marks), "marks": marks, "pairs": pairs}, notes + more)
