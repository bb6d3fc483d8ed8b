"""Opening a report page in a real headless Chromium (the `browser` fixture is in conftest):
every request that leaves the page and every script error is recorded, for the test to
assert there were none."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.reports import catalog, page, results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Opened:
    page: Any
    requests: list[str] = field(default_factory=list)  # anything but the page's own file
    errors: list[str] = field(default_factory=list)  # uncaught script errors

    @property
    def clean(self) -> bool:
        return self.requests == [] and self.errors == []


def open_page(browser: Any, path: Path, width: int = 1280) -> Opened:
    page = browser.new_page(viewport={"width": width, "height": 900})
    opened = Opened(page)
    page.on("request", lambda r: opened.requests.append(r.url) if not r.url.startswith("file:") else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.goto(path.as_uri())
    return opened


ATTRS = "ms => ms.map(m => Object.fromEntries([...m.attributes].map(a => [a.name, a.value])))"  # each mark's


def report_page(db: Path, out: Path, name: str, **given: Any) -> list[dict[str, Any]]:
    """The report's page written to `out` (as `report run NAME --format html` writes it),
    and its rows as dicts, for a test to hold the picture against."""
    report = catalog.get(name)
    params = report.bind({k: str(v) for k, v in given.items()})
    with results.reading(db) as con:
        page.emit_page(con, report, params, out)
        columns, rows = results.report_rows(con, report, params)
    return [dict(zip(columns, r, strict=True)) for r in rows]
