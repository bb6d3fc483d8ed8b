"""A decade of GDELT through `cyberlog ingest`, a file at a time, into one growing store.

    python benchmarks/bench_decade.py [--files N] [--rows R] [--seed S] [--workdir DIR]

Writes one synthetic GDELT 2.0 export of R rows (28 days of events; 0.1% bad rows), then,
for each of N files, shifts a copy of it 28 days later than the last (new event ids, dates,
DATEADDED and story URLs, written by DuckDB from the first file's lines) and ingests it
into the same store, as a nightly would over the years: 100 files of 1M rows are 100M
events over 7.7 years. Each ingest runs in its own process (wall, CPU and peak RSS from its
launcher's wait4); DuckDB's read_csv of the first file into a table is the floor, measured
at the start and again at the end of the run. Prints each file's time, rows/s and peak RSS
and the store's size, then the rate over the first and the last tenth of the files: the
per-row rate must not fall as the store grows. No timing assertions: exits non-zero only
when a command fails or the counts do not add up.

The ingests run with CYBERLOG_SNAPSHOT=never: publishing the readers' snapshot copies the
whole store (a reflink only on btrfs or XFS), which is a cost of the store's size, not of the
file's. It is timed once at the end, on the full store.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import gdelt_synth
from bench_gdelt import baseline
from bench_ingest import child, fail, fresh, main_for, stored

from ingest import snapshot

DAYS = 28  # days of events in one synthetic export (gdelt_synth.write)
START = date(2014, 1, 1)
ID_STEP = 10**8  # event ids of file i start at 1,029,000,000 + i * ID_STEP

# file i: each good row's id, dates and URL moved on; a bad row keeps its faults (and its
# place in the file), with a new id so no two files share a ref
SHIFT = r"""
COPY (
    SELECT CASE
        WHEN len(f) = 61 AND d IS NOT NULL AND a IS NOT NULL THEN concat_ws(chr(9),
            (f[1]::BIGINT + $ids)::VARCHAR,
            strftime(d, '%Y%m%d'), strftime(d, '%Y%m'), strftime(d, '%Y'),
            printf('%.4f', year(d) + ((month(d) - 1) * 30 + day(d)) / 365),
            array_to_string(f[6:59], chr(9)),
            strftime(a, '%Y%m%d%H%M%S'),
            'https://news.example.org/' || strftime(a, '%Y/%m/%d') || '/story-' || (f[1]::BIGINT + $ids) || '.html')
        ELSE concat_ws(chr(9), coalesce((TRY_CAST(f[1] AS BIGINT) + $ids)::VARCHAR, f[1]),
                       array_to_string(f[2:], chr(9)))
    END
    FROM (
        SELECT f,
            try_strptime(f[2], '%Y%m%d') + to_days($days) AS d,
            try_strptime(f[60], '%Y%m%d%H%M%S') + to_days($days) AS a
        FROM (SELECT string_split(column0, chr(9)) AS f
              FROM read_csv($src, columns = {'column0': 'VARCHAR'}, delim = '\x1e', header = false, quote = '',
                            escape = '', new_line = '\n', auto_detect = false))
    )
) TO '{out}' (FORMAT csv, header false, quote '', escape '', delim '\x1e')
"""


def shifted(first: Path, work: Path, i: int) -> Path:
    """The first export moved i * DAYS days on, under a GDELT export's name."""
    begin = START + timedelta(days=i * DAYS)
    out = work / f"{begin:%Y%m%d}000000.export.CSV"
    moved = (begin - date(2022, 2, 1)).days  # gdelt_synth's files begin on 1 February 2022
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        con.execute(SHIFT.replace("{out}", str(out)), {"src": str(first), "ids": i * ID_STEP, "days": moved})
    return out


def run(work: Path, rows: int, seed: int, files: int) -> None:
    os.environ["CYBERLOG_SNAPSHOT"] = "never"  # the snapshot's copy is timed apart, at the end
    first, log, store = work / "first.export.CSV", work / "cyberlog.log", fresh(work / "decade.duckdb")
    bad = gdelt_synth.write(first, rows, seed)
    floor = min(baseline(first, work / f"baseline-{i}.duckdb") for i in range(3))
    print(f"{files} files of {rows:,} rows ({bad:,} bad each), {first.stat().st_size / 2**20:.0f} MiB each")
    print(f"floor: duckdb read_csv of one file {floor:.2f} s (best of 3)")
    print(" file  first day      wall   ratio     rows/s      CPU  peak RSS   store")
    walls = []
    for i in range(files):
        data = shifted(first, work, i)
        elapsed, cpu, peak = child(["ingest", str(data), "--db", str(store)], log, 3 if bad else 0)
        data.unlink()
        walls.append(elapsed)
        size = store.stat().st_size / 2**20
        print(
            f"{i + 1:5d}  {START + timedelta(days=i * DAYS)}  {elapsed:6.2f} s  {elapsed / floor:5.2f}x  "
            f"{rows / elapsed:9,.0f}  {cpu:5.1f} s  {peak:5,.0f} MiB  {size:6,.0f} MiB",
            flush=True,
        )
    events, rejects = stored(store, "SELECT (SELECT count(*) FROM diplomatic_events), (SELECT count(*) FROM rejects)")
    if events + rejects != files * rows or rejects != files * bad:
        fail(f"store holds {events:,} events + {rejects:,} rejects; {files * rows:,} lines, {files * bad:,} bad", log)
    floor_end = min(baseline(first, work / f"baseline-{i}.duckdb") for i in range(3))
    tenth = max(1, files // 10)
    early, late = statistics.median(walls[:tenth]), statistics.median(walls[-tenth:])
    print(f"floor again at the end: {floor_end:.2f} s")
    print(
        f"median of the first {tenth} files {early:.2f} s ({rows / early:,.0f} rows/s), "
        f"of the last {tenth} {late:.2f} s ({rows / late:,.0f} rows/s): the last at {late / early:.2f}x the first"
    )
    print(f"store: {events:,} events, {rejects:,} rejects, {store.stat().st_size / 2**30:.2f} GiB")
    os.environ["CYBERLOG_SNAPSHOT"] = "busy"
    with duckdb.connect(str(store)) as con:
        start = time.perf_counter()
        snapshot.publish(con, store)
        published = time.perf_counter() - start
    snapshot.path_of(store).unlink()
    print(f"publishing the readers' snapshot of the full store (checkpoint and copy): {published:.1f} s")


def main() -> None:
    main_for(__doc__ or "", 1_000_000, "bench_decade_", run, {"files": 100})


if __name__ == "__main__":
    main()
