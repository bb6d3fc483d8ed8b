"""Ingest benchmark: `cyberlog ingest` against DuckDB's own read_csv of the same file.

    python benchmarks/bench_ingest.py [--rows N] [--seed S] [--workdir DIR]

Writes a synthetic curated incidents CSV (~0.5% deliberately bad rows), then times, best of 3:
DuckDB's read_csv into a fresh on-disk table, `cyberlog ingest` into a fresh store (a
subprocess; peak RSS from os.wait4), re-ingests of the unchanged file and of a renamed
copy, and the cross-source matcher over the store once the copy is loaded as a second
source (`cyberlog clusters match`, which re-checks every pair). No timing assertions:
exits non-zero only when a command fails or counts do not add up.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import NoReturn

import duckdb

HEADER = [
    "ref",
    "title",
    "description",
    "attack_types",
    "started_at",
    "ended_at",
    "time_precision",
    "evidence",
    "severity",
    "target_org",
    "target_domain",
    "target_country",
    "target_sector",
    "actor",
    "actor_role",
    "attributed_by",
    "attributed_at",
    "url",
]
ATTACKS = ["ddos", "defacement", "wiper", "ransomware", "phishing", "intrusion", "data_leak", "other"]
# alpha-3 code, top-level domain, name as in "Ministry of Defence of <name>"
COUNTRIES = {
    code: (name, tld)
    for code, tld, name in (
        item.split(" ", 2)
        for item in [
            "UKR ua Ukraine",
            "POL pl Poland",
            "EST ee Estonia",
            "LVA lv Latvia",
            "LTU lt Lithuania",
            "DEU de Germany",
            "FRA fr France",
            "GBR uk the United Kingdom",
            "USA us the United States",
            "GEO ge Georgia",
            "MDA md Moldova",
            "ROU ro Romania",
            "CZE cz Czechia",
            "FIN fi Finland",
            "SWE se Sweden",
            "NOR no Norway",
            "NLD nl the Netherlands",
            "ITA it Italy",
            "JPN jp Japan",
            "KOR kr the Republic of Korea",
        ]
    )
}
# domain stem, sector, organisation: together they cover every sector of the vocabulary
ORGS = [
    item.split(" ", 2)
    for item in [
        "mfa government Ministry of Foreign Affairs",
        "army military Armed Forces",
        "mod military Ministry of Defence",
        "bank finance National Bank",
        "grid energy Grid Operator",
        "savings finance State Savings Bank",
        "gts energy Gas Transmission System",
        "mobile telecom Mobile Operator",
        "tv media Public Broadcaster",
        "moh health Ministry of Health",
        "rail transport State Railways",
        "uni education National University",
        "kmu government Cabinet of Ministers",
        "cci other Chamber of Commerce",
    ]
]
ACTORS = [
    "GRU",
    "APT28",
    "Sandworm",
    "Gamaredon",
    "UNC1151",
    "Killnet",
    "NoName057(16)",
    "APT29",
    "Turla",
    "XakNet",
    "Anonymous Sudan",
    "LockBit",
    "Conti",
    "Cadet Blizzard",
]
BY = [
    "CERT-UA",
    "Microsoft MSTIC",
    "Mandiant",
    "ESET",
    "United Kingdom (FCDO/NCSC)",
    "United States (CISA/FBI)",
    "Google TAG",
    "Recorded Future",
    "SSSCIP, Ukraine",
]
SENTENCES = [
    "Waves of traffic took the website offline for {n} hours, and online services were disrupted.",
    'The attackers left a message reading "be afraid and expect the worst" on the front page.',
    "Stage one overwrote the boot record with a fake ransom note; stage two corrupted files.",
    "CERT-UA reported the incident on day {n}, citing logs, samples and the victim's statement.",
    'Spear-phishing e-mails posed as a "salary update" from the ministry\'s HR department.',
    "About {n} GB of internal documents, e-mails and scans were later published on Telegram.",
    "Investigators linked the infrastructure to earlier campaigns; attribution is tentative.",
    "Services were restored from backups within {n} days; no ransom was paid, officials said.",
    "The intrusion, first seen by the SOC, began weeks earlier with stolen VPN credentials.",
]
COUNTS = "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM rejects)"
IDENTITY = (
    "SELECT (SELECT count(*) FROM v_incident_links WHERE decision = 'matched'), "
    "(SELECT count(DISTINCT cluster_id) FROM incident_clusters)"
)
LAST_RUN = "SELECT files_loaded, files_skipped FROM ingest_runs ORDER BY started_at DESC LIMIT 1"
TITLES = ["{a} against {o}", "{a} on {o}, {c} and others", '"{x}" campaign: {a} against {o}', "{a} hits {o}"]


def moment(rng: random.Random, day: date) -> tuple[str, str]:
    """A time in one of the forms analysts write, with an optional (coarser) precision."""
    form, h, m = rng.random(), rng.randrange(24), rng.randrange(60)
    if form < 0.35:
        return day.isoformat(), ""
    if form < 0.45:
        return day.isoformat()[:7], ""
    if form < 0.75:
        return f"{day}T{h:02}:{m:02}:{rng.randrange(60):02}Z", ""
    return f"{day}T{h:02}:{m:02}+02:00", rng.choice(["", "hour"])


def one_or_each(rng: random.Random, values: list[str]) -> str:
    """A parallel `;` column: a single item applying to all, or one item per entry."""
    return values[0] if len(set(values)) == 1 or rng.random() < 0.3 else ";".join(values)


def make_row(rng: random.Random, i: int, bad: bool) -> list[str]:
    day = date(2014, 1, 1) + timedelta(days=rng.randrange(4400))
    attacks = rng.sample(ATTACKS, rng.choice([1, 1, 1, 2]))
    codes = rng.sample(sorted(COUNTRIES), rng.choice([1, 1, 2]))
    targets = [(org, rng.choice(codes)) for org in rng.sample(ORGS, rng.randint(1, 4))]
    orgs = [f"{org} of {COUNTRIES[c][0]}" for (_, _, org), c in targets]
    domains = [f"{stem}.gov.{COUNTRIES[c][1]}" for (stem, _, _), c in targets]
    domains = ["" if rng.random() < 0.3 else d for d in domains] if rng.random() < 0.8 else []
    sectors = [sector for (_, sector, _), _ in targets]
    started, precision = moment(rng, day)
    if bad and i % 2:
        sectors[0] = "banks"  # not in the vocabulary
    elif bad:
        started, precision = f"{day} {rng.randrange(24):02}:{rng.randrange(60):02}", ""  # naive
    ended = "" if rng.random() < 0.5 else str(day + timedelta(days=rng.randint(1, 20)))
    actors = rng.sample(ACTORS, rng.choice([0, 0, 1, 1, 2]))
    by = [rng.choice(BY) for _ in actors] if rng.random() < 0.6 else []
    when = [str(day + timedelta(days=rng.randint(1, 400))) for _ in by]
    roles = [rng.choice(["attributed", "claimed", "suspected"]) for _ in actors]
    label = "DDoS" if attacks[0] == "ddos" else attacks[0].replace("_", " ").capitalize()
    title = rng.choice(TITLES).format(a=label, o=orgs[0], c=orgs[-1], x=rng.choice(ACTORS))
    text = " ".join(rng.choice(SENTENCES) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])))
    return [
        f"{day}-{attacks[0]}-{i:07d}",
        title,
        text.format(n=rng.randint(2, 90)),
        ";".join(attacks),
        started,
        ended,
        precision,
        rng.choice(["", "claimed", "reported", "confirmed"]),
        rng.choice(["", "low", "medium", "high", "critical"]),
        ";".join(orgs),
        ";".join(domains),
        one_or_each(rng, [c for _, c in targets]),
        one_or_each(rng, sectors),
        ";".join(actors),
        one_or_each(rng, roles) if by else "",
        ";".join(by),
        one_or_each(rng, when) if by else "",
        f"https://cert.gov.ua/article/{i + 30000}",
    ]


def write_csv(
    path: Path,
    rows: int,
    seed: int,
    header: list[str] = HEADER,
    make: Callable[[random.Random, int, bool], list[str]] = make_row,
) -> int:
    """Write the file (about 0.5% of its rows bad); return how many rows are bad."""
    rng, bad_rows = random.Random(seed), 0
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        for i in range(rows):
            bad = rng.random() < 0.005
            bad_rows += bad
            writer.writerow(make(rng, i, bad))
    return bad_rows


def fail(message: str, log: Path | None = None) -> NoReturn:
    tail = "".join(log.read_text(errors="replace").splitlines(True)[-20:]) if log else ""
    sys.exit(f"bench_ingest: FAILED: {message}\n{tail}")


def fresh(db: Path) -> Path:
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    return db


def baseline(data: Path, db: Path, rows: int) -> float:
    sql = "CREATE TABLE t AS SELECT * FROM read_csv(?, header=true, all_varchar=true)"
    start = time.perf_counter()
    with duckdb.connect(str(fresh(db))) as con:
        con.execute(sql, [str(data)])
        elapsed = time.perf_counter() - start
        if (n := con.execute("SELECT count(*) FROM t").fetchall()[0][0]) != rows:
            fail(f"DuckDB's read_csv read {n:,} rows, {rows:,} were written")
    return elapsed


# A child's peak RSS as wait4 gives it counts the pages of the process it was forked from: a
# benchmark holding a DuckDB baseline's buffers or a store it built would lend every command
# its own size (a 4 GB parent made every report "4 GB"). So each command is forked by a small
# launcher (a fresh interpreter, about 10 MB), which times it and reports its CPU and peak RSS
# through a pipe.
LAUNCH = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
os.write(int(sys.argv[1]), f"{elapsed} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}".encode())
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


def child(cmd: list[str], log: Path, expect: int, module: bool = True) -> tuple[float, float, float]:
    """Run `python -m ingest CMD` (or `python CMD`): wall time, CPU time and peak RSS (MiB) of
    that process alone, from its launcher's wait4 (see LAUNCH)."""
    argv = [sys.executable, "-m", "ingest", *cmd] if module else [sys.executable, *cmd]
    read, write = os.pipe()
    with log.open("wb") as out:
        launch = [sys.executable, "-c", LAUNCH, str(write), *argv]
        proc = subprocess.Popen(launch, stdout=out, stderr=out, pass_fds=(write,))
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            report = pipe.read().decode()
        proc.wait()
    if proc.returncode != expect:
        fail(f"cyberlog {' '.join(cmd)} exited {proc.returncode}, expected {expect}", log)
    elapsed, cpu, rss = (float(v) for v in report.split())
    return elapsed, cpu, rss / 1024  # KiB on Linux


