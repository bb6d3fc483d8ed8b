"""Snapshot benchmark: what publishing the read-only snapshot costs per GB of store.

    python benchmarks/bench_snapshot.py [--mb M] [--workdir DIR]

Builds a store of about M MB (random incidents-like rows in one table), then measures,
best of 3 on the same file and machine: a plain `shutil.copyfile` (the baseline: what any
backup would cost), and `ingest.snapshot.publish` (CHECKPOINT, a kernel-side clone with
`copy_file_range`, fsync, atomic rename), with the writer's connection open as a nightly has
it. Prints seconds, seconds per GB and the ratio to the baseline. No timing assertions:
exits non-zero only when the snapshot differs from the store.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from ingest import snapshot


def build(db: Path, mb: int) -> None:
    rows = mb * 1_000_000 // 60  # about 60 bytes a row once DuckDB has compressed it
    with duckdb.connect(str(db)) as con:
        con.execute(
            """CREATE TABLE incidents AS
               SELECT i AS n, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS title,
                      TIMESTAMP '2014-01-01' + to_seconds((hash(i) % 280000000)::BIGINT) AS started_at,
                      md5((i * 13)::VARCHAR) AS target_org
               FROM range($rows) t(i)""",
            {"rows": rows},
        )
        con.execute("CHECKPOINT")


def best(times: list[float]) -> float:
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500, help="size of the store to build, in MB (default 500)")
    parser.add_argument("--workdir", type=Path, help="where the store goes (default: a temporary folder)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cyberlog-bench-snapshot-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "store.duckdb"
    db.unlink(missing_ok=True)
    build(db, args.mb)
    size = db.stat().st_size
    gb = size / 1e9
    copies: list[float] = []
    publishes: list[float] = []
    with duckdb.connect(str(db)) as con:  # the nightly's connection, open while it publishes
        for _ in range(3):
            start = time.perf_counter()
            shutil.copyfile(db, work / "copy.duckdb")
            copies.append(time.perf_counter() - start)
            start = time.perf_counter()
            snapshot.publish(con, db)
            publishes.append(time.perf_counter() - start)
    same = filecmp.cmp(db, snapshot.path_of(db), shallow=False)
    base, ours = best(copies), best(publishes)
    print(f"store: {size / 1e6:,.0f} MB ({work})")
    print(f"shutil.copyfile (baseline): {base:.3f} s, {base / gb:.2f} s/GB")
    print(f"snapshot.publish:           {ours:.3f} s, {ours / gb:.2f} s/GB, {ours / base:.2f}x the baseline")
    print(f"snapshot equals the store: {same}")
    if args.workdir is None:
        shutil.rmtree(work)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
