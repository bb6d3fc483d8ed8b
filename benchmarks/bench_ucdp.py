"""UCDP GED benchmark: `cyberlog ingest` of a GED release against DuckDB's own read_csv.

    python benchmarks/bench_ucdp.py [--rows N] [--seed S] [--workdir DIR]

Writes a synthetic final release, `GEDEvent_v24_1.csv` (the 49 columns in the current
order, strings quoted, `source_article` with commas and quotes, non-state sides without GW
numbers, every date_prec and where_prec), then times whole processes, best of 3, with peak
RSS from os.wait4: a Python process that has DuckDB read the file into a table
(`read_csv(header=true, all_varchar=true)`: the floor, which checks nothing) and
`cyberlog ingest` into a fresh store. No timing assertions: exits non-zero only when a
command fails or the counts do not add up.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from bench_ingest import child, fail, fresh, main_for, stored

from ingest.formats.ucdp_ged import COLUMNS  # the layout the format reads

NUMBERS = {"id", "year", "active_year", "type_of_violence", "number_of_sources", "where_prec", "latitude"}
NUMBERS |= {"longitude", "priogrid_gid", "country_id", "event_clarity", "date_prec", "best", "high", "low"}
NUMBERS |= {name for name in COLUMNS if name.endswith("_id") or name.startswith("deaths_")}
# country, GW number, region, ISO alpha-3, a point inside it, an ADM1 name
PLACES = [
    ("Ukraine", 369, "Europe", "UKR", 48.4, 35.0, "Donetsk oblast"),
    ("Russia (Soviet Union)", 365, "Europe", "RUS", 51.7, 36.2, "Kursk oblast"),
    ("Syria", 652, "Middle East", "SYR", 35.9, 36.6, "Idlib governorate"),
    ("Mali", 432, "Africa", "MLI", 15.9, 2.4, "Menaka region"),
    ("Afghanistan", 700, "Asia", "AFG", 34.5, 69.2, "Kabul province"),
    ("Colombia", 100, "Americas", "COL", 7.1, -73.1, "Santander department"),
]
NON_STATE = ["DPR", "LPR", "IS", "JNIM", "Taleban", "ELN", "Civilians"]
BASELINE = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[2])\n"
    "con.execute('SET enable_progress_bar = false')\n"
    "con.execute('CREATE TABLE t AS SELECT * FROM read_csv(?, header=true, all_varchar=true)', [sys.argv[1]])\n"
    "print(con.execute('SELECT count(*) FROM t').fetchall()[0][0])\n"
)


def make_row(rng: random.Random, i: int) -> dict[str, object]:
    country, gw, region, iso, lat, lon, adm1 = rng.choice(PLACES)
    violence = rng.choices([1, 2, 3], [6, 2, 2])[0]
    side_a, gwnoa = (f"Government of {country}", str(gw)) if violence != 2 else (rng.choice(NON_STATE[:-1]), "")
    side_b = "Civilians" if violence == 3 else rng.choice(NON_STATE[:-1])
    start = date(2022, 1, 1) + timedelta(days=rng.randrange(365))
    date_prec = rng.choices([1, 2, 3, 4, 5], [70, 15, 5, 8, 2])[0]
    end = start + timedelta(days={1: 0, 2: rng.randrange(1, 6), 3: 6, 4: 27, 5: 0}[date_prec])
    deaths = [rng.choice([0, 0, 1, 2, 5]) for _ in range(4)]
    deaths[0] = max(deaths[0], 1) if sum(deaths) == 0 else deaths[0]
    best = sum(deaths)
    where_prec = rng.choices([1, 2, 3, 4, 5, 6, 7], [50, 15, 10, 12, 6, 6, 1])[0]
    point = (round(lat + rng.uniform(-1, 1), 4), round(lon + rng.uniform(-1, 1), 4))
    dyad = f"{side_a} - {side_b}"
    cells: dict[str, object] = {name: "" for name in COLUMNS}
    cells |= {
        "id": 500_000 + i,
        "relid": f"{iso}-2022-{violence}-{gw}-{i}",
        "year": 2022,
        "active_year": 1,
        "code_status": "Clear",
        "type_of_violence": violence,
        "conflict_dset_id": gw * 10 + violence,
        "conflict_new_id": gw * 10 + violence,
        "conflict_name": f"{country}: {side_b}",
        "dyad_dset_id": 1000 + i % 97,
        "dyad_new_id": 1000 + i % 97,
        "dyad_name": dyad,
        "side_a": side_a,
        "side_b": side_b,
        "number_of_sources": rng.randint(1, 4),
        "source_article": f'Reuters,{start},"Fighting in {adm1}, {best} killed, ""officials say"""',
        "source_office": "Reuters",
        "source_date": str(start),
        "source_headline": f"Fighting in {adm1}",
        "where_prec": where_prec,
        "where_coordinates": adm1,
        "where_description": f"near {adm1}",
        "adm_1": adm1,
        "latitude": point[0],
        "longitude": point[1],
        "geom_wkt": f"POINT ({point[1]} {point[0]})",
        "priogrid_gid": 100_000 + i % 50_000,
        "country": country,
        "country_id": gw,
        "region": region,
        "event_clarity": 1,
        "date_prec": date_prec,
        "date_start": str(start),
        "date_end": str(end),
        "deaths_a": deaths[0],
        "deaths_b": deaths[1],
        "deaths_civilians": deaths[2],
        "deaths_unknown": deaths[3],
        "best": best,
        "high": best + rng.randrange(3),
        "low": max(0, best - rng.randrange(2)),
        "gwnoa": gwnoa,
        "gwnob": "",
    }
    return cells


