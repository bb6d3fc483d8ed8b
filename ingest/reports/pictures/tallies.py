"""The counting reports drawn: `targets_by_period` as a heat map of sector by period, and
`attack_bursts` as each burst's alerts per minute with the incident derived from it.

Only the report's rows are drawn. A heat-map cell counts the attacks (clusters) behind the
rows of its sector and period, each once, whatever their countries and attack types: the
rows split one attack over several lines, the cell does not. For a burst the rows give the
incident, its first and last alert and its peak; the alerts per minute come from the store,
for the rows' incidents only, counted as the rule that derived them counted (alerts, or the
events a CEF alert stands for), over the burst and a margin either side of it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from ingest.reports.pictures import Drawing, Picture, builds, capped

NOTHING = "no rows to draw"
NO_SECTOR = "(no sector)"
SPANS = "(spans periods)"
MOST_BURSTS = 40  # bursts drawn, one small chart each
MOST_COLUMNS = 520  # periods a heat map fills its gaps up to (ten years of weeks)


def _period_start(key: str) -> date | None:
    """The first day of a period label ('2022-02', '2022-W07'), or None for any other text."""
    try:
        if "-W" in key:
            year, week = key.split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        year, month = key.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _label(day: date, weekly: bool) -> str:
    if weekly:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _next(day: date, weekly: bool) -> date:
    if weekly:
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _periods(found: set[str]) -> list[dict[str, Any]]:
    """The periods of the rows in time order, the ones between them that had no row filled
    in (empty columns, so the gaps show), then the rows' other labels such as '(spans periods)'."""
    dated = sorted((d, k) for k in found if (d := _period_start(k)) is not None)
    other = sorted(k for k in found if _period_start(k) is None)
    keys = [k for _, k in dated]
    if dated:
        weekly = "-W" in dated[0][1]
        filled: list[str] = []
        day = dated[0][0]
        while day <= dated[-1][0] and len(filled) <= MOST_COLUMNS:
            filled.append(_label(day, weekly))
            day = _next(day, weekly)
        if len(filled) <= MOST_COLUMNS and set(keys) <= set(filled):
            keys = filled
    return [{"key": k, "empty": k not in found} for k in keys + other]


@builds("targets_by_period")
def targets_by_period(drawing: Drawing) -> Picture:
    cells: dict[tuple[str | None, str], dict[str, Any]] = {}
    attacks: dict[str, int] = {}
    for r in drawing.records():
        period = r["period"] if r["period"] is not None else "(no period)"
        cell = cells.setdefault(
            (r["sector"], period),
            {"sector": r["sector"], "period": period, "clusters": set(), "most": 0, "rows": [], "parts": []},
        )
        cell["clusters"].update(r["cluster_ids"] or [])
        cell["most"] = max(cell["most"], r["attacks"] or 0)
        cell["rows"].append(r["row"])
        cell["parts"].append(
            {"country": r["target_country"], "type": r["attack_type"], "attacks": r["attacks"], "row": r["row"]}
        )
        if r["attacks_in_period"] is not None:
            attacks[period] = r["attacks_in_period"]
    marks = [
        {
            "sector": c["sector"],
            "period": c["period"],
            # each attack once: the rows split one over its countries and attack types
            "count": len(c["clusters"]) or c["most"],
            "clusters": sorted(c["clusters"]),
            "rows": c["rows"],
            "parts": c["parts"],
        }
        for c in cells.values()
    ]
    marks, notes = capped(marks, "cells")
    sectors = sorted({m["sector"] for m in marks}, key=lambda s: (s is None, s or ""))
    periods = _periods({m["period"] for m in marks})
    for p in periods:
        p["attacks"] = attacks.get(p["key"], 0)
    data = {
        "by": drawing.params.get("period") or "month",
        "sectors": [{"key": s, "label": s if s is not None else NO_SECTOR} for s in sectors],
        "periods": periods,
        "cells": marks,
        "max": max((m["count"] for m in marks), default=0),
    }
    return Picture("targets_by_period", data, notes + ([] if marks else [NOTHING]))


MINUTES_SQL = """
WITH wanted AS (SELECT unnest($ids::VARCHAR[]) AS id),
bursts AS (
    SELECT d.incident_id, d.target_key, d.category, d.rule,
           -- the burst and a margin either side: half its length, ten minutes at least
           date_trunc('minute', d.started_at)
               - to_seconds(greatest(600, (epoch(d.ended_at) - epoch(d.started_at)) / 2)::BIGINT) AS lo,
           d.ended_at + to_seconds(greatest(600, (epoch(d.ended_at) - epoch(d.started_at)) / 2)::BIGINT) AS hi
    FROM derived_incidents d SEMI JOIN wanted w ON w.id = d.incident_id
)
SELECT b.incident_id, any_value(b.rule) AS rule, any_value(b.lo) AS lo, any_value(b.hi) AS hi,
       list({'t': m.minute, 'alerts': m.alerts, 'events': m.events} ORDER BY m.minute)
           FILTER (WHERE m.minute IS NOT NULL) AS minutes
FROM bursts b
LEFT JOIN (
    SELECT b.incident_id, date_trunc('minute', a.observed_at) AS minute, count(*) AS alerts,
           sum(a.event_count)::BIGINT AS events
    FROM bursts b
    JOIN alerts a ON a.target_key = b.target_key AND a.category = b.category
                 AND a.observed_at >= b.lo AND a.observed_at < b.hi
    GROUP BY ALL
) m USING (incident_id)
GROUP BY b.incident_id
"""


def _minutes(drawing: Drawing, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per incident: the rule that derived it, the window drawn, and its alerts per minute."""
    found = drawing.con.execute(MINUTES_SQL, {"ids": ids}).fetchall()
    out = {}
    for incident, rule, lo, hi, minutes in found:
        settings = json.loads(rule) if isinstance(rule, str) else (rule or {})
        by_events = settings.get("count") == "events" or bool(settings.get("by_events"))
        out[incident] = {
            "counts": "events" if by_events else "alerts",
            "threshold": settings.get("min_per_minute"),
            "lo": lo,
            "hi": hi,
            "minutes": [
                {"t": m["t"], "n": m["events"] if by_events else m["alerts"], "alerts": m["alerts"]}
                for m in minutes or []
            ],
        }
    return out


@builds("attack_bursts")
def attack_bursts(drawing: Drawing) -> Picture:
    items, notes = capped(drawing.records(), "bursts", MOST_BURSTS)
    per = _minutes(drawing, sorted({r["incident_id"] for r in items if r["incident_id"]}))
    bursts = []
    for r in items:
        store = per.get(r["incident_id"])
        if store is None:  # the store no longer has it
            continue
        bursts.append(
            {
                "row": r["row"],
                "incident": r["incident_id"],
                "cluster": r["cluster_id"],
                "target": r["target"],
                "category": r["category"],
                "first": r["first_alert"],
                "last": r["last_alert"],
                "minutes_long": r["minutes"],
                "alerts": r["alerts"],
                "peak": r["peak_per_minute"],
                "peak_minute": r["peak_minute"],
                "logged_by": r["logged_by"],
                "top_sources": r["top_sources"],
                "reported_by": r["reported_by"],
                "reported_start": r["reported_start"],
                "reported_precision": r["reported_precision"],
                "reported_minus_logged": r["reported_minus_logged_minutes"],
                **store,
            }
        )
    return Picture("attack_bursts", {"bursts": bursts}, notes + ([] if bursts else [NOTHING]))
