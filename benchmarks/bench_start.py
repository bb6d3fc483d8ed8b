"""Start-up benchmark: what a run with nothing to do costs, against DuckDB alone.

    python benchmarks/bench_start.py [--rows N] [--rounds R] [--seed S] [--workdir DIR]

Compiles cyberlog's bytecode, as a wheel's install or a first run leaves it; loads a
synthetic GDELT export of N rows into one store and the bundled fixtures (twenty
sources) into another, then times, in R interleaved rounds of fresh processes: the floor
(Python starting, importing DuckDB, opening the store and asking its ledger one question),
`cyberlog --version`, `cyberlog ingest` of the loaded export (a skip), and `cyberlog
nightly` over the fixtures with nothing new. Prints each one's fastest and median wall
time, its median against the floor's, and its peak RSS. No timing assertions: exits
non-zero only when a command fails or a skip loads anything.
"""

from __future__ import annotations

import compileall
import statistics
import sys
from pathlib import Path

import gdelt_synth
from bench_ingest import child, fail, fresh, main_for, stored

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "cyberlog.toml"
FLOOR = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SELECT count(*) FROM ingest_files WHERE status = 'loaded'").fetchall()
con.close()
"""


def run(work: Path, rows: int, seed: int, rounds: int) -> None:
    data, log = work / "20220215171500.export.CSV", work / "cyberlog.log"
    # cyberlog's bytecode, as every run after the first finds it (even with PYTHONDONTWRITEBYTECODE)
    compileall.compile_dir(ROOT / "ingest", quiet=1)
    bad = gdelt_synth.write(data, rows, seed)
    store, nightly = fresh(work / "gdelt.duckdb"), fresh(work / "fixtures.duckdb")
    child(["ingest", str(data), "--db", str(store)], log, 3 if bad else 0)
    child(["nightly", "--config", str(FIXTURES), "--db", str(nightly)], log, 0)
    runs_before = stored(store, "SELECT count(*) FROM ingest_runs")[0]
    commands = {
        "floor: python, import duckdb, open, 1 query": (["-c", FLOOR, str(store)], False),
        "cyberlog --version": (["--version"], True),
        f"skip: ingest of the loaded {rows:,}-row file": (["ingest", str(data), "--db", str(store)], True),
        "nightly: 20 fixture sources, nothing new": (
            ["nightly", "--config", str(FIXTURES), "--db", str(nightly)],
            True,
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
    for _ in range(rounds):
        for name, (cmd, module) in commands.items():
            wall, _cpu, rss = child(cmd, log, 0, module=module)
            times[name].append(wall)
            peaks[name] = max(peaks[name], rss)
    loaded = stored(store, "SELECT count(*) FROM ingest_files WHERE status = 'loaded'")[0]
    if loaded != 1 or stored(store, "SELECT count(*) FROM ingest_runs")[0] != runs_before + rounds:
        fail(f"the skips were not clean: {loaded} files loaded", log)
    floor = statistics.median(times[next(iter(commands))])
    size, python = data.stat().st_size / 2**20, sys.version.split()[0]
    print(f"file: {size:.1f} MiB, {rows:,} rows   rounds: {rounds}   python {python}")
    width = max(map(len, times))
    print(f"{'':{width}} {'fastest':>8} {'median':>8} {'ratio':>6} {'peak RSS':>9}")
    for name, taken in times.items():
        middle = statistics.median(taken)
        print(f"{name:{width}} {min(taken):7.3f}s {middle:7.3f}s {middle / floor:5.2f}x {peaks[name]:5.0f} MiB")


def main() -> None:
    main_for(__doc__ or "", 1_000_000, "bench_start_", run, {"rounds": 15})


if __name__ == "__main__":
    main()
