"""Telemetry benchmark: `cyberlog ingest` of big Suricata EVE and CEF logs against DuckDB
reading the same file in the same run.

    python benchmarks/bench_telemetry.py [--lines N] [--formats eve,cef] [--memory-limit 2GB] [--seed S] [--workdir DIR]

Writes a synthetic log per format (fixed seed): a DDoS on a few targets from tens of
thousands of addresses, 2% of EVE records other than alerts (flow, stats), 0.05% broken
lines. Measures, in subprocesses with peak RSS from os.wait4, best of 3 (1 above a million
lines): the baseline, DuckDB's own reader of the file into a table (EVE: `read_json`,
which checks nothing and skips the broken lines; CEF, which DuckDB cannot parse: its lines
by `read_csv`), and `cyberlog ingest` (checked, converted, merged, bursts derived). No
timing assertions: exits non-zero only when a command fails or the counts do not add up.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from bench_ingest import child, fail, fresh, stored

START = datetime(2022, 2, 15, 13, 0, tzinfo=UTC)
TARGETS = [
    ("www.mil.gov.ua", "203.0.113.10"),
    ("privatbank.ua", "198.51.100.20"),
    ("www.oschadbank.ua", "198.51.100.40"),
]


def _sources(rng: random.Random, n: int = 50_000) -> list[str]:
    return [
        f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(n)
    ]


def write_eve(path: Path, lines: int, seed: int) -> tuple[int, int, int]:
    """(alerts, skipped, bad) written."""
    rng = random.Random(seed)
    sources = _sources(rng)
    alerts = skipped = bad = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            at = (START + timedelta(microseconds=i * 997)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
            host, ip = TARGETS[i % 3]
            src = sources[rng.randrange(len(sources))]
            roll = rng.random()
            if roll < 0.0005:
                out.write('{"timestamp":"' + at + '","event_type":"alert","src_ip":"' + src + '","al\n')
                bad += 1
            elif roll < 0.02:
                out.write(
                    f'{{"timestamp":"{at}","flow_id":{i},"event_type":"flow","src_ip":"{src}","src_port":40000,'
                    f'"dest_ip":"{ip}","dest_port":443,"proto":"TCP","flow":{{"pkts_toserver":12}}}}\n'
                )
                skipped += 1
            else:
                out.write(
                    f'{{"timestamp":"{at}","flow_id":{i},"in_iface":"eth1","event_type":"alert","src_ip":"{src}",'
                    f'"src_port":{1024 + i % 60000},"dest_ip":"{ip}","dest_port":443,"proto":"TCP","tx_id":0,'
                    f'"alert":{{"action":"allowed","gid":1,"signature_id":2100001,"rev":3,'
                    f'"signature":"ET DOS Possible HTTP GET flood","category":"Attempted Denial of Service",'
                    f'"severity":2}},"http":{{"hostname":"{host}","url":"/","http_method":"GET","status":503}},'
                    f'"app_proto":"http"}}\n'
                )
                alerts += 1
    return alerts, skipped, bad


def write_cef(path: Path, lines: int, seed: int) -> tuple[int, int, int]:
    rng = random.Random(seed)
    sources = _sources(rng)
    alerts = bad = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            at = START + timedelta(microseconds=i * 997)
            host, ip = TARGETS[i % 3]
            src = sources[rng.randrange(len(sources))]
            if rng.random() < 0.0005:
                out.write("<134>Feb 15 13:00:00 waf01 CEF:0|Example|WAF|2.1|ddos-101\n")
                bad += 1
                continue
            ms = int(at.timestamp() * 1000)
            out.write(
                f"<134>{at:%b %d %H:%M:%S} waf01 CEF:0|Example|WAF|2.1|ddos-101|HTTP flood detected|9|rt={ms} "
                f"src={src} spt={1024 + i % 60000} dst={ip} dpt=443 request=https://{host}/ cat=DoS act=blocked "
                f"cnt={1 + i % 500} msg=rate\\=200k rps | threshold exceeded cs1=Org {i % 3} cs1Label=targetOrg\n"
            )
            alerts += 1
    return alerts, 0, bad


WRITERS = {"eve": (write_eve, "ids.json"), "cef": (write_cef, "waf.cef")}
BASELINES = {
    "eve": "CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited', ignore_errors = true)",
    "cef": "CREATE TABLE t AS SELECT * FROM read_csv(?, columns = {'line': 'VARCHAR'}, delim = '\\x1e', "
    "header = false, quote = '', escape = '', auto_detect = false)",
}


def baseline(fmt: str, data: Path, db: Path) -> float:
    start = time.perf_counter()
    with duckdb.connect(str(fresh(db))) as con:
        con.execute(BASELINES[fmt], [str(data)])
    return time.perf_counter() - start


def bench(work: Path, fmt: str, lines: int, seed: int) -> None:
    write, name = WRITERS[fmt]
    data, log = work / name, work / f"cyberlog-{fmt}.log"
    started = time.perf_counter()
    alerts, skipped, bad = write(data, lines, seed)
    written = time.perf_counter() - started
    tries = 3 if lines <= 1_000_000 else 1
    base = min(baseline(fmt, data, work / f"baseline-{fmt}-{i}.duckdb") for i in range(tries))
    runs = []
    for i in range(tries):
        store = fresh(work / f"store-{fmt}-{i}.duckdb")
        runs.append(child(["ingest", str(data), "--format", fmt, "--db", str(store)], log, 3 if bad else 0))
        stored_alerts, rejects = stored(store, "SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM rejects)")
        if (stored_alerts, rejects) != (alerts, bad):
            fail(
                f"{fmt}: store holds {stored_alerts:,} alerts + {rejects:,} rejects; wrote {alerts:,} + {bad:,} bad",
                log,
            )
    best, peak = min(runs)[0], max(r[2] for r in runs)
    size = data.stat().st_size / 2**20
    print(
        f"{fmt}: {lines:,} lines ({alerts:,} alerts, {skipped:,} other records, {bad:,} broken), "
        f"{size:,.0f} MiB, written in {written:.0f} s"
    )
    print(f"  duckdb {'read_json' if fmt == 'eve' else 'read_csv (lines)'} (baseline): {base:7.2f} s")
    print(
        f"  cyberlog ingest:              {best:7.2f} s   ratio {best / base:.2f}x   {lines / best:,.0f} lines/s   "
        f"peak RSS {peak:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--formats", default="eve,cef")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    parser.add_argument("--memory-limit", help="CYBERLOG_MEMORY_LIMIT for the ingests [default: cyberlog's 512MB]")
    args = parser.parse_args()
    if args.memory_limit:
        os.environ["CYBERLOG_MEMORY_LIMIT"] = args.memory_limit
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_telemetry_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for fmt in args.formats.split(","):
            bench(work.resolve(), fmt, args.lines, args.seed)
        limit = os.environ.get("CYBERLOG_MEMORY_LIMIT", "512MB (the default)")
        print(
            f"Best of 3 (1 above a million lines); ratios against DuckDB reading the same file in the same run; "
            f"cyberlog's DuckDB memory cap {limit}."
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
