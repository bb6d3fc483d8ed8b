"""What a report's params match nothing of in the store: each filter is checked on its own
with one cheap query, and one that nothing matches is named ("no incident has a target in
EST", "no incident is known to the hour or finer"). That is why a report came back empty,
or why its counts are all zero. The CLI says these on stderr; stdout keeps the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb

from ingest.canon.records import VOCABULARIES
from ingest.reports.catalog import Param, Report

Check = Callable[[duckdb.DuckDBPyConnection, Report, Param, Any], list[str]]

# what a report counts: attacks (incidents), diplomatic events, or both
_READS = {"incident": re.compile(r"\bv_attacks\b"), "event": re.compile(r"\b(diplomatic_events|v_event_clusters)\b")}
_TABLES = {
    "incident": ("incidents", "started_at", "started_latest"),
    "event": ("diplomatic_events", "occurred_at", "occurred_latest"),
}
_NAMES = {"incident": "incident", "event": "diplomatic event"}


def reasons(con: duckdb.DuckDBPyConnection, report: Report, params: dict[str, Any]) -> list[str]:
    """Each filter of these params that nothing in the store meets, said as a fact; [] when
    each meets something (two filters that only miss each other are not named)."""
    reads = [kind for kind, pattern in _READS.items() if pattern.search(report.sql)]
    found = [
        reason
        for param in report.params
        if params.get(param.name) is not None and param.type in _CHECKS
        for reason in _CHECKS[param.type](con, report, param, params[param.name])
    ]
    return found + [reason for kind in reads for reason in _span(con, kind, params.get("since"), params.get("until"))]


def _exists(con: duckdb.DuckDBPyConnection, table: str, condition: str, value: Any) -> bool:
    """Whether any row of `table` meets `condition` (our own SQL; the user's value is bound as $value)."""
    row = con.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {condition})", {"value": value}).fetchone()
    return bool(row and row[0])


def _country(con: duckdb.DuckDBPyConnection, report: Report, param: Param, code: str) -> list[str]:
    """The help says what a country filters: incidents' targets, events' actors, or both (timeline)."""
    found: list[str] = []
    if "target" in param.help and not _exists(con, "incident_targets", "country = $value", code):
        found.append(f"no incident has a target in {code}")
    if "event" in param.help and not _exists(con, "diplomatic_events", "list_contains(actor_countries, $value)", code):
        found.append(f"no diplomatic event has an actor from {code}")
    return found


def _sector(con: duckdb.DuckDBPyConnection, report: Report, param: Param, sector: str) -> list[str]:
    if _exists(con, "incident_targets", "sector = $value OR list_contains(sectors, $value)", sector):
        return []
    return [f"no incident has a target in sector {sector}"]


def _attack_type(con: duckdb.DuckDBPyConnection, report: Report, param: Param, attack_type: str) -> list[str]:
    if _exists(con, "incidents", "list_contains(attack_types, $value)", attack_type):
        return []
    return [f"no incident has attack type {attack_type}"]


def _event_class(con: duckdb.DuckDBPyConnection, report: Report, param: Param, event_class: str) -> list[str]:
    if _exists(con, "diplomatic_events", "event_class = $value", event_class):
        return []
    return [f"no diplomatic event is of class {event_class}"]


def _precision(con: duckdb.DuckDBPyConnection, report: Report, param: Param, precision: str) -> list[str]:
    """Nothing known as precisely as asked (hour bins over data known to the day)."""
    precisions = VOCABULARIES["time_precision"]  # finest first
    finer = list(precisions[: precisions.index(precision) + 1])
    said = f"to the {precision}" + (" or finer" if len(finer) > 1 else "")
    known = "list_contains($value, time_precision)"
    return [
        f"no {_NAMES[kind]} is known {said}"
        for kind, pattern in _READS.items()
        if pattern.search(report.sql) and not _exists(con, _TABLES[kind][0], known, finer)
    ]


def _span(con: duckdb.DuckDBPyConnection, kind: str, since: date | None, until: date | None) -> list[str]:
    """Nothing in since..until; a day of slack each side, as reports may count days in a zone."""
    if since is None and until is None:
        return []
    table, first, latest = _TABLES[kind]
    condition = (
        f"($since IS NULL OR {latest} > CAST($since AS DATE) - INTERVAL 1 DAY) "
        f"AND ($until IS NULL OR {first} < CAST($until AS DATE) + INTERVAL 2 DAY)"
    )
    sql = f"SELECT count(*) FILTER (WHERE {condition}), min({first})::DATE, max({first})::DATE FROM {table}"
    row = con.execute(sql, {"since": since, "until": until}).fetchone()
    if row is None or row[0]:
        return []
    asked = f"on or after {since}" if until is None else f"on or before {until}"
    if since is not None and until is not None:
        asked = f"between {since} and {until}"
    held = f"{_NAMES[kind]}s from {row[1]} to {row[2]}" if row[1] else f"no {_NAMES[kind]}s"
    return [f"no {_NAMES[kind]} {asked}; the store holds {held}"]


_CHECKS: dict[str, Check] = {
    "COUNTRY": _country,
    "SECTOR": _sector,
    "ATTACK_TYPE": _attack_type,
    "EVENT_CLASS": _event_class,
    "PRECISION": _precision,
}
