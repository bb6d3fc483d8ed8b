"""The tallies' pages (`report run NAME --format html`) opened in a real headless Chromium:
targets_by_period draws a heat map cell per sector and period of its rows with the number of
attacks it counts, attack_bursts a chart per burst with its alerts per minute and the derived
incident as a band; a filter changes the picture, hover and click show a mark's rows, and
the page asks the network for nothing and raises no script error."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
from browser import ATTRS, open_page, report_page

from ingest.reports import export


def _cells(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, str]]:
    """What each heat-map cell should say: (sector, period) -> (attacks once each, its rows)."""
    clusters: dict[tuple[str, str], set[str]] = defaultdict(set)
    behind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for i, r in enumerate(rows):
        key = (r["sector"] or "", r["period"])
        clusters[key].update(r["cluster_ids"])
        behind[key].append(str(i))
    return {k: (len(v), " ".join(behind[k])) for k, v in clusters.items()}


def _drawn_cells(pg: Any) -> dict[tuple[str, str], tuple[int, str]]:
    marks = pg.locator("svg.chart rect.cell").evaluate_all(ATTRS)
    return {(m["data-sector"], m["data-period"]): (int(m["data-count"]), m["data-row"]) for m in marks}


def test_the_heat_map_draws_a_cell_per_sector_and_period_of_the_rows(loaded, tmp_path, browser):
    out = tmp_path / "t.html"
    rows = report_page(loaded, out, "targets_by_period", period="month")
    opened = open_page(browser, out)
    pg = opened.page
    assert rows and _drawn_cells(pg) == _cells(rows)
    # the count is written in its cell, sectors down the side, periods along the bottom in order
    written = pg.locator("svg.chart text.count").all_text_contents()[: len(_cells(rows))]
    assert written == [m["data-count"] for m in pg.locator("svg.chart rect.cell").evaluate_all(ATTRS)]
    assert pg.locator("svg.chart text.period").all_text_contents() == sorted({r["period"] for r in rows})
    assert {t for t in pg.locator("svg.chart text.lane").all_text_contents()} == {r["sector"] for r in rows}
    # the colour scale goes up to the largest cell
    scale = [int(v) for v in pg.locator("svg.chart rect.scale").evaluate_all("s => s.map(r => r.dataset.count)")]
    assert scale[0] == 1 and scale[-1] == max(c for c, _ in _cells(rows).values())
    # hover: the cell's countries and attack types; click marks its rows
    government = pg.locator('svg.chart rect.cell[data-sector="government"][data-period="2022-02"]')
    government.hover()
    tip = pg.locator("#tip").inner_text()
    assert "government · 2022-02" in tip and "UKR: " in tip and "ddos" in tip
    government.click()
    expected = [r for r in rows if (r["sector"], r["period"]) == ("government", "2022-02")]
    assert pg.locator("tr.picked").count() == len(expected) > 0
    assert opened.clean, (opened.requests, opened.errors)


def test_a_filter_changes_the_heat_map(loaded, tmp_path, browser):
    every, germany, weeks = tmp_path / "all.html", tmp_path / "deu.html", tmp_path / "weeks.html"
    report_page(loaded, every, "targets_by_period")
    rows = report_page(loaded, germany, "targets_by_period", country="DEU")
    by_week = report_page(loaded, weeks, "targets_by_period", period="week")
    all_cells = _drawn_cells(open_page(browser, every).page)
    opened = open_page(browser, germany)
    cells = _drawn_cells(opened.page)
    assert rows and cells == _cells(rows) and len(cells) < len(all_cells)
    assert {s for s, _ in cells} == {r["sector"] for r in rows}
    opened_weeks = open_page(browser, weeks)
    assert _drawn_cells(opened_weeks.page) == _cells(by_week)
    periods = opened_weeks.page.locator("svg.chart text.period").all_text_contents()
    assert (
        periods[-1] == "(spans periods)"
        and periods[:-1] == sorted(periods[:-1])
        and len(periods) > len({r["period"] for r in by_week})
    )  # the empty weeks between are columns too
    assert opened.clean and opened_weeks.clean, (opened.errors, opened_weeks.errors)


def _ms(value: datetime | str) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.timestamp() * 1000


def test_each_burst_draws_its_alerts_per_minute_and_the_incident_as_a_band(loaded, tmp_path, browser):
    out = tmp_path / "b.html"
    rows = report_page(loaded, out, "attack_bursts", since="2022-02-15", until="2022-02-15")
    opened = open_page(browser, out)
    pg = opened.page
    charts = pg.locator("svg.chart.bursts")
    assert len(rows) == 3 and charts.count() == len(rows)
    for i, r in enumerate(rows):
        svg = charts.nth(i)
        assert svg.get_attribute("data-incident") == r["incident_id"]
        band = svg.locator("rect.band.burst")
        assert band.count() == 1 and band.get_attribute("data-row") == str(i)
        assert (band.get_attribute("data-t0"), band.get_attribute("data-t1")) == (
            export.text(r["first_alert"]),
            export.text(r["last_alert"]),
        )
        bars = svg.locator("rect.minute").evaluate_all(ATTRS)
        assert bars and {b["data-row"] for b in bars} == {str(i)}
        first = _ms(r["first_alert"]) // 60_000 * 60_000
        inside = [b for b in bars if first <= _ms(b["data-minute"]) <= _ms(r["last_alert"])]
        assert sum(int(b["data-alerts"]) for b in inside) == r["alerts"]
        peak = max(bars, key=lambda b: int(b["data-count"]))
        assert int(peak["data-count"]) == r["peak_per_minute"]
        assert _ms(peak["data-minute"]) == _ms(r["peak_minute"])
        # the band lies over the bars of the burst on the axis
        box, low = band.bounding_box(), svg.locator("rect.minute").first.bounding_box()
        assert box is not None and low is not None and box["x"] <= low["x"] + 1
    # hover: the burst's details; click marks its row
    bar = charts.nth(0).locator("rect.minute.hot").first
    bar.hover()
    assert "alerts" in pg.locator("#tip").inner_text() and rows[0]["target"] in pg.locator("#tip").inner_text()
    bar.click()
    assert pg.locator("tr.picked").count() == 1 and rows[0]["target"] in pg.locator("tr.picked").inner_text()
    # the wheel zooms the burst's axis
    before = charts.nth(0).get_attribute("data-lo")
    box = charts.nth(0).bounding_box()
    assert box is not None
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.mouse.wheel(0, -200)
    assert charts.nth(0).get_attribute("data-lo") != before
    assert opened.clean, (opened.requests, opened.errors)


def test_a_filter_changes_the_bursts(loaded, tmp_path, browser):
    one, none = tmp_path / "one.html", tmp_path / "none.html"
    rows = report_page(loaded, one, "attack_bursts", since="2022-02-15", until="2022-02-15")
    assert len(rows) == 3
    gone = report_page(loaded, none, "attack_bursts", since="2022-03-01")
    opened = open_page(browser, none)
    assert gone == [] and opened.page.locator("svg.chart").count() == 0
    assert "no rows to draw" in opened.page.locator(".note").inner_text()
    assert opened.clean, (opened.requests, opened.errors)


@pytest.mark.parametrize(("name", "given"), [("targets_by_period", {"sector": "finance", "until": "2021-01-01"})])
def test_an_empty_heat_map_says_so(loaded, tmp_path, browser, name, given):
    out = tmp_path / "e.html"
    assert report_page(loaded, out, name, **given) == []
    opened = open_page(browser, out)
    assert opened.page.locator("svg.chart").count() == 0  # no empty frame either
    assert "no rows to draw" in opened.page.locator(".note").inner_text()
    assert opened.clean, (opened.requests, opened.errors)
