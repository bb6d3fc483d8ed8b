"""POLECAT benchmark: `cyberlog ingest` of a weekly POLECAT file against DuckDB's own read_csv.

    python benchmarks/bench_polecat.py [--rows N] [--seed S] [--workdir DIR]

Writes a synthetic weekly release (`ngecEvents.<stamp>.Release<nnn>.DV.txt`: the 40
tab-separated columns, PLOVER types and modes, compound actors with `None` members,
apostrophes, 0.5% COERCE:cyber incidents, 0.1% Event IDs given again with a newer Version)
and times whole processes, best of 3, with each child's peak RSS from os.wait4: a DuckDB
process reading the file into a table with read_csv (the floor: it checks nothing) and
`cyberlog ingest`. No timing assertions: exits non-zero only when a command fails or the
counts do not add up.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench_ingest import child, fail, fresh, main_for, stored

NAME = "ngecEvents.20220221093000.Release642.DV.txt"
BASELINE = """
import sys, duckdb
with duckdb.connect(sys.argv[2]) as con:
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv(?, delim='\\t', header=true, quote='', escape='', all_varchar=true)",
        [sys.argv[1]],
    )
"""
TYPES = [  # (type, modes, quad, intensity)
    ("CONSULT", ["visit", "phone", "multilateral", "None"], "VERBAL COOPERATION", "2.5"),
    ("AGREE", ["None"], "VERBAL COOPERATION", "5.0"),
    ("SUPPORT", ["None"], "VERBAL COOPERATION", "3.5"),
    ("REQUEST", ["None"], "VERBAL CONFLICT", "-1.5"),
    ("ACCUSE", ["disapprove", "allege", "investigate"], "VERBAL CONFLICT", "-2.0"),
    ("REJECT", ["None"], "VERBAL CONFLICT", "-4.0"),
    ("THREATEN", ["None", "relations", "violence"], "VERBAL CONFLICT", "-4.0"),
    ("RETREAT", ["withdraw", "release"], "MATERIAL COOPERATION", "8.0"),
    ("SANCTION", ["expel", "discontinue", "convict"], "MATERIAL CONFLICT", "-6.0"),
    ("MOBILIZE", ["troops", "weapons"], "MATERIAL CONFLICT", "-5.5"),
    ("ASSAULT", ["None"], "MATERIAL CONFLICT", "-9.0"),
    ("PROTEST", ["None"], "MATERIAL CONFLICT", "-3.0"),
    ("COERCE", ["arrest", "restrict"], "MATERIAL CONFLICT", "-5.0"),
]
ACTORS = [
    ("Vladimir Putin", "RUS", "365"),
    ("Olaf Scholz", "DEU", "255"),
    ("Volodymyr Zelensky", "UKR", "369"),
    ("Joe Biden", "USA", "2"),
    ("Emmanuel Macron", "FRA", "220"),
    ("Donetsk People's Republic", "None", "None"),
    ("NATO", "None", "None"),
    ("Russia's Foreign Ministry", "RUS", "365"),
]
PLACES = [
    ("Moscow", "Moscow", "RUS", "55.75222", "37.61556", "524901", "PPLC"),
    ("Kyiv", "Kyiv City", "UKR", "50.45466", "30.5238", "703448", "PPLC"),
    ("Brussels", "Brussels Capital", "BEL", "50.85045", "4.34878", "2800866", "PPLC"),
    ("Ukraine", "None", "UKR", "49.0", "32.0", "690791", "PCLI"),
]


def actor(rng: random.Random) -> list[str]:
    """The eight actor columns: one member, or a compound actor with a `None` member."""
    members = rng.sample(ACTORS, 1 if rng.random() < 0.8 else 2)
    if len(members) == 2:
        members.append(("None", "None", "None"))
    names, codes, cows = (";".join(m[i] for m in members) for i in range(3))
    sector = ";".join("Government" for _ in members)
    return [names, codes, cows.replace(";", "; "), sector, sector, "None", names, "None"]


def row(rng: random.Random, i: int, version: str = "1.0", kind: tuple[str, ...] | None = None) -> list[str]:
    day = f"2022-02-{rng.randint(13, 20):02d}"
    if kind is None:
        event_type, modes, quad, intensity = rng.choice(TYPES)
        mode, contexts = rng.choice(modes), rng.choice(["military", "diplomatic", "cyber;military", "None"])
    else:
        event_type, mode, quad, intensity, contexts = kind
    place, province, country, lat, lon, geonames, feature = rng.choice(PLACES)
    published = day if rng.random() < 0.999 else "2022-02-12"  # a few dated after their story
    return [
        f"PC{i:09d}", day, event_type, mode, intensity, quad, contexts,
        *actor(rng), *actor(rng),
        place, place if feature != "PCLI" else "None", "None", province, country, lat, lon, geonames, place, feature,
        rng.choice(["Reuters", "AP", "TASS", "Deutsche Welle"]), published,
        "Vladimir Putin;Olaf Scholz", "Kremlin", "Moscow;Kyiv", "en", version,
    ]  # fmt: skip


def write(path: Path, rows: int, seed: int) -> tuple[int, int]:
    """Write the file; return (incidents, older versions skipped)."""
    from ingest.formats.polecat import COLUMNS  # the 40 names, in order

    rng = random.Random(seed)
    incidents = older = 0
    cyber = ("COERCE", "cyber", "MATERIAL CONFLICT", "-7.0", "cyber")
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(COLUMNS) + "\n")
        i = 0
        while i < rows:
            if rng.random() < 0.001 and i + 1 < rows:  # an id given again with a newer Version
                out.write("\t".join(row(rng, i, "1.0")) + "\n")
                out.write("\t".join(row(rng, i, "1.1")) + "\n")
                older, i = older + 1, i + 2
                continue
            is_cyber = rng.random() < 0.005
            incidents += is_cyber
            out.write("\t".join(row(rng, i, kind=cyber if is_cyber else None)) + "\n")
            i += 1
    return incidents, older


def run(work: Path, rows: int, seed: int) -> None:
    data, log = work / NAME, work / "cyberlog.log"
    incidents, older = write(data, rows, seed)
    size = data.stat().st_size / 2**20
    bases = []
    for i in range(3):
        db = fresh(work / f"baseline-{i}.duckdb")
        bases.append(child(["-c", BASELINE, str(data), str(db)], log, 0, module=False))
        if stored(db, "SELECT count(*) FROM t")[0] != rows:
            fail(f"DuckDB read {stored(db, 'SELECT count(*) FROM t')[0]:,} of {rows:,} rows", log)
    ingests = []
    for i in range(3):
        store = fresh(work / f"store-{i}.duckdb")
        ingests.append(child(["ingest", str(data), "--format", "polecat", "--db", str(store)], log, 0))
        got = stored(store, "SELECT (SELECT count(*) FROM diplomatic_events), (SELECT count(*) FROM incidents)")
        if got != (rows - incidents - older, incidents):
            fail(f"store holds {got[0]:,} events and {got[1]:,} incidents; expected {incidents:,} incidents", log)
    base, best = min(bases), min(ingests)
    print(f"rows: {rows:,} ({incidents:,} COERCE:cyber incidents, {older:,} older versions)   file: {size:.1f} MiB")
    print(f"duckdb read_csv (baseline):  {base[0]:6.2f} s   {rows / base[0]:,.0f} rows/s   peak RSS {base[2]:,.0f} MiB")
    print(
        f"cyberlog ingest:             {best[0]:6.2f} s   ratio {best[0] / base[0]:.1f}x   {rows / best[0]:,.0f} rows/s"
        f"   peak RSS {max(r[2] for r in ingests):,.0f} MiB"
    )
    print("Best of 3 each, whole processes. Ratios are against DuckDB's read_csv of the same file in the same run.")


def main() -> None:
    main_for(__doc__ or "", 1_000_000, "bench_polecat_", run)


if __name__ == "__main__":
    main()
