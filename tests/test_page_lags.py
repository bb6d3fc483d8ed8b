"""The statistical reports' pages opened in a real headless Chromium: `lag_profile`,
`event_study` and `attribution_lag` draw their own rows (one mark per row, its values the
row's), a param changes the picture, hover and click lead to the row, and the page asks the
network for nothing and throws no script error."""

from __future__ import annotations

from typing import Any

import pytest
from browser import ATTRS, open_page, report_page


def _attrs(pg: Any, selector: str) -> list[dict[str, str]]:
    return pg.locator(selector).evaluate_all(ATTRS)


def _value(text: str) -> float | None:
    return None if text == "" else float(text)


def test_lag_profile_draws_a_bar_per_lag_against_its_baseline(loaded, tmp_path, browser):
    out = tmp_path / "lp.html"
    rows = report_page(loaded, out, "lag_profile", event_class="military")
    opened = open_page(browser, out)
    pg = opened.page
    bars = _attrs(pg, "svg.chart rect.bar")
    assert [(int(b["data-lag"]), int(b["data-observed"]), b["data-row"]) for b in bars] == [
        (r["lag"], r["observed"], str(i)) for i, r in enumerate(rows)
    ]
    for b, r in zip(bars, rows, strict=True):
        assert _value(b["data-expected"]) == pytest.approx(r["expected"])
        assert ("significant" in b["class"].split()) == (r["p_adjusted"] is not None and r["p_adjusted"] <= 0.05)
        assert ("underpowered" in b["class"].split()) == ("cannot reach 0.05" in (r["note"] or ""))
    assert pg.locator("svg.chart rect.band").count() == len(rows)  # the chance band at every lag
    assert pg.locator("svg.chart line.expected").count() == len(rows)
    assert pg.locator("svg.chart line.zero").count() == 1  # lag 0
    ticks = pg.locator("svg.chart text.tick").all_text_contents()
    assert "0" in ticks and "+7" in ticks and "-7" in ticks
    assert "lag in days" in " ".join(pg.locator("svg.chart text.axis-label").all_text_contents())
    direction = pg.locator("svg.chart text.direction")
    assert float(direction.get_attribute("data-direction")) == rows[0]["direction"]
    assert "direction" in direction.text_content() and str(rows[0]["events"]) in direction.text_content()
    # the busiest lag: hover tells its numbers, a click marks its row
    busiest = max(range(len(rows)), key=lambda i: rows[i]["observed"])
    bar = pg.locator(f'svg.chart rect.bar[data-row="{busiest}"]')
    bar.hover()
    assert f"{rows[busiest]['observed']} attacks observed" in pg.locator("#tip").inner_text()
    bar.click()
    assert pg.locator("tr.picked").get_attribute("id") == f"row-{busiest}"
    assert opened.clean, (opened.requests, opened.errors)


def test_lag_profile_follows_its_event_class(loaded, tmp_path, browser):
    military, visit = tmp_path / "m.html", tmp_path / "v.html"
    rows_m = report_page(loaded, military, "lag_profile", event_class="military", k=5)
    rows_v = report_page(loaded, visit, "lag_profile", event_class="visit", k=5)
    drawn = {}
    for out in (military, visit):
        opened = open_page(browser, out)
        drawn[out] = [int(b["data-observed"]) for b in _attrs(opened.page, "svg.chart rect.bar")]
        assert opened.clean, (opened.requests, opened.errors)
    assert drawn[military] == [r["observed"] for r in rows_m]
    assert drawn[visit] == [r["observed"] for r in rows_v]
    assert drawn[military] != drawn[visit]


def test_lag_profile_without_a_baseline_says_so(loaded, tmp_path, browser):
    out = tmp_path / "lp.html"
    rows = report_page(loaded, out, "lag_profile", k=3, since="2021-06-01", until="2021-06-30")
    opened = open_page(browser, out)
    pg = opened.page
    assert pg.locator("svg.chart rect.bar").count() == len(rows) == 7
    assert pg.locator("svg.chart rect.band").count() == 0
    assert "no baseline" in pg.locator("svg.chart text.empty").text_content()
    assert "?" in pg.locator("svg.chart text.direction").text_content()  # direction is NULL
    assert opened.clean, (opened.requests, opened.errors)


