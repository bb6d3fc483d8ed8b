"""The report page (`report run ... --format html`), opened in a real headless Chromium:
the marks are drawn, hover shows a mark's details and sources, the wheel zooms, and the
page needs no network."""

from __future__ import annotations

import shutil

import pytest
from conftest import run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (.ci/run installs Debian's)")

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _open(browser, path):
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def test_the_timeline_page_draws_every_mark_and_shows_details(loaded, tmp_path, browser):
    out = tmp_path / "t.html"
    result = run(
        "report", "run", "timeline", "-p", "since=2022-02-01", "-p", "until=2022-02-28", "--out", out, "--db", loaded
    )
    assert result.code == 0, result.err
    page, requests, errors = _open(browser, out)
    marks = page.locator("svg#axis circle.mark")
    assert marks.count() > 10
    assert page.locator("svg#axis circle.mark.incident").count() >= 1
    assert page.locator("svg#axis circle.mark.event").count() >= 1
    ddos = page.locator("svg#axis circle.mark.incident").first
    ddos.hover()
    tip = page.locator("#tip")
    assert tip.is_visible() and "sources:" in tip.inner_text()
    # every mark has the interval its time can lie in beside it, and shows the time as what it is
    assert page.locator("svg#axis line.span").count() == marks.count()
    shown = page.evaluate("marks.map(m => m.happened)")
    assert "2022-02-15" in shown and not [t for t in shown if "T00:00:00" in t]
    before = page.locator("svg#axis").get_attribute("data-lo")
    page.locator("svg#axis").hover()
    page.mouse.wheel(0, -300)
    assert page.locator("svg#axis").get_attribute("data-lo") != before  # zoomed
    assert page.locator("table tbody tr").count() > 10  # the report's rows beside
    assert requests == [] and errors == []
    page.screenshot(path=str(tmp_path / "timeline.png"))


@pytest.mark.parametrize("report", ["event_study", "lag_profile"])
def test_the_statistical_reports_draw_their_page_too(loaded, tmp_path, browser, report):
    out = tmp_path / f"{report}.html"
    assert run("report", "run", report, "--format", "html", "--out", out, "--db", loaded).code == 0
    page, requests, errors = _open(browser, out)
    assert page.locator("svg#axis circle.mark").count() > 10
    assert page.locator("table thead th").count() >= 3
    assert requests == [] and errors == []


def test_stored_text_cannot_break_out_of_the_page(tmp_path, browser):
    csv = tmp_path / "events.csv"
    csv.write_text(
        'ref,occurred_at,title\nx,2022-02-15,"</script><script>window.pwned=1</script><b>bold</b>"\n', "utf-8"
    )
    db = tmp_path / "s.duckdb"
    assert run("ingest", csv, "--format", "events_csv", "--db", db).code == 0
    out = tmp_path / "t.html"
    assert run("report", "run", "timeline", "--format", "html", "--out", out, "--db", db).code == 0
    page, _, errors = _open(browser, out)
    assert page.evaluate("window.pwned") is None and errors == []
    page.locator("svg#axis circle.mark").first.hover()
    assert "</script>" in page.locator("#tip").inner_text()  # shown as text


def test_html_is_for_reports(loaded):
    result = run("query", "SELECT 1", "--format", "html", "--db", loaded)
    assert result.code == 2 and "report run NAME --format html" in result.err
