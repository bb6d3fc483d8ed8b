"""Calibration of the correlation reports: how often chance passes, how often a planted effect is found.

    python benchmarks/calibrate.py [--worlds N] [--keep DIR]

Null worlds (tests/worlds.py) draw attacks and events independently given a shared crisis
(both series surge fivefold for a hundred days), a slow trend, the working week, bursts of
attacks and processes of events. Three shapes: the crisis arriving over three weeks, the
crisis arriving overnight (the hardest case for any local baseline), and no crisis. For each
report the share of tests significant at 0.05, raw and adjusted; then planted worlds (two
attacks a day after each event day of one class) and how often the planted lag, day and
direction are found. The figures in the docs (docs/reports/reading.md) come from this script.
`--keep DIR` leaves one null and one planted store there to explore with `cyberlog --db`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import worlds

from ingest.reports import catalog as reports
from ingest.store import open_store

Rows = list[dict[str, Any]]
SHAPES = {
    "crisis over three weeks": worlds.Shape(ramp=21),
    "crisis overnight": worlds.Shape(),
    "no crisis": worlds.Shape(surge_factor=1.0),
}


def report(db: Path, name: str, **given: object) -> Rows:
    found = reports.get(name)
    params = found.bind({k: str(v) for k, v in given.items()})
    with open_store(db, write=False) as con:
        cursor = con.execute(found.sql, found.sql_params(params))
        columns, rows = [d[0] for d in cursor.description or []], cursor.fetchall()
    if found.compute:
        columns, rows = reports.compute(found, rows, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def share(rows: Rows, column: str, keep: Callable[[dict[str, Any]], bool] = lambda r: True) -> str:
    tested = [r for r in rows if keep(r) and r[column] is not None]
    hits = sum(r[column] <= 0.05 for r in tested)
    return f"{hits:4}/{len(tested):<5} {hits / max(1, len(tested)):6.1%}"


def null_rates(folder: Path, shape: worlds.Shape, count: int) -> dict[str, Rows]:
    found: dict[str, Rows] = {"event_study": [], "lag_profile": [], "direction": [], "lead_lag": []}
    for seed in range(count):
        db = worlds.write(worlds.world(900 + seed, shape), folder / f"null-{seed}.duckdb")
        found["event_study"] += report(db, "event_study")
        for event_class in worlds.CLASSES:
            profile = report(db, "lag_profile", event_class=event_class)
            found["lag_profile"] += profile
            found["direction"].append(profile[0])
            if seed < max(1, count // 2):  # each lead_lag refits its VAR on every draw: half the worlds
                found["lead_lag"] += report(db, "lead_lag", event_class=event_class, permutations=99)
        db.unlink()
    return found


def planted_rates(folder: Path, shape: worlds.Shape, count: int) -> dict[str, int]:
    found = {"worlds": count, "lag 1 only": 0, "day 1 only": 0, "class": 0, "direction": 0, "events lead": 0}
    for seed in range(count):
        db = worlds.write(worlds.world(700 + seed, shape, ("sanction", 1, 2.0)), folder / f"planted-{seed}.duckdb")
        profile = report(db, "lag_profile", event_class="sanction")
        found["lag 1 only"] += [r["lag"] for r in profile if r["p_adjusted"] <= 0.05] == [1]
        found["direction"] += profile[0]["direction_p"] <= 0.05
        days = report(db, "event_study", group="day", event_class="sanction")
        found["day 1 only"] += [r["day_offset"] for r in days if r["p_adjusted"] <= 0.05] == [1]
        classes = {r["event_class"]: r for r in report(db, "event_study")}
        found["class"] += classes["sanction"]["p_adjusted"] <= 0.05
        leads = {r["cause"]: r for r in report(db, "lead_lag", event_class="sanction", permutations=99)}
        found["events lead"] += leads["events"]["p_adjusted"] <= 0.05 < leads["attacks"]["p_adjusted"]
        db.unlink()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20, help="worlds per shape [default: 20]")
    parser.add_argument("--keep", type=Path, help="leave a null and a planted store in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(__import__("tempfile").mkdtemp(prefix="calibrate_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{args.worlds} worlds per shape, 3 event classes each; significant at 0.05: count/tests share")
    for label, shape in SHAPES.items():
        rates = null_rates(folder, shape, args.worlds)
        print(f"\nnull, {label}")
        print(
            f"  event_study classes   raw {share(rates['event_study'], 'p_value')}"
            f"   adjusted {share(rates['event_study'], 'p_adjusted')}"
        )
        print(
            f"  lag_profile lags      raw {share(rates['lag_profile'], 'p_value')}"
            f"   adjusted {share(rates['lag_profile'], 'p_adjusted')}"
        )
        print(f"  lag_profile direction     {share(rates['direction'], 'direction_p')}")
        print(
            f"  lead_lag directions   F   {share(rates['lead_lag'], 'p_f')}"
            f"   draws, adjusted {share(rates['lead_lag'], 'p_adjusted')}"
        )
    for label, shape in list(SHAPES.items())[:2]:
        found = planted_rates(folder, shape, max(4, args.worlds // 2))
        counts = ", ".join(f"{k} {v}" for k, v in found.items() if k != "worlds")
        print(
            f"\nplanted (2 attacks a day after each sanction event day), {label}: found in {counts}"
            f" of {found['worlds']} worlds"
        )
    if args.keep:
        worlds.write(worlds.world(1, SHAPES["crisis over three weeks"]), folder / "null.duckdb")
        planted = worlds.world(1, SHAPES["crisis over three weeks"], ("sanction", 1, 2.0))
        worlds.write(planted, folder / "planted.duckdb")
        print(f"\nkept: {folder / 'null.duckdb'} and {folder / 'planted.duckdb'}")


if __name__ == "__main__":
    main()