def stored(db: Path, sql: str) -> tuple[int, ...]:
    with duckdb.connect(str(db), read_only=True) as con:
        return tuple(int(v or 0) for v in con.execute(sql).fetchall()[0])


def run(work: Path, rows: int, seed: int) -> None:
    data, log = work / "incidents.csv", work / "cyberlog.log"
    bad = write_csv(data, rows, seed)
    base = min(baseline(data, work / f"baseline-{i}.duckdb", rows) for i in range(3))
    ingests, peaks = [], []  # (wall, cpu) and peak RSS of each run
    for i in range(3):
        store = fresh(work / f"store-{i}.duckdb")
        elapsed, cpu, peak = child(["ingest", str(data), "--db", str(store)], log, 3)
        incidents, rejects = stored(store, COUNTS)
        if incidents + rejects != rows or rejects != bad:
            fail(
                f"store holds {incidents:,} incidents + {rejects:,} rejects; "
                f"{rows:,} rows were written, {bad:,} of them bad",
                log,
            )
        ingests.append((elapsed, cpu))
        peaks.append(peak)
    # the same file with every row through the pydantic model (--timezone UTC: the careful
    # path; the same values, but the bad rows' naive times are read in UTC there); one run
    careful_store = fresh(work / "store-careful.duckdb")
    careful = child(["ingest", str(data), "--db", str(careful_store), "--timezone", "UTC"], log, 3)
    if sum(stored(careful_store, COUNTS)) != rows:
        fail("the careful path lost rows", log)
    copy = work / "incidents-renamed.csv"
    shutil.copyfile(data, copy)
    again: dict[Path, float] = {}
    for path in (data, copy):
        times = []
        for _ in range(3):
            times.append(child(["ingest", str(path), "--db", str(store)], log, 0)[0])
            if stored(store, LAST_RUN) != (0, 1) or stored(store, COUNTS) != (rows - bad, bad):
                fail(f"re-ingest of {path.name} was not a clean skip", log)
        again[path] = min(times)
    # the same file again under a second source name: every record has a twin to find
    child(["ingest", str(copy), "--source", "twin", "--db", str(store)], log, 3)
    matching = min(child(["clusters", "match", "--db", str(store)], log, 0)[0] for _ in range(3))
    links, clusters = stored(store, IDENTITY)
    startup = min(child(["--version"], log, 0)[0] for _ in range(3))
    best, cpu = min(ingests)
    print(f"rows: {rows:,} ({bad:,} bad, {bad / rows:.2%})   file: {data.stat().st_size / 2**20:.1f} MiB")
    print(f"duckdb read_csv (baseline): {base:6.2f} s")
    print(
        f"cyberlog ingest:            {best:6.2f} s   ratio {best / base:.1f}x   "
        f"{rows / best:,.0f} rows/s   peak RSS {max(peaks):,.0f} MiB   (CPU {cpu:.2f} s)"
    )
    print(
        f"every row through the model: {careful[0]:5.2f} s   ratio {careful[0] / base:.1f}x   "
        f"{rows / careful[0]:,.0f} rows/s   peak RSS {careful[2]:,.0f} MiB   (one run, --timezone UTC)"
    )
    print(f"re-ingest unchanged file:   {again[data]:6.2f} s   (skipped)")
    print(f"re-ingest renamed copy:     {again[copy]:6.2f} s   (skipped by sha256)")
    print(
        f"identity over 2 x {rows - bad:,}:    {matching:6.2f} s   ({links:,} links in force, "
        f"{clusters:,} clusters; every pair re-checked)"
    )
    print(f"cyberlog --version:         {startup:6.2f} s   (interpreter start + imports)")
    print("Best of 3 each. Ratios are against DuckDB's read_csv of the same file in the same run.")
    print("CPU is the child's user+sys time: a wall time well above it means a busy machine.")


def main_for(
    doc: str,
    rows: int,
    prefix: str,
    bench: Callable[..., None],
    options: dict[str, int] | None = None,
) -> None:
    """A row-count benchmark's command line: --rows, --seed, --workdir (a temporary folder,
    removed after, unless given), and the benchmark's own whole-number `options` (name:
    default), each at least 1 and handed to it by name."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    for name, default in (options or {}).items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    for name in ["rows", *(options or {})]:
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    work = args.workdir or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        bench(work.resolve(), args.rows, args.seed, **{name: getattr(args, name) for name in options or {}})
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    main_for(__doc__ or "", 200_000, "bench_ingest_", run)


if __name__ == "__main__":
    main()
