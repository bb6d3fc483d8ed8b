"""The report page (`report run NAME --format html`), opened in a real headless Chromium:
the timeline and incidents_near_events pictures draw the report's rows and nothing else,
intervals as intervals, pairs joined and labelled with their lag; hover shows details and
sources, the wheel zooms about the cursor, ticks fall on calendar boundaries, and the page
asks the network for nothing. (tests/test_page_lags.py and tests/test_page_tallies.py
check the other reports' pictures.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser import ATTRS, open_page, report_page
from conftest import run

DAY_MS = 86_400_000


def _lanes(row: dict[str, Any]) -> list[str]:
    if row["kind"] == "incident":
        return [f"incident: {t}" for t in row["category"].split(";")]
    return [f"event: {row['category']}"]


def test_the_timeline_draws_each_row_in_its_lanes_as_an_interval(loaded, tmp_path, browser):
    out = tmp_path / "t.html"
    rows = report_page(loaded, out, "timeline", since="2022-02-14", until="2022-02-16")
    opened = open_page(browser, out)
    pg = opened.page
    marks = pg.locator("svg.chart circle.mark")
    drawn = sorted((m["data-id"], m["data-lane"]) for m in marks.evaluate_all(ATTRS))
    assert drawn == sorted((r["id"], lane) for r in rows for lane in _lanes(r))  # the rows, no more
    assert pg.locator("svg.chart rect.span").count() == marks.count()
    # a day-precision event is a bar one day long on the axis
    lo, hi = (pg.locator("svg.chart").get_attribute(a) for a in ("data-lo", "data-hi"))
    ms_per_unit = (_ms(hi) - _ms(lo)) / (1200 - 170 - 20)
    day = next(r for r in rows if r["time_precision"] == "day")
    width = float(pg.locator(f'svg.chart rect.span[data-id="{day["id"]}"]').first.get_attribute("width"))
    assert width * ms_per_unit == pytest.approx(DAY_MS, rel=0.01)
    # hover: details with sources and evidence; click marks the report's row
    ddos = pg.locator('svg.chart circle.mark[data-lane="incident: ddos"]').first
    ddos.hover()
    tip = pg.locator("#tip").inner_text()
    assert "sources:" in tip and "evidence:" in tip and "cfr" in tip
    ddos.click()
    picked = pg.locator("tr.picked")
    assert picked.count() == 1 and "DDoS on Ukraine" in picked.inner_text()
    assert opened.clean, (opened.requests, opened.errors)


def test_incidents_near_events_joins_each_pair_with_its_lag(loaded, tmp_path, browser):
    out = tmp_path / "n.html"
    rows = report_page(loaded, out, "incidents_near_events", since="2022-02-15", until="2022-02-15", window_hours=24)
    opened = open_page(browser, out)
    pg = opened.page
    pairs = pg.locator("svg.chart path.pair").evaluate_all(
        "ps => ps.map(p => [p.dataset.incident, p.dataset.event, p.dataset.row])"
    )
    assert sorted(pairs) == sorted([r["cluster_id"], r["event_cluster_id"], str(i)] for i, r in enumerate(rows))
    # pairs drawn on one spot with one lag share a label, "+2 h [-10, +14]" and a times sign and 2
    texts = pg.locator("svg.chart text.pair-label").all_text_contents()
    shown = [re.fullmatch(r"(.*?)(?: \u00d7(\d+))?", text) for text in texts]
    labels = [m[1] for m in shown if m for _ in range(int(m[2] or 1))]
    assert len(shown) < len(rows)  # the fixtures put two pairs of one lag on one spot
    assert sorted(labels) == sorted(
        f"{_hours(r['lag_hours'])} h [{_hours(r['lag_min_hours'])}, {_hours(r['lag_max_hours'])}]" for r in rows
    )
    events = {r["event_cluster_id"] for r in rows}
    assert {m["data-id"] for m in pg.locator("svg.chart circle.mark.event").evaluate_all(ATTRS)} == events
    assert opened.clean, (opened.requests, opened.errors)


def test_a_filter_changes_the_picture(loaded, tmp_path, browser):
    every = tmp_path / "all.html"
    report_page(loaded, every, "incidents_near_events", window_hours=72)
    visits = tmp_path / "visits.html"
    rows = report_page(loaded, visits, "incidents_near_events", window_hours=72, event_class="visit")
    marks_all = open_page(browser, every).page.locator("svg.chart circle.mark").evaluate_all(ATTRS)
    lanes_all = {m["data-lane"] for m in marks_all}
    opened = open_page(browser, visits)
    lanes = {m["data-lane"] for m in opened.page.locator("svg.chart circle.mark.event").evaluate_all(ATTRS)}
    assert rows and lanes == {"event: visit"} and len(lanes_all) > len(lanes) + 1
    assert opened.page.locator("svg.chart path.pair").count() == len(rows)


def test_the_wheel_zooms_about_the_point_under_the_cursor(loaded, tmp_path, browser):
    out = tmp_path / "t.html"
    report_page(loaded, out, "timeline", since="2022-01-01", until="2022-02-28")
    opened = open_page(browser, out)
    pg = opened.page
    mark = pg.locator('svg.chart circle.mark[data-lane="incident: ddos"]').first
    box = mark.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = pg.locator("svg.chart").get_attribute("data-lo")
    pg.mouse.move(x, y)
    for _ in range(4):
        pg.mouse.wheel(0, -200)
    assert pg.locator("svg.chart").get_attribute("data-lo") != before  # zoomed in
    after = pg.locator(f'svg.chart circle.mark[data-id="{mark.get_attribute("data-id")}"]').first.bounding_box()
    assert after["x"] + after["width"] / 2 == pytest.approx(x, abs=2)  # the point under the cursor stays put


@pytest.mark.parametrize(
    ("lo", "hi", "label", "boundary"),
    [
        ("2014-01-01", "2022-12-31", r"^\d{4}$", r"-01-01T00:00:00\.000Z$"),  # years
        ("2021-01-01", "2022-12-31", r"^[A-Z][a-z]{2}( \d{4})?$", r"-01T00:00:00\.000Z$"),  # months
        ("2022-02-10", "2022-02-16", r"^\d{1,2} [A-Z][a-z]{2}( \d{4})?$", r"T00:00:00\.000Z$"),  # days
        ("2022-02-15T02:00", "2022-02-15T20:00", r"^(\d{1,2} [A-Z][a-z]{2}( \d{4})? )?\d{2}:00$", r":00:00\.000Z$"),
    ],
)
def test_ticks_fall_on_calendar_boundaries(loaded, tmp_path, browser, lo, hi, label, boundary):
    out = tmp_path / "t.html"
    report_page(loaded, out, "timeline", since="2022-02-15", until="2022-02-15")
    pg = open_page(browser, out).page
    found = pg.evaluate(
        "([lo, hi]) => ticks(Date.parse(lo + 'Z'), Date.parse(hi + 'Z'))"
        ".map(t => [new Date(t.t).toISOString(), t.label])",
        [lo if "T" in lo else lo + "T00:00", hi if "T" in hi else hi + "T00:00"],
    )
    assert 3 <= len(found) <= 9, found
    assert all(re.search(boundary, t) and re.match(label, text) for t, text in found), found
    # the axis drawn is these ticks for its own range
    drawn = pg.locator("svg.chart text.tick").all_text_contents()
    expected = pg.evaluate(
        "(s => ticks(Date.parse(s.dataset.lo), Date.parse(s.dataset.hi)).map(t => t.label))"
        "(document.querySelector('svg.chart'))"
    )
    assert drawn == expected and drawn


def test_stored_text_cannot_break_out_of_the_page(tmp_path, browser):
    csv = tmp_path / "events.csv"
    csv.write_text(
        'ref,occurred_at,title\nx,2022-02-15,"</script><script>window.pwned=1</script><b>bold</b> %DATA%"\n', "utf-8"
    )
    db = tmp_path / "s.duckdb"
    assert run("ingest", csv, "--format", "events_csv", "--db", db).code == 0
    out = tmp_path / "t.html"
    report_page(db, out, "timeline")
    opened = open_page(browser, out)
    assert opened.page.evaluate("window.pwned") is None and opened.clean
    opened.page.locator("svg.chart circle.mark").first.hover()
    tip = opened.page.locator("#tip").inner_text()
    assert "</script>" in tip and "%DATA%" in tip  # shown as text, never substituted


def test_a_report_without_a_picture_says_so(loaded, tmp_path, browser):
    out = tmp_path / "h.html"
    rows = report_page(loaded, out, "ingest_health")
    opened = open_page(browser, out)
    assert "this report draws no picture" in opened.page.locator(".note").inner_text()
    assert opened.page.locator("table tbody tr").count() == len(rows) and opened.clean


def _hours(value: float | None) -> str:
    """A lag as the page writes it: signed, at most one decimal; "?" when not known."""
    if value is None:
        return "?"
    text = f"{round(value, 1):g}"
    return f"+{text}" if value > 0 else text


def _ms(iso: str | None) -> float:
    from datetime import datetime

    assert iso is not None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def test_pair_labels_never_overlap(loaded, tmp_path, browser):
    out = tmp_path / "n.html"
    report_page(loaded, out, "incidents_near_events", since="2022-02-15", until="2022-02-15", window_hours=24)
    boxes = (
        open_page(browser, out)
        .page.locator("svg.chart text.pair-label")
        .evaluate_all("ts => ts.map(t => { const b = t.getBBox(); return [b.x, b.y, b.width, b.height]; })")
    )
    assert len(boxes) > 3
    overlapping = [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
    ]
    assert overlapping == []
