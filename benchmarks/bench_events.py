"""Curated events benchmark: `cyberlog ingest` of a curated diplomatic-events CSV against
DuckDB's own read_csv of the same file.

    python benchmarks/bench_events.py [--rows N] [--seed S] [--workdir DIR]

Writes a synthetic events CSV (fixed seed; CAMEO codes with and without a class, one to
three actor countries, quoted titles and places, times from a year to a minute with an
offset; about 0.5% bad rows), then times whole processes, best of 3, with peak RSS from
os.wait4: DuckDB reading the file into a table (the floor: it checks nothing),
`cyberlog ingest` into a fresh store (rows checked inside DuckDB, the model sees the rest),
and the same with `--timezone UTC`, which sends every row through the pydantic model (the
careful path; the same values for this file, whose times all carry a date or an offset).
No timing assertions: exits non-zero only when a command fails or the counts do not add up.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from bench_ingest import baseline, child, fail, fresh, main_for, stored, write_csv

HEADER = [
    "ref", "occurred_at", "time_precision", "title", "event_class", "cameo_code", "actor_countries", "location",
    "url", "description",
]  # fmt: skip
COUNTRIES = ["UKR", "RUS", "USA", "DEU", "FRA", "GBR", "POL", "BLR", "CHN", "TUR"]
CLASSES = ["", "", "", "talks", "visit", "statement", "sanction", "recognition", "threat", "military"]
CODES = ["", "036", "040", "042", "043", "046", "057", "112", "163", "172", "0874", "195"]
PLACES = ["", "Moscow, RUS", "Kyiv", "Geneva, CHE", "Brussels, BEL", "Munich"]
COUNTS = "SELECT (SELECT count(*) FROM diplomatic_events), (SELECT count(*) FROM rejects)"


def make_row(rng: random.Random, i: int, bad: bool) -> list[str]:
    day = date(2014, 1, 1) + timedelta(days=rng.randrange(4400))
    form = rng.random()
    when = (
        str(day)
        if form < 0.6
        else str(day)[:7]
        if form < 0.65
        else f"{day}T{rng.randrange(24):02}:{rng.randrange(60):02}Z"
        if form < 0.85
        else f"{day}T{rng.randrange(24):02}:{rng.randrange(60):02}+03:00"
    )
    actors = ";".join(rng.sample(COUNTRIES, rng.choice([1, 2, 2, 3])))
    klass = rng.choice(CLASSES)
    if bad:
        klass = "negotiation"  # not a class
    code = rng.choice(CODES) or ("" if klass else "042")
    return [
        f"{day}-{i:07d}",
        when,
        rng.choice(["", "", "", "day"]) if len(when) > 10 else "",
        rng.choice(["Talks in {p}", "Minister visits {p}", "Sanctions announced, {p}", '"Statement" on {p}']).format(
            p=rng.choice(PLACES[1:])
        ),
        klass,
        code,
        actors,
        rng.choice(PLACES),
        rng.choice(["", f"https://example.org/news/{i}"]),
        rng.choice(["", "Talks ended without agreement.", "A long, detailed account of the meeting."]),
    ]


def run(work: Path, rows: int, seed: int) -> None:
    data, log = work / "events.csv", work / "cyberlog.log"
    bad = write_csv(data, rows, seed, HEADER, make_row)
    base = min(baseline(data, work / f"baseline-{i}.duckdb", rows) for i in range(3))
    results = {}
    for label, extra in (("checked", []), ("careful", ["--timezone", "UTC"])):
        runs = []
        for i in range(3):
            store = fresh(work / f"store-{label}-{i}.duckdb")
            runs.append(child(["ingest", str(data), "--db", str(store), *extra], log, 3))
            if stored(store, COUNTS) != (rows - bad, bad):
                fail(f"store holds {stored(store, COUNTS)} events and rejects; {rows:,} rows, {bad:,} bad", log)
        results[label] = (min(r[0] for r in runs), max(r[2] for r in runs))
    print(f"rows: {rows:,} ({bad:,} bad)   file: {data.stat().st_size / 2**20:.1f} MiB")
    print(f"duckdb read_csv (baseline):    {base:6.2f} s")
    for label, what in (("checked", "cyberlog ingest"), ("careful", "every row through the model")):
        wall, peak = results[label]
        print(
            f"{what + ':':30}{wall:6.2f} s   ratio {wall / base:.1f}x   {rows / wall:,.0f} rows/s   "
            f"peak RSS {peak:,.0f} MiB"
        )
    print("Best of 3 each. Ratios are against DuckDB's read_csv of the same file in the same run.")


def main() -> None:
    main_for(__doc__ or "", 200_000, "bench_events_", run)


if __name__ == "__main__":
    main()
