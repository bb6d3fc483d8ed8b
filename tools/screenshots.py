"""Screenshots of every report's page, for docs/reports/pictures.md: for each report in the
catalogue, its page (`cyberlog report run NAME --format html`) written with params that
suit the bundled fixtures, then opened in headless Chromium and saved as a PNG.

    python tools/screenshots.py                       # a store of the bundled fixtures, built in a temp dir
    python tools/screenshots.py --db cyberlog.duckdb  # an existing store, opened read-only
    python tools/screenshots.py --out /tmp/img --keep-html --only attack_bursts

Without --db it runs `cyberlog nightly --config fixtures/cyberlog.toml` into a temporary
store first. It needs Playwright (the dev extras) and a Chromium on the PATH (Debian's
`chromium`: no browser download). Each PNG is the top of the page, 1280 px wide and at most
1400 px tall: the picture and the first few rows of the table. Like tools/refdocs.py it lives
outside the package, because it writes into docs/, which only a checkout has.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from ingest.reports import catalog, page, results

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "cyberlog.toml"
OUT = ROOT / "docs" / "reports" / "img"
WIDTH, MOST_HEIGHT = 1280, 1400
TABLE_ROWS = 8  # rows of the report's table the screenshot shows below the picture
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

# Params that show each report at its most telling on the bundled fixtures (January and
# February 2022; the telemetry and the DDoS on the Ministry of Defence on 15 February).
# A report not named here runs with its defaults.
PARAMS: dict[str, dict[str, str]] = {
    "attack_bursts": {"since": "2022-02-15", "until": "2022-02-15"},
    "incidents_near_events": {"since": "2022-02-15", "until": "2022-02-15", "window_hours": "24"},
    "targets_by_period": {"period": "week"},
    "timeline": {"since": "2022-02-14", "until": "2022-02-16"},
}


@contextmanager
def fixture_store() -> Iterator[Path]:
    """A store of the bundled fixtures, loaded by the nightly job in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="cyberlog-shots-") as tmp:
        db = Path(tmp) / "fixtures.duckdb"
        command = [sys.executable, "-m", "ingest", "-q", "nightly", "--config", str(FIXTURES), "--db", str(db)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"screenshots: the nightly job on the fixtures failed ({done.returncode}):\n{done.stderr}")
        yield db


def write_pages(db: Path, folder: Path, only: set[str]) -> list[Path]:
    """Each report's page as `<folder>/<report>.html`."""
    pages = []
    with results.reading(db) as con:
        for report in catalog.all_reports():
            if only and report.name not in only:
                continue
            params = report.bind(PARAMS.get(report.name, {}))
            out = folder / f"{report.name}.html"
            page.emit_page(con, report, params, out)
            pages.append(out)
    return pages


# where the screenshot ends: below the picture and the table's first rows (the page's end
# when the table is shorter)
_BOTTOM = """n => {
  const end = document.documentElement.scrollHeight;
  const last = document.getElementById("row-" + n) || document.querySelector("table");
  return last ? Math.min(Math.ceil(last.getBoundingClientRect().bottom + window.scrollY + 16), end) : end;
}"""


def _said(errors: list[str], error: Any) -> None:
    errors.append(str(error))


def shoot(pages: list[Path], out: Path) -> None:
    """A PNG of the top of each page, named as the page."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("screenshots: no chromium on the PATH (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            for html in pages:
                tab = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
                errors: list[str] = []
                tab.on("pageerror", partial(_said, errors))
                tab.goto(html.as_uri())
                tab.wait_for_load_state("load")
                height = min(int(tab.evaluate(_BOTTOM, TABLE_ROWS - 1)), MOST_HEIGHT)
                png = out / f"{html.stem}.png"
                tab.screenshot(path=str(png), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
                tab.close()
                said = f" (script errors: {'; '.join(errors)})" if errors else ""
                print(f"wrote {png} ({png.stat().st_size // 1024} KB){said}")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="the store to draw (default: the bundled fixtures, loaded afresh)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNGs go (default: {OUT.relative_to(ROOT)})")
    parser.add_argument("--only", action="append", default=[], metavar="REPORT", help="only this report (repeatable)")
    parser.add_argument("--keep-html", action="store_true", help="keep each page beside its PNG")
    args = parser.parse_args(argv)
    unknown = set(args.only) - {r.name for r in catalog.all_reports()}
    if unknown:
        parser.error(f"no report {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cyberlog-pages-") as tmp:
        folder = args.out if args.keep_html else Path(tmp)
        if args.db is not None:
            shoot(write_pages(args.db, folder, set(args.only)), args.out)
        else:
            with fixture_store() as db:
                shoot(write_pages(db, folder, set(args.only)), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
