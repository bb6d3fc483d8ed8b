"""The statistical reports' picture builders (no browser): what `lag_profile`, `event_study` and
`attribution_lag` hand their drawers is the report's own rows, one mark per row, with NULLs
kept as NULLs, and a note when there is nothing to draw. (tests/test_page_lags.py opens the
pages in Chromium.)"""

from __future__ import annotations

import pytest
from stores import drawn as picture_of

from ingest.reports import catalog, results
from ingest.reports.pictures import Drawing, drawn, lags, picture, script, style


def test_the_three_reports_have_a_picture_and_a_drawer():
    assert {"lag_profile", "event_study", "attribution_lag"} <= set(drawn())
    for kind in ("lag_profile", "event_study", "attribution_lag"):
        assert "const picture" in script(kind) and "hover(" in script(kind)
        assert style(kind)  # each adds its classes to the page's


def test_lag_profile_draws_one_bar_per_lag_with_its_baseline(fixture_store):
    built, rows = picture_of(fixture_store, "lag_profile", event_class="military")
    assert built.kind == "lag_profile" and built.notes == []
    marks = built.data["lags"]
    assert [(m["lag"], m["observed"], m["expected"], m["row"]) for m in marks] == [
        (r["lag"], r["observed"], r["expected"], i) for i, r in enumerate(rows)
    ]
    assert sum(m["observed"] for m in marks) > 0 and any(m["lag"] == 0 for m in marks)
    for m, r in zip(marks, rows, strict=True):
        assert m["significant"] == (r["p_adjusted"] is not None and r["p_adjusted"] <= 0.05)
        assert m["underpowered"] == ("cannot reach 0.05" in (r["note"] or ""))
        assert m["low"] <= m["expected"] <= m["high"]
        assert m["high"] - m["expected"] == pytest.approx(1.96 * r["sd"])
    assert built.data["direction"] == rows[0]["direction"] and built.data["direction_p"] == rows[0]["direction_p"]
    assert built.data["bin"] == "day" and built.data["event_class"] == "military"


def test_lag_profile_without_a_baseline_keeps_its_nulls(fixture_store):
    built, rows = picture_of(fixture_store, "lag_profile", k=3, since="2021-06-01", until="2021-06-30")
    assert len(built.data["lags"]) == len(rows) == 7
    assert all(m["expected"] is None and m["low"] is None and m["high"] is None for m in built.data["lags"])
    assert built.data["direction"] is None


@pytest.mark.parametrize("group", ["class", "day", "event"])
def test_event_study_draws_each_row_once_in_its_class(fixture_store, group):
    built, rows = picture_of(fixture_store, "event_study", group=group)
    assert built.kind == "event_study" and built.data["group"] == group and built.notes == []
    classes = built.data["classes"]
    assert [c["event_class"] for c in classes] == list(dict.fromkeys(r["event_class"] for r in rows))
    items = [(c["event_class"], i) for c in classes for i in c["items"]]
    assert [i["row"] for _, i in items] == list(range(len(rows)))
    for (name, item), r in zip(items, rows, strict=True):
        assert name == r["event_class"] and item["abnormal"] == r["abnormal"]
        assert item["significant"] == (r["p_adjusted"] is not None and r["p_adjusted"] <= 0.05)
    if group == "day":
        assert [i["day"] for _, i in items] == [r["day_offset"] for r in rows]
        bands = [(i["band_low"], i["band_high"]) for _, i in items]
        assert bands == [(r["band_low"], r["band_high"]) for r in rows]
    if group == "event":
        assert [i["event_id"] for _, i in items] == [r["event_id"] for r in rows]
        assert any(i["provisional"] for _, i in items) and not all(i["provisional"] for _, i in items)
    if group == "class":  # classes without a test keep their NULLs
        assert any(i["abnormal"] is None for _, i in items)


def test_event_study_per_event_is_capped_with_a_note(fixture_store, monkeypatch):
    monkeypatch.setattr(lags, "MAX_EVENTS", 3)
    built, rows = picture_of(fixture_store, "event_study", group="event")
    assert len(rows) > 3
    assert sum(len(c["items"]) for c in built.data["classes"]) == 3
    assert built.notes and f"first 3 of {len(rows)}" in built.notes[0]


def test_a_class_filter_changes_the_event_study(fixture_store):
    built, rows = picture_of(fixture_store, "event_study", group="day", event_class="talks")
    assert [c["event_class"] for c in built.data["classes"]] == ["talks"]
    assert len(built.data["classes"][0]["items"]) == len(rows) == 10


def test_attribution_lag_draws_one_mark_per_row_in_its_party_lane(fixture_store):
    built, rows = picture_of(fixture_store, "attribution_lag")
    marks = built.data["marks"]
    assert [(m["row"], m["lag"], m["min"], m["max"], m["party"]) for m in marks] == [
        (i, r["lag_days"], r["lag_min_days"], r["lag_max_days"], r["attributed_by"]) for i, r in enumerate(rows)
    ]
    lanes = built.data["lanes"]
    assert sorted(r for lane in lanes for r in lane["rows"]) == list(range(len(rows)))  # each row in one lane
    assert [lane["party"] for lane in lanes] == list(dict.fromkeys(lane["party"] for lane in lanes))
    for lane in lanes:
        assert {rows[i]["attributed_by"] for i in lane["rows"]} == {lane["party"]}
    dated_by = [m for m in marks if m["dated"] == "by"]
    assert dated_by and all(m["lag"] is None and m["min"] is None and m["max"] is not None for m in dated_by)
    medians = {(m["actor"], m["median"]) for lane in lanes for m in lane["medians"]}
    assert medians == {(r["actor"], r["party_median_days"]) for r in rows if r["party_median_days"] is not None}


def test_attribution_events_add_marks(fixture_store):
    plain, _ = picture_of(fixture_store, "attribution_lag")
    built, rows = picture_of(fixture_store, "attribution_lag", events="true")
    assert len(built.data["marks"]) == len(rows) > len(plain.data["marks"])
    assert any(m["basis"] == "attribution event" for m in built.data["marks"])


@pytest.mark.parametrize("name", ["lag_profile", "event_study", "attribution_lag"])
def test_no_rows_draws_nothing_and_says_so(fixture_store, name):
    report = catalog.get(name)
    columns = {
        "lag_profile": ["lag", "observed"],
        "event_study": ["event_class", "abnormal"],
        "attribution_lag": ["cluster_id", "lag_days"],
    }[name]
    with results.reading(fixture_store) as con:
        built = picture(Drawing(con, name, columns, [], report.bind({})))
    assert built is not None and built.notes and "no rows to draw" in built.notes[0]
    assert not any(v for v in built.data.values() if isinstance(v, list))


def test_an_actor_nobody_named_gives_no_rows_and_a_note(fixture_store):
    built, rows = picture_of(fixture_store, "attribution_lag", actor="nobody at all")
    assert rows == [] and built.data["marks"] == [] and "no rows to draw" in built.notes[0]