def run(work: Path, rows: int, seed: int) -> None:
    data, log = work / "GEDEvent_v24_1.csv", work / "cyberlog.log"
    write(data, rows, seed)
    size = data.stat().st_size / 2**20
    base = []
    for i in range(3):
        base.append(child(["-c", BASELINE, str(data), str(fresh(work / f"baseline-{i}.duckdb"))], log, 0, False))
        if log.read_text().split() != [str(rows)]:
            fail(f"DuckDB's read_csv read {log.read_text().strip()} rows, {rows:,} were written", log)
    runs = []
    for i in range(3):
        store = fresh(work / f"store-{i}.duckdb")
        runs.append(child(["ingest", str(data), "--db", str(store)], log, 0))
        events, rejects = stored(
            store, "SELECT (SELECT count(*) FROM diplomatic_events), (SELECT count(*) FROM rejects)"
        )
        if (events, rejects) != (rows, 0):
            fail(f"store holds {events:,} events and {rejects:,} rejects; {rows:,} rows were written", log)
    floor, ingest = min(base), min(runs)
    print(f"rows: {rows:,}   file: {size:.1f} MiB   ({data.name})")
    print(
        f"duckdb read_csv process:  {floor[0]:7.2f} s   {rows / floor[0]:>12,.0f} rows/s   peak RSS {floor[2]:,.0f} MiB"
    )
    print(
        f"cyberlog ingest process:  {ingest[0]:7.2f} s   {rows / ingest[0]:>12,.0f} rows/s   "
        f"peak RSS {ingest[2]:,.0f} MiB   ratio {ingest[0] / floor[0]:.2f}x"
    )
    print("Best of 3 each, wall time of the whole process (interpreter start included).")


def write(path: Path, rows: int, seed: int) -> None:
    """The rows with strings quoted by hand and numbers bare, as GED's CSV has them."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(f'"{name}"' for name in COLUMNS) + "\n")
        for i in range(rows):
            cells = make_row(rng, i)
            out.write(
                ",".join(
                    str(value) if name in NUMBERS or value == "" else '"' + str(value).replace('"', '""') + '"'
                    for name, value in cells.items()
                )
                + "\n"
            )


def main() -> None:
    main_for(__doc__ or "", 1_000_000, "bench_ucdp_", run)


if __name__ == "__main__":
    main()
