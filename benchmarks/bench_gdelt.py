"""GDELT benchmark: `cyberlog ingest` of GDELT 2.0 exports against DuckDB's own read_csv.

    python benchmarks/bench_gdelt.py [--rows N] [--big-gb G] [--seed S] [--workdir DIR]

Writes a synthetic GDELT 2.0 export (61 tab-separated columns, real CAMEO codes, 0.1% rows
with the faults real feeds have) and measures, in subprocesses with peak RSS from
os.wait4, best of 3: DuckDB's read_csv of the file into a table (the floor: it checks
nothing, and it drops the malformed lines without a word), `cyberlog ingest`, the same
through a nightly source with a country/sources filter, and a re-ingest of the unchanged
file. Then it writes an export of about G GiB and reports the ingest's peak RSS, which
must not grow with the file. No timing assertions: exits non-zero only when a command
fails or the counts do not add up.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import gdelt_synth
from bench_ingest import child, fail, fresh, stored

BYTES_PER_ROW = 345  # of the synthetic rows, to size the big file
FILTER = '[sources.filter]\nactor_countries = ["UKR", "RUS"]\nmin_sources = 2\n'


def baseline(data: Path, db: Path) -> float:
    sql = (
        "CREATE TABLE t AS SELECT * FROM read_csv(?, delim='\\t', header=false, quote='', escape='', "
        "all_varchar=true, null_padding=true, ignore_errors=true)"
    )
    start = time.perf_counter()
    with duckdb.connect(str(fresh(db))) as con:
        con.execute(sql, [str(data)])
    return time.perf_counter() - start


def config(work: Path, data: Path, with_filter: bool) -> Path:
    path = work / f"cyberlog{'-filtered' if with_filter else ''}.toml"
    text = f'[[sources]]\nname = "gdelt"\nformat = "gdelt"\npath = "{data}"\n' + (FILTER if with_filter else "")
    path.write_text(text, "utf-8")
    return path


def ingest_runs(
    work: Path, data: Path, rows: int, bad: int, log: Path
) -> tuple[list[tuple[float, float, float]], Path]:
    runs = []
    for i in range(3):
        store = fresh(work / f"store-{i}.duckdb")
        runs.append(child(["ingest", str(data), "--db", str(store)], log, 3 if bad else 0))
        events, rejects = stored(
            store, "SELECT (SELECT count(*) FROM diplomatic_events), (SELECT count(*) FROM rejects)"
        )
        if events + rejects != rows or rejects != bad:
            fail(f"store holds {events:,} events + {rejects:,} rejects; {rows:,} lines, {bad:,} bad", log)
    return runs, store


def run(work: Path, rows: int, big_gb: float, seed: int) -> None:
    data, log = work / "20220215171500.export.CSV", work / "cyberlog.log"
    bad = gdelt_synth.write(data, rows, seed)
    size = data.stat().st_size / 2**20
    base = min(baseline(data, work / f"baseline-{i}.duckdb") for i in range(3))
    runs, store = ingest_runs(work, data, rows, bad, log)
    filtered = []
    for i in range(3):
        target = fresh(work / f"filtered-{i}.duckdb")
        filtered.append(child(["nightly", "--config", str(config(work, data, True)), "--db", str(target)], log, 3))
    kept = stored(target, "SELECT count(*) FROM diplomatic_events")[0]
    again = min(child(["ingest", str(data), "--db", str(store)], log, 0)[0] for _ in range(3))
    startup = min(child(["--version"], log, 0)[0] for _ in range(3))
    best, ingest_peak = min(runs)[0], max(r[2] for r in runs)
    print(f"rows: {rows:,} ({bad:,} bad)   file: {size:.1f} MiB")
    print(f"duckdb read_csv (baseline):  {base:6.2f} s")
    print(
        f"cyberlog ingest:             {best:6.2f} s   ratio {best / base:.2f}x   {rows / best:,.0f} rows/s   "
        f"peak RSS {ingest_peak:,.0f} MiB"
    )
    print(
        f"ingest with a filter:        {min(filtered)[0]:6.2f} s   ratio {min(filtered)[0] / base:.2f}x   "
        f"({kept:,} of {rows - bad:,} valid rows kept: UKR/RUS actors, 2+ sources)"
    )
    print(f"re-ingest unchanged file:    {again:6.2f} s   (cyberlog --version alone: {startup:.2f} s)")
    if big_gb > 0:
        big = work / "20220216000000.export.CSV"
        big_rows = int(big_gb * 2**30 / BYTES_PER_ROW)
        big_bad = gdelt_synth.write(big, big_rows, seed + 1)
        elapsed, _, peak = child(["ingest", str(big), "--db", str(fresh(work / "big.duckdb"))], log, 3)
        print(
            f"big file: {big_rows:,} rows, {big.stat().st_size / 2**30:.2f} GiB: {elapsed:.1f} s, "
            f"peak RSS {peak:,.0f} MiB ({big_bad:,} bad rows rejected)"
        )
    print("Best of 3 each. Ratios are against DuckDB's read_csv of the same file in the same run.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-gb", type=float, default=1.0, help="size of the memory run [0: skip it]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_gdelt_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work.resolve(), args.rows, args.big_gb, args.seed)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
