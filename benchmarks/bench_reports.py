"""Report benchmark: every canned report over a synthetic store of 1M incidents and 1M events.

    python benchmarks/bench_reports.py [--incidents N] [--events N] [--repeat R] [--seed S] [--workdir DIR]

Builds the store with cyberlog's own schema, filled by SQL (this measures the reports,
not ingest): incidents over 2014-2022 with a realistic mix of precisions, one target each
in 20 countries and 10 sectors, attributions on a third of them, a tenth of them paired
into cross-source clusters, and diplomatic events in every class, mostly known to the day
as GDELT gives them (a tenth to the hour), one class (recognition) rare. Then runs each
report as `cyberlog report run` in a subprocess, best of R (3), and prints its wall time and
peak RSS. No timing assertions: exits non-zero only when a report fails.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from bench_ingest import child, fresh

from ingest.store import open_store

FILL = """
CREATE TEMP TABLE n AS SELECT i, (hash($seed, i) >> 1)::BIGINT AS h FROM range($incidents) t(i);
INSERT INTO incidents BY NAME
SELECT
    'inc_' || lpad(i::VARCHAR, 20, '0') AS incident_id,
    ['cert', 'misp', 'stix', 'vcdb', 'tracker'][1 + h % 5] AS source,
    i::VARCHAR AS source_ref,
    'Synthetic attack ' || i AS title,
    [['ddos', 'defacement', 'wiper', 'ransomware', 'phishing', 'intrusion', 'data_leak', 'other'][1 + (h >> 3) % 8]]
        AS attack_types,
    start AS started_at,
    start + CASE precision WHEN 'minute' THEN INTERVAL 1 MINUTE WHEN 'hour' THEN INTERVAL 1 HOUR
                           WHEN 'day' THEN INTERVAL 1 DAY ELSE INTERVAL 1 MONTH END AS started_latest,
    precision AS time_precision,
    'reported' AS evidence, md5(i::VARCHAR) AS content_hash, 'run' AS run_id, 'file' AS file_id,
    now() AS first_loaded_at, now() AS loaded_at
FROM (
    SELECT i, h,
        CASE WHEN (h >> 8) % 100 < 2 THEN 'minute' WHEN (h >> 8) % 100 < 72 THEN 'hour'
             WHEN (h >> 8) % 100 < 92 THEN 'day' ELSE 'month' END AS precision,
        TIMESTAMPTZ '2014-01-01 00:00:00+00' + ((h >> 16) % (9 * 365 * 24)) * INTERVAL 1 HOUR AS raw_start
    FROM n
), LATERAL (SELECT CASE precision WHEN 'day' THEN date_trunc('day', raw_start)
                                  WHEN 'month' THEN date_trunc('month', raw_start) ELSE raw_start END AS start);
INSERT INTO incident_targets BY NAME
SELECT 'inc_' || lpad(i::VARCHAR, 20, '0') AS incident_id, 0 AS position,
       'Organisation ' || (h >> 24) % 500 AS organisation,
       ['UKR', 'RUS', 'POL', 'EST', 'LVA', 'LTU', 'DEU', 'FRA', 'GBR', 'USA', 'GEO', 'MDA', 'ROU', 'CZE', 'FIN',
        'SWE', 'NOR', 'NLD', 'ITA', 'JPN'][1 + (h >> 32) % 20] AS country,
       ['government', 'military', 'finance', 'energy', 'telecom', 'media', 'transport', 'health', 'education',
        'other'][1 + (h >> 40) % 10] AS sector,
       'run' AS run_id, 'file' AS file_id
FROM n;
INSERT INTO incident_actors BY NAME
SELECT i.incident_id, 0 AS position, ['GRU', 'APT28', 'Sandworm', 'Gamaredon', 'Killnet'][1 + n.h % 5] AS actor,
       'attributed' AS role, ['UK NCSC', 'CISA', 'CERT-UA', 'Mandiant'][1 + (n.h >> 5) % 4] AS attributed_by,
       i.started_at + ((n.h >> 12) % 200) * INTERVAL 1 DAY AS attributed_at,
       i.started_at + ((n.h >> 12) % 200 + 1) * INTERVAL 1 DAY AS attributed_latest,
       'day' AS attributed_precision, 'RUS' AS country, 'run' AS run_id, 'file' AS file_id
