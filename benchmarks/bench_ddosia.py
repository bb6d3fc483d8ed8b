"""DDoSia benchmark: a nightly over a drop folder of target lists against DuckDB's read_json.

    python benchmarks/bench_ddosia.py [--lists N] [--hosts H] [--seed S] [--workdir DIR]

Writes N lists six hours apart, shaped like the tracker's captures (12 requests per host,
about one list in 200 `targets: null`, as 16 of the tracker's 3,055 are), each host staying
on for runs of lists, and measures in subprocesses, with peak RSS from
os.wait4, best of 3:

* the floor: DuckDB reading every list with read_json and unnesting `targets` into a table
  of one row per request (it checks nothing and derives nothing);
* `cyberlog nightly` with the folder as a source: every request validated and stored, the
  lists ledgered, the claimed attacks derived (one per host and run of lists);
* the same nightly again, nothing new.

No timing assertions: exits non-zero only when a command fails or the counts are wrong.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_ingest import child, fail, fresh, stored

START = datetime(2023, 6, 1, tzinfo=UTC)
FLOOR = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute(
    "CREATE TABLE t AS SELECT filename, unnest(targets, recursive := true) "
    "FROM read_json(?, filename = true, format = 'auto', maximum_object_size = 100000000)",
    [sys.argv[2]],
)
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
"""


def write_lists(folder: Path, lists: int, hosts: int, seed: int) -> tuple[int, int]:
    """The lists; returns (requests, runs): the entries written and the claimed attacks the
    rule must find (a host's runs of consecutive lists)."""
    rng = random.Random(seed)
    names = [f"site{i}.example.{rng.choice(['ua', 'pl', 'be', 'md', 'com', 'sk'])}" for i in range(hosts * 3)]
    on: dict[str, bool] = {}
    requests = runs = 0
    for n in range(lists):
        stamp = (START + timedelta(hours=6 * n)).strftime("%Y-%m-%d_%H-%M-%S")
        path = folder / f"{stamp}_DDoSia-target-list-full.json"
        if rng.random() < 1 / 200:  # the tracker's `targets: null` captures
            path.write_text(json.dumps({"randoms": [], "targets": None}, indent=4))
            on.clear()
            continue
        listed = []
        for name in names:
            stays = rng.random() < (0.8 if on.get(name) else 0.08)
            if stays and not on.get(name):
                runs += 1
            on[name] = stays
            if stays:
                listed.append(name)
        targets = [
            {
                "target_id": f"{names.index(name):024x}",
                "request_id": f"{n:08x}{names.index(name) * 12 + i:016x}",
                "host": name,
                "ip": f"192.0.2.{i % 250}",
                "type": rng.choice(["http", "http2", "tcp", "udp", "nginx_loris"]),
                "method": rng.choice(["GET", "POST", "syn", "ack", "PING"]),
                "port": rng.choice([443, 80, 53]),
                "use_ssl": True,
                "path": "/?q=$_1",
                "body": {"type": "str", "value": "q=$_2&token=abc"},
                "headers": None,
            }
            for name in listed
            for i in range(12)
        ]
        requests += len(targets)
        path.write_text(json.dumps({"targets": targets, "randoms": []}, indent=4))
    return requests, runs


def run(work: Path, lists: int, hosts: int, seed: int) -> None:
    folder, log = work / "ddosia", work / "cyberlog.log"
    folder.mkdir()
    requests, runs = write_lists(folder, lists, hosts, seed)
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    print(f"{lists:,} lists, {requests:,} requests, {runs:,} claimed attacks, {size:,.0f} MiB")
    glob = str(folder / "*.json")
    floors = [
        child(["-c", FLOOR, str(fresh(work / f"floor-{i}.duckdb")), glob], log, 0, module=False) for i in range(3)
    ]
    config = work / "cyberlog.toml"
    config.write_text(f'[[sources]]\nname = "ddosia"\nformat = "ddosia"\npath = "{glob}"\n')
    nightlies = []
    for i in range(3):
        store = fresh(work / f"store-{i}.duckdb")
        nightlies.append(child(["nightly", "--config", str(config), "--db", str(store)], log, 0))
        got = stored(store, "SELECT (SELECT count(*) FROM claim_targets), (SELECT count(*) FROM incidents)")
        if got != (requests, runs):
            fail(
                f"store holds {got[0]:,} requests and {got[1]:,} claimed attacks; wrote {requests:,} and {runs:,}", log
            )
    again = child(["nightly", "--config", str(config), "--db", str(store)], log, 0)
    floor, best = min(floors), min(nightlies)
    print(f"{'':34} {'wall s':>8} {'peak MiB':>9} {'requests/s':>11}")
    print(f"{'DuckDB read_json + unnest (floor)':34} {floor[0]:8.2f} {floor[2]:9.0f} {requests / floor[0]:11,.0f}")
    print(f"{'cyberlog nightly':34} {best[0]:8.2f} {best[2]:9.0f} {requests / best[0]:11,.0f}")
    print(f"{'cyberlog nightly, nothing new':34} {again[0]:8.2f} {again[2]:9.0f}")
    print(f"ratio to the floor: {best[0] / floor[0]:.1f}x wall, {best[2] / floor[2]:.1f}x peak memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=30, help="hosts on a list, about")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ddosia-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work, args.lists, args.hosts, args.seed)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