def test_lag_profile_in_hours_labels_round_lags(loaded, tmp_path, browser):
    out = tmp_path / "lp.html"
    rows = report_page(loaded, out, "lag_profile", bin="hour", k=24, since="2022-02-01", until="2022-02-28")
    opened = open_page(browser, out)
    pg = opened.page
    assert (
        [int(b["data-lag"]) for b in _attrs(pg, "svg.chart rect.bar")]
        == [r["lag"] for r in rows]
        == list(range(-24, 25))
    )
    ticks = pg.locator("svg.chart text.tick").all_text_contents()
    assert {"-20", "0", "+20"} <= set(ticks) and "+1" not in ticks  # round steps, not 49 crowded labels
    assert "lag in hours" in " ".join(pg.locator("svg.chart text.axis-label").all_text_contents())
    assert opened.clean, (opened.requests, opened.errors)


def test_event_study_by_day_is_a_small_chart_per_class(loaded, tmp_path, browser):
    out = tmp_path / "es.html"
    rows = report_page(loaded, out, "event_study", group="day")
    opened = open_page(browser, out)
    pg = opened.page
    classes = list(dict.fromkeys(r["event_class"] for r in rows))
    assert [c["data-class"] for c in _attrs(pg, "svg.chart.small")] == classes
    bars = _attrs(pg, "svg.chart.small rect.bar")
    assert [(b["data-class"], int(b["data-day"]), _value(b["data-abnormal"]), b["data-row"]) for b in bars] == [
        (r["event_class"], r["day_offset"], r["abnormal"], str(i)) for i, r in enumerate(rows)
    ]
    bands = pg.locator("svg.chart.small rect.band").count()
    assert bands == sum(r["band_low"] is not None for r in rows)
    assert pg.locator("svg.chart.small line.zero").count() == len(classes)  # the event's day in each
    for c in classes:
        chart = pg.locator(f'svg.chart.small[data-class="{c}"]')
        assert chart.locator("text.title-label").text_content() == c
        assert chart.locator("text.tick").count() > 10
    assert opened.clean, (opened.requests, opened.errors)


def test_event_study_follows_its_event_class(loaded, tmp_path, browser):
    every, talks = tmp_path / "all.html", tmp_path / "talks.html"
    report_page(loaded, every, "event_study", group="day")
    rows = report_page(loaded, talks, "event_study", group="day", event_class="talks")
    assert len(_attrs(open_page(browser, every).page, "svg.chart.small")) > 2
    opened = open_page(browser, talks)
    pg = opened.page
    assert [c["data-class"] for c in _attrs(pg, "svg.chart.small")] == ["talks"]
    bars = _attrs(pg, "svg.chart.small rect.bar")
    assert [(b["data-class"], int(b["data-day"]), _value(b["data-abnormal"])) for b in bars] == [
        ("talks", r["day_offset"], r["abnormal"]) for r in rows
    ]
    assert opened.clean, (opened.requests, opened.errors)


def test_event_study_by_class_is_a_bar_per_class(loaded, tmp_path, browser):
    out = tmp_path / "es.html"
    rows = report_page(loaded, out, "event_study")
    opened = open_page(browser, out)
    pg = opened.page
    bars = _attrs(pg, "svg.chart rect.bar")
    assert [(b["data-class"], _value(b["data-abnormal"])) for b in bars] == [
        (r["event_class"], r["abnormal"]) for r in rows
    ]
    untested = sum(r["abnormal"] is None for r in rows)
    said = pg.locator("svg.chart text").all_text_contents()
    assert untested and said.count("no test") == untested  # NULLs said, not drawn as zero
    assert pg.locator("svg.chart rect.bar.unknown").count() == untested
    assert opened.clean, (opened.requests, opened.errors)


def test_event_study_by_event_is_a_row_per_event(loaded, tmp_path, browser):
    out = tmp_path / "es.html"
    rows = report_page(loaded, out, "event_study", group="event", event_class="military")
    opened = open_page(browser, out)
    pg = opened.page
    bars = _attrs(pg, "svg.chart rect.bar")
    assert [(b["data-event"], _value(b["data-abnormal"])) for b in bars] == [
        (r["event_id"], r["abnormal"]) for r in rows
    ]
    provisional = [("provisional" in b["class"].split()) for b in bars]
    assert provisional == [bool(r["provisional"]) for r in rows] and any(provisional)
    labels = pg.locator("svg.chart text.lane").all_text_contents()
    assert [t[:10] for t in labels] == [str(r["event_day"]) for r in rows]
    last = pg.locator(f'svg.chart rect.bar[data-row="{len(rows) - 1}"]')
    last.hover()
    assert rows[-1]["event"][:30] in pg.locator("#tip").inner_text()
    assert opened.clean, (opened.requests, opened.errors)


