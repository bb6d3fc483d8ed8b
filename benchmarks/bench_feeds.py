"""Remote-source benchmark: a nightly run fetching GDELT batches over HTTP (loopback)
against downloading the same files with plain httpx and loading them with DuckDB's
read_csv, in the same run.

    python benchmarks/bench_feeds.py [--batches N] [--rows R] [--seed S] [--workdir DIR]

Writes N synthetic 15-minute GDELT exports of R rows (zipped, as GDELT publishes them) and
a master file list (size, MD5, URL), serves them from a stdlib HTTP server on 127.0.0.1,
and measures in subprocesses (peak RSS from os.wait4): the baseline (httpx streams each
zip to disk, Python unzips it, DuckDB read_csv loads every CSV into one table: no checks,
no verification, no ledger), `cyberlog nightly` with the list as a remote source (list
read, each zip downloaded to a .part, size and MD5 verified, ingested, state marked), and
a second nightly with nothing new. No timing assertions: exits non-zero only when a
command fails or the counts do not add up.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import gdelt_synth
from bench_ingest import child, fail, fresh, stored

BASELINE = """
import sys, zipfile, httpx, duckdb
from pathlib import Path
work, urls = Path(sys.argv[1]), sys.argv[2:]
out = work / "baseline-files"; out.mkdir(exist_ok=True)
csvs = []
with httpx.Client() as client:
    for url in urls:
        target = out / url.rsplit("/", 1)[-1]
        with client.stream("GET", url) as r, target.open("wb") as f:
            for chunk in r.iter_bytes(1 << 20):
                f.write(chunk)
        with zipfile.ZipFile(target) as z:
            z.extractall(out)
            csvs += [str(out / n) for n in z.namelist()]
with duckdb.connect(str(work / "baseline.duckdb")) as con:
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, delim='\\\\t', header=false, quote='', escape='', "
                "all_varchar=true, null_padding=true, ignore_errors=true)", [csvs])
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def write_batches(www: Path, batches: int, rows: int, seed: int) -> tuple[list[str], int]:
    """The zips and their (size, md5, name) lines; returns the names and the bad rows."""
    names, bad = [], 0
    for i in range(batches):
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(1644883200 + i * 900))  # 15 Feb 2022, every 15 min
        plain = www / f"{stamp}.export.CSV"
        bad += gdelt_synth.write(plain, rows, seed + i, bad_share=0.0, first_id=1_029_000_000 + i * rows)
        with zipfile.ZipFile(www / f"{plain.name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(plain, plain.name)
        plain.unlink()
        names.append(f"{plain.name}.zip")
    return names, bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=96, help="15-minute exports: 96 is a day")
    parser.add_argument("--rows", type=int, default=1500, help="rows per export (GDELT's are 1,000 to 2,500)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the files here [default: temp dir]")
    args = parser.parse_args()
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="bench_feeds_"))).resolve()
    www = work / "www" / "gdeltv2"
    shutil.rmtree(work / "www", ignore_errors=True)
    www.mkdir(parents=True)
    log = work / "cyberlog.log"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(work / "www")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/gdeltv2"
    try:
        names, _ = write_batches(www, args.batches, args.rows, args.seed)
        lines = []
        for name in names:
            body = (www / name).read_bytes()
            lines.append(f"{len(body)} {hashlib.md5(body).hexdigest()} {base_url}/{name}")
        (www / "masterfilelist.txt").write_text("\n".join(lines) + "\n", "utf-8")
        total = sum((www / n).stat().st_size for n in names) / 2**20
        script = work / "baseline.py"
        script.write_text(BASELINE, "utf-8")
        urls = [f"{base_url}/{n}" for n in names]
        bases = []
        for _ in range(3):
            fresh(work / "baseline.duckdb")
            shutil.rmtree(work / "baseline-files", ignore_errors=True)
            bases.append(child([str(script), str(work), *urls], log, 0, module=False)[0])
        config = work / "cyberlog.toml"
        config.write_text(
            f'[[sources]]\nname = "gdelt-live"\nformat = "gdelt"\nurl = "{base_url}/masterfilelist.txt"\n'
            "since = 2022-02-15\n",
            "utf-8",
        )
        runs, again = [], []
        for i in range(3):
            store = fresh(work / f"store-{i}.duckdb")
            shutil.rmtree(work / "downloads", ignore_errors=True)
            runs.append(child(["nightly", "--config", str(config), "--db", str(store)], log, 0))
            events = stored(store, "SELECT count(*) FROM diplomatic_events")[0]
            if events != args.batches * args.rows:
                fail(f"store holds {events:,} events; served {args.batches * args.rows:,}", log)
            again.append(child(["nightly", "--config", str(config), "--db", str(store)], log, 0)[0])
        base, (best, _, peak) = min(bases), min(runs)
        print(
            f"{args.batches} GDELT exports of {args.rows:,} rows ({args.batches * args.rows:,} events), "
            f"{total:.1f} MiB zipped, served on loopback"
        )
        print(f"  httpx download + unzip + duckdb read_csv (baseline): {base:6.2f} s")
        print(
            f"  cyberlog nightly (fetch, verify, ingest):            {best:6.2f} s   ratio {best / base:.2f}x   "
            f"peak RSS {peak:,.0f} MiB   {args.batches * args.rows / best:,.0f} events/s "
            f"({best / args.batches * 1000:.0f} ms a batch)"
        )
        print(f"  cyberlog nightly again, nothing new:                 {min(again):6.2f} s")
        print("Best of 3. Ratio against the baseline measured in the same run.")
    finally:
        server.shutdown()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
