"""The statistical reports' pictures: what `lag_profile`, `event_study` and `attribution_lag`
answered, drawn from their rows and nothing else.

- `lag_profile`: the observed count at each lag as a bar, the baseline's expected count as a
  line and its chance band (expected ± 1.96 sd of the draws) shaded behind; a bar whose
  adjusted p is at most 0.05 is `significant` (and starred), a lag whose `note` says it cannot
  reach 0.05 whatever the data is flagged (†); lag 0 is a dashed line and the report's
  `direction` (after minus before, against the draws) is written above the chart.
- `event_study`: with `group` = day, one small chart per class, the abnormal count on each day
  of the window as a bar in its 95% band; with `group` = class, one bar per class; with
  `group` = event, one chart per class and one row per event (capped).
- `attribution_lag`: one mark per row on a days axis (log-like, so hours and years both show),
  its interval from `lag_min_days` to `lag_max_days` behind it, a lane per attributing party
  with the party's median drawn across it.
"""

from __future__ import annotations

from typing import Any

from ingest.reports.pictures import Drawing, Picture, builds, capped

ALPHA = 0.05  # what the reports call significant (their descriptions say "read p_adjusted")
MAX_EVENTS = 300  # rows of the per-event view before it says how many it left out
NOTHING = "no rows to draw: the report found nothing for these params"


def _significant(p: Any) -> bool:
    return p is not None and p <= ALPHA


def _underpowered(note: Any) -> bool:
    """The report's power flag: its `note` says the row cannot reach 0.05 whatever the data."""
    return isinstance(note, str) and "cannot reach 0.05" in note


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


@builds("lag_profile")
def lag_profile(drawing: Drawing) -> Picture:
    records = drawing.records()
    lags = []
    for r in records:
        expected, sd = _number(r["expected"]), _number(r["sd"])
        low = high = None
        if expected is not None:
            spread = 1.96 * (sd or 0.0)
            low, high = max(0.0, expected - spread), expected + spread
        lags.append(
            {
                "lag": r["lag"],
                "observed": r["observed"],
                "expected": expected,
                "sd": sd,
                "low": low,
                "high": high,
                "ratio": _number(r["ratio"]),
                "ratio_low": _number(r["ratio_low"]),
                "ratio_high": _number(r["ratio_high"]),
                "p_value": _number(r["p_value"]),
                "p_adjusted": _number(r["p_adjusted"]),
                "significant": _significant(r["p_adjusted"]),
                "underpowered": _underpowered(r["note"]),
                "note": r["note"],
                "distinct_attacks": r["distinct_attacks"],
                "row": r["row"],
            }
        )
    first = records[0] if records else {}
    data = {
        "bin": first.get("bin", drawing.params.get("bin")),
        "event_class": drawing.params.get("event_class"),
        "direction": _number(first.get("direction")),
        "direction_p": _number(first.get("direction_p")),
        "events": first.get("events"),
        "tests": first.get("tests"),
        "null_model": first.get("null_model"),
        "span_from": first.get("span_from"),
        "span_to": first.get("span_to"),
        "lags": lags,
    }
    return Picture("lag_profile", data, [] if lags else [NOTHING])


def _numbers(r: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: _number(r[name]) for name in names}


def _tested(r: dict[str, Any]) -> dict[str, Any]:
    """What every row of event_study says of its test: the adjusted p, and whether it could pass."""
    return {
        "p_adjusted": _number(r["p_adjusted"]),
        "significant": _significant(r["p_adjusted"]),
        "underpowered": _underpowered(r["note"]),
        "note": r["note"],
        "row": r["row"],
    }


def _day(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "day": r["day_offset"],
        **_numbers(r, "attacks", "expected", "abnormal", "band_low", "band_high"),
        **_tested(r),
    }


def _class(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_class": r["event_class"],
        "event_days": r["event_days"],
        "provisional_days": r["provisional_days"],
        **_numbers(r, "pre", "post", "expected_pre", "expected_post", "abnormal", "band_low", "band_high"),
        **_tested(r),
    }


def _event(r: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: r[name] for name in ("event_class", "event_day", "event_id", "event", "url")},
        **_numbers(r, "pre", "post", "expected_pre", "expected_post", "abnormal"),
        "placebo_days": r["baseline_size"],
        "provisional": bool(r["provisional"]),
        **_tested(r),
    }


@builds("event_study")
def event_study(drawing: Drawing) -> Picture:
    group = drawing.params.get("group") or "class"
    records = drawing.records()
    notes: list[str] = [] if records else [NOTHING]
    classes: dict[str, dict[str, Any]] = {}
    if group == "event":
        records, notes = capped(records, "events", MAX_EVENTS) if records else (records, notes)
    for r in records:
        name = r["event_class"]
        entry = classes.setdefault(
            name,
            {
                "event_class": name,
                "event_days": r["event_days"],
                "provisional_days": r["provisional_days"],
                "items": [],
            },
        )
        if group == "day":
            entry["items"].append(_day(r))
        elif group == "event":
            entry["items"].append(_event(r))
        else:
            entry["items"].append(_class(r))
    first = records[0] if records else {}
    data = {
        "group": group,
        "pre_days": drawing.params.get("pre_days"),
        "post_days": drawing.params.get("post_days"),
        "null_model": first.get("null_model"),
        "span_from": first.get("span_from"),
        "span_to": first.get("span_to"),
        "classes": list(classes.values()),
    }
    return Picture("event_study", data, notes)


@builds("attribution_lag")
def attribution_lag(drawing: Drawing) -> Picture:
    records = drawing.records()
    marks, notes = capped(
        [
            {
                "row": r["row"],
                "cluster_id": r["cluster_id"],
                "title": r["title"],
                "attack_at": r["attack_at"],
                "attack_types": r["attack_types"],
                "actor": r["actor"],
                "role": r["role"],
                "party": r["attributed_by"],
                "attributed_at": r["attributed_at"],
                "dated": r["dated"],
                "basis": r["basis"],
                "lag": _number(r["lag_days"]),
                "min": _number(r["lag_min_days"]),
                "max": _number(r["lag_max_days"]),
                "note": r["note"],
                "impossible": r["lag_max_days"] is not None and r["lag_max_days"] < 0,
            }
            for r in records
        ],
        "attributions",
    )
    parties: dict[str, dict[str, Any]] = {}
    for r, mark in zip(records, marks, strict=False):
        party = parties.setdefault(mark["party"], {"party": mark["party"], "medians": {}, "rows": []})
        party["rows"].append(mark["row"])
        if r["party_median_days"] is not None:
            # the report's party figures are per actor, party and basis: one median each
            key = f"{r['actor']} ({r['basis']})"
            party["medians"][key] = {
                "actor": r["actor"],
                "basis": r["basis"],
                "attacks": r["party_attacks"],
                "median": _number(r["party_median_days"]),
                "min": _number(r["party_min_days"]),
                "max": _number(r["party_max_days"]),
            }

    def order(party: dict[str, Any]) -> tuple[float, str]:
        first = min(
            (m["lag"] if m["lag"] is not None else m["max"]) or 0.0 for m in marks if m["party"] == party["party"]
        )
        return (first, party["party"])

    lanes = [{**p, "medians": list(p["medians"].values())} for p in sorted(parties.values(), key=order)]
    return Picture("attribution_lag", {"lanes": lanes, "marks": marks}, notes or ([] if records else [NOTHING]))
