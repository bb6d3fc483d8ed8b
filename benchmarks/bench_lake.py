"""Lake benchmark: the canned reports on DuckDB and on Spark (local mode) over the same
Parquet lake, at two sizes, and where Spark would catch up.

    python benchmarks/bench_lake.py [--sizes 100000,1000000] [--repeat 3] [--only REPORT]
                                    [--seed S] [--master URL] [--workdir DIR]

For each size N, builds a store of N synthetic incidents and N diplomatic events (the
report benchmark's data, benchmarks/bench_reports.py), exports it with `cyberlog export
--lake` (timed), then runs every report of the report benchmark over the lake: on DuckDB
(in memory over the lake's files, as `report run --lake` does) and on Spark (the
translated SQL, as `report run --engine spark` does), each best of --repeat in one warm
process, after one untimed run of each report on each engine (Spark's JIT warm-up).
Spark's session start (the JVM) and its reading of the lake's file list and footers are
timed apart: a job pays them once, not per report. The crossover is where the two lines
through each engine's (N, seconds) meet: beyond it Spark would be faster at this
parallelism. No timing assertions: exits non-zero only when a report fails or the engines
disagree on the number of rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_ingest import child
from bench_reports import RUNS, build

from ingest.lake import parquet as lakes
from ingest.lake import spark as sparks
from ingest.reports import catalog as reports


def _params(report: Any, args: list[str]) -> dict[str, Any]:
    return report.bind(dict(a.split("=", 1) for a in args[1::2]))


def _best(runs: int, job: Any) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        rows = job()
        best = min(best, time.perf_counter() - start)
    return best, rows


def measure(
    work: Path, size: int, seed: int, session: Any, runs: list[tuple[str, list[str]]], repeat: int, warm: bool
) -> dict[str, tuple[float, float]]:
    """Per run of RUNS: (DuckDB seconds, Spark seconds) over a lake of `size` rows a table."""
    db, lake, log = work / f"store-{size}.duckdb", work / f"lake-{size}", work / "cyberlog.log"
    build(db, size, size, seed)
    wall = child(["export", "--lake", str(lake), "--db", str(db)], log, 0)[0]
    sizes = [p.stat().st_size for p in lake.rglob("*.parquet")]
    files, mib = len(sizes), sum(sizes) / 2**20
    print(f"\n{size:,} incidents + {size:,} events: export --lake {wall:.1f} s, {files} files, {mib:,.0f} MiB")
    start = time.perf_counter()
    sparks.register_lake(session, lake)
    print(f"  Spark reads the lake's file list and views: {time.perf_counter() - start:.1f} s")
    times: dict[str, tuple[float, float]] = {}
    with lakes.duckdb_over_lake(lake) as duck:
        for i, (name, args) in enumerate(runs):
            report = reports.get(name)
            params = _params(report, args)
            if warm:  # Spark's JIT compiles its hot paths over the first runs; DuckDB's first reads: untimed
                duck.execute(report.sql, params).fetchall()
                sparks.run_report(session, name, report.sql, params)
            on_duck, duck_rows = _best(repeat, lambda: len(duck.execute(report.sql, params).fetchall()))  # noqa: B023
            on_spark, spark_rows = _best(repeat, lambda: len(sparks.run_report(session, name, report.sql, params)[1]))  # noqa: B023
            if duck_rows != spark_rows:
                raise SystemExit(f"{name} {args}: {duck_rows} rows on DuckDB, {spark_rows} on Spark")
            times[f"{i}:{name}"] = (on_duck, on_spark)
            shown = " ".join(args[1::2]) or "(defaults)"
            print(
                f"  {name:22} duckdb {on_duck:7.2f} s  spark {on_spark:7.2f} s  {on_spark / on_duck:6.1f}x"
                f"  {duck_rows:>7,} rows  {shown}"
            )
    total = tuple(sum(t[k] for t in times.values()) for k in (0, 1))
    print(f"  {'all reports':22} duckdb {total[0]:7.2f} s  spark {total[1]:7.2f} s  {total[1] / total[0]:6.1f}x")
    return times


def slopes(small: int, large: int, duck: tuple[float, float], spark: tuple[float, float]) -> tuple[float, float]:
    """Seconds per extra row of DuckDB and of Spark, by the lines through (small, t) and (large, t)."""
    return (duck[1] - duck[0]) / (large - small), (spark[1] - spark[0]) / (large - small)


def crossover(small: int, large: int, duck: tuple[float, float], spark: tuple[float, float]) -> str:
    """Where the two engines' lines meet, and what an extra row costs Spark against DuckDB."""
    slope_d, slope_s = slopes(small, large, duck, spark)
    if slope_d <= 0:
        return "not measured: DuckDB's time did not grow between the sizes (fixed costs and noise)"
    if slope_s <= 0:
        return "not measured: Spark's time did not grow between the sizes (fixed costs and noise)"
    per_row = f"an extra row costs Spark {slope_s / slope_d:.1f}x what it costs DuckDB"
    if slope_d <= slope_s:
        return f"none: {per_row}"
    n = small + (spark[0] - duck[0]) / (slope_d - slope_s)
    return f"about {n:,.0f} rows a table ({per_row})" if n > large else f"already passed ({per_row})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="two table sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs per report and engine")
    parser.add_argument("--only", action="append", help="only this report's runs (repeatable) [default: all]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--master", help="Spark master URL [default: local[*]]")
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    args = parser.parse_args()
    small, large = sorted(int(s) for s in args.sizes.split(","))
    runs = [run for run in RUNS if not args.only or run[0] in args.only]
    if not runs:
        raise SystemExit(f"--only: no such report among {sorted({name for name, _ in RUNS})}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_lake_"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--driver-memory 4g pyspark-shell")
    try:
        start = time.perf_counter()
        session = sparks.session(args.master)
        context = session.sparkContext
        print(
            f"Spark {session.version} session ({context.master}, {context.defaultParallelism} cores): "
            f"{time.perf_counter() - start:.1f} s to start"
        )
        at = {n: measure(work.resolve(), n, args.seed, session, runs, args.repeat, n == small) for n in (small, large)}
        cores = context.defaultParallelism
        session.stop()
        print(f"\nWhere Spark ({args.master or 'local[*]'}) would catch up with DuckDB, by two-point lines:")
        for key in at[small]:
            duck = (at[small][key][0], at[large][key][0])
            spark = (at[small][key][1], at[large][key][1])
            print(f"  {key.split(':', 1)[1]:22} {crossover(small, large, duck, spark)}")
        duck_all = (sum(t[0] for t in at[small].values()), sum(t[0] for t in at[large].values()))
        spark_all = (sum(t[1] for t in at[small].values()), sum(t[1] for t in at[large].values()))
        print(f"  {'all reports':22} {crossover(small, large, duck_all, spark_all)}")
        slope_d, slope_s = slopes(small, large, duck_all, spark_all)
        if slope_d > 0:
            ratio = slope_s / slope_d
            print(
                f"Spark's work per row is {ratio:.1f}x DuckDB's at {cores} cores each: it would need about "
                f"{ratio * cores:.0f} cores (perfect scaling) to grow no faster than DuckDB on {cores}."
            )
        print(f"Best of {args.repeat} each, in one warm process (Spark's start apart); ratio Spark / DuckDB.")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