def test_attribution_lag_marks_each_attribution_in_its_party_lane(loaded, tmp_path, browser):
    out = tmp_path / "al.html"
    rows = report_page(loaded, out, "attribution_lag")
    opened = open_page(browser, out)
    pg = opened.page
    marks = _attrs(pg, "svg.chart .mark")
    assert sorted(int(m["data-row"]) for m in marks) == list(range(len(rows)))
    for m in marks:
        r = rows[int(m["data-row"])]
        assert (_value(m["data-days"]), _value(m["data-min"]), _value(m["data-max"])) == (
            r["lag_days"],
            r["lag_min_days"],
            r["lag_max_days"],
        )
        assert m["data-party"] == r["attributed_by"] and m["data-cluster"] == r["cluster_id"]
    # one lane per party, each mark inside its own party's lane
    parties = [g["data-party"] for g in _attrs(pg, "svg.chart g.party")]
    assert sorted(parties) == sorted({r["attributed_by"] for r in rows})
    for k, party in enumerate(parties):
        inside = pg.locator("svg.chart g.party").nth(k)
        assert {m["data-party"] for m in inside.locator(".mark").evaluate_all(ATTRS)} == {party}
    # a row dated `by` has no lag: a triangle at its latest, "≤" in its label
    by = [m for m in marks if m["data-dated"] == "by"]
    assert by and all(m["data-days"] == "" for m in by)
    assert pg.locator("svg.chart path.mark.by").count() == len(by)
    assert any(t.startswith("≤") for t in pg.locator("svg.chart text.pair-label").all_text_contents())
    # intervals where the row has bounds, the axis labelled, lag 0 marked
    assert pg.locator("svg.chart rect.interval").count() == sum(r["lag_max_days"] is not None for r in rows)
    assert pg.locator("svg.chart line.zero").count() == 1
    assert {"0", "1 d", "1 wk", "1 y"} <= set(pg.locator("svg.chart text.tick").all_text_contents())
    assert "days from the attack" in pg.locator("svg.chart text.axis-label").first.text_content()
    mark = pg.locator('svg.chart circle.mark[data-row="0"], svg.chart path.mark[data-row="0"]')
    mark.hover()
    assert rows[0]["title"][:30] in pg.locator("#tip").inner_text()
    mark.click()
    assert pg.locator("tr.picked").get_attribute("id") == "row-0"
    assert opened.clean, (opened.requests, opened.errors)


def test_attribution_lag_follows_its_params(loaded, tmp_path, browser):
    every, gru, events = tmp_path / "all.html", tmp_path / "gru.html", tmp_path / "ev.html"
    rows_all = report_page(loaded, every, "attribution_lag")
    rows_gru = report_page(loaded, gru, "attribution_lag", actor="GRU")
    rows_events = report_page(loaded, events, "attribution_lag", events="true")
    assert len(rows_gru) < len(rows_all) < len(rows_events)
    for out, rows in ((every, rows_all), (gru, rows_gru), (events, rows_events)):
        opened = open_page(browser, out)
        assert opened.page.locator("svg.chart .mark").count() == len(rows)
        assert opened.clean, (opened.requests, opened.errors)
    pg = open_page(browser, events).page
    from_events = sum(r["basis"] == "attribution event" for r in rows_events)
    assert from_events and pg.locator("svg.chart .mark.from-event").count() == from_events


def test_no_rows_draws_no_chart_and_says_so(loaded, tmp_path, browser):
    out = tmp_path / "none.html"
    rows = report_page(loaded, out, "attribution_lag", actor="nobody at all")
    opened = open_page(browser, out)
    assert rows == [] and opened.page.locator("svg.chart").count() == 0
    assert "no rows to draw" in opened.page.locator(".note").inner_text()
    assert opened.clean, (opened.requests, opened.errors)