FROM incidents i JOIN n ON i.source_ref = n.i::VARCHAR
WHERE n.h % 3 = 0;
INSERT INTO incident_clusters
SELECT 'inc_' || lpad(i::VARCHAR, 20, '0'), 'clu_' || lpad((i - i % 2)::VARCHAR, 20, '0')
FROM n WHERE (i - i % 2) % 20 = 0;
CREATE TEMP TABLE m AS SELECT i, (hash($seed + 1, i) >> 1)::BIGINT AS h FROM range($events) t(i);
INSERT INTO diplomatic_events BY NAME
SELECT
    'evt_' || lpad(i::VARCHAR, 20, '0') AS event_id, 'gdelt' AS source, i::VARCHAR AS source_ref,
    CASE WHEN hourly THEN day + ((h >> 40) % 24) * INTERVAL 1 HOUR ELSE day END AS occurred_at,
    CASE WHEN hourly THEN day + ((h >> 40) % 24 + 1) * INTERVAL 1 HOUR ELSE day + INTERVAL 1 DAY END
        AS occurred_latest,
    CASE WHEN hourly THEN 'hour' ELSE 'day' END AS time_precision,
    'Synthetic event ' || i AS title,
    CASE WHEN (h >> 20) % 1000 = 0 THEN 'recognition'
         ELSE ['talks', 'visit', 'statement', 'agreement', 'sanction', 'threat', 'attribution', 'military',
               'other'][1 + h % 9] END AS event_class,
    [['UKR', 'RUS', 'USA', 'DEU', 'GBR', 'FRA', 'POL', 'CHN'][1 + (h >> 4) % 8]] AS actor_countries,
    md5(i::VARCHAR) AS content_hash, 'run' AS run_id, 'file' AS file_id, now() AS first_loaded_at, now() AS loaded_at
FROM (SELECT i, h, (h >> 30) % 10 = 0 AS hourly,
             date_trunc('day', TIMESTAMPTZ '2014-01-01 00:00:00+00' + ((h >> 8) % (9 * 365)) * INTERVAL 1 DAY) AS day
      FROM m)
"""

RUNS = [  # report and params, as an analyst would run them
    ("event_study", []),
    ("event_study", ["-p", "group=event", "-p", "event_class=sanction", "-p", "country=UKR"]),
    ("event_study", ["-p", "group=day", "-p", "event_class=sanction"]),
    ("lag_profile", ["-p", "event_class=sanction"]),
    ("lag_profile", ["-p", "event_class=talks", "-p", "permutations=1000", "-p", "k=14"]),
    ("lag_profile", ["-p", "event_class=recognition", "-p", "country=UKR"]),
    (
        "lag_profile",
        [
            "-p",
            "event_class=military",
            "-p",
            "bin=hour",
            "-p",
            "k=48",
            "-p",
            "since=2021-01-01",
            "-p",
            "until=2022-12-31",
        ],
    ),
    ("lead_lag", ["-p", "event_class=sanction"]),
    ("lead_lag", ["-p", "event_class=recognition", "-p", "country=UKR"]),
    ("attribution_lag", ["-p", "events=false"]),
    ("attribution_lag", ["-p", "country=UKR"]),
    ("targets_by_period", ["-p", "period=week"]),
    ("incidents_near_events", ["-p", "country=UKR", "-p", "event_class=recognition", "-p", "window_hours=72"]),
    ("incidents_near_events", ["-p", "since=2022-02-15", "-p", "until=2022-02-15", "-p", "window_hours=24"]),
    ("timeline", ["-p", "since=2022-02-01", "-p", "until=2022-02-28"]),
    ("ingest_health", []),
]


def build(db: Path, incidents: int, events: int, seed: int) -> None:
    with open_store(fresh(db), write=True) as con:
        con.execute("SET memory_limit = '4GB'")
        for statement in FILL.split(";\n"):
            con.execute(
                statement,
                {
                    k: v
                    for k, v in {"seed": seed, "incidents": incidents, "events": events}.items()
                    if f"${k}" in statement
                },
            )
    with duckdb.connect(str(db)) as con:
        con.execute("CHECKPOINT")


def run(work: Path, incidents: int, events: int, seed: int, repeat: int) -> None:
    db, log = work / "store.duckdb", work / "cyberlog.log"
    started = time.perf_counter()
    build(db, incidents, events, seed)
    print(
        f"store: {incidents:,} incidents, {events:,} diplomatic events, {db.stat().st_size / 2**20:,.0f} MiB "
        f"(filled by SQL in {time.perf_counter() - started:.0f} s)"
    )
    # the floor, in a fresh process like the reports: DuckDB writing the whole incidents table to CSV
    copy = (
        f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)"
        f".execute(\"COPY incidents TO '{work / 'incidents.csv'}' (HEADER)\")"
    )
    base = min(child(["-c", copy], log, 0, module=False)[0] for _ in range(repeat))
    print(f"{'baseline: COPY incidents':22} {base:6.2f} s   (DuckDB alone, every incident to CSV)")
    for report, params in RUNS:
        out = work / f"{report}.csv"
        timings = [
            child(["report", "run", report, *params, "--db", str(db), "--out", str(out)], log, 0) for _ in range(repeat)
        ]
        wall, peak = min(t[0] for t in timings), max(t[2] for t in timings)
        rows = sum(1 for _ in out.open(encoding="utf-8")) - 1
        shown = " ".join(params[1::2]) or "(defaults)"
        print(f"{report:22} {wall:6.2f} s  {wall / base:5.1f}x  peak RSS {peak:6,.0f} MiB  {rows:>8,} rows  {shown}")
    print(f"Best of {repeat} each, wall time of the whole command (start-up included); ratio to the baseline.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report, the best kept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_reports_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work.resolve(), args.incidents, args.events, args.seed, args.repeat)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
