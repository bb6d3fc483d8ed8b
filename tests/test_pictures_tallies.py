"""The tallies' pictures, built without a browser: the heat map of targets_by_period counts
what the report's rows count (each attack once per sector and period), its columns in time
order with the gaps shown; attack_bursts draws one burst per row, its alerts per minute
from the store adding up to the row's alerts and peaking at its peak. (tests/test_page_tallies.py
opens the pages in a browser.)"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from conftest import run
from stores import aggregating_waf
from stores import drawn as picture_of

from ingest.reports import results
from ingest.reports.pictures import Drawing, picture
from ingest.reports.pictures.tallies import NOTHING, _periods


@pytest.mark.parametrize("period", ["month", "week"])
def test_each_cell_counts_the_attacks_of_its_rows_once(fixture_store, period):
    drawn, rows = picture_of(fixture_store, "targets_by_period", period=period)
    assert drawn.kind == "targets_by_period" and rows and drawn.notes == []
    expected: dict[tuple[Any, str], set[str]] = defaultdict(set)
    behind: dict[tuple[Any, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        expected[(r["sector"], r["period"])].update(r["cluster_ids"])
        behind[(r["sector"], r["period"])].append(i)
    cells = {(c["sector"], c["period"]): c for c in drawn.data["cells"]}
    assert {k: c["count"] for k, c in cells.items()} == {k: len(v) for k, v in expected.items()}
    assert {k: c["rows"] for k, c in cells.items()} == behind  # every row in exactly one cell
    assert drawn.data["max"] == max(len(v) for v in expected.values())
    assert [s["key"] for s in drawn.data["sectors"]] == sorted({r["sector"] for r in rows})
    keys = [p["key"] for p in drawn.data["periods"]]
    assert {r["period"] for r in rows} <= set(keys)
    attacks = {r["period"]: r["attacks_in_period"] for r in rows}
    assert all(
        p["attacks"] == attacks.get(p["key"], 0) and p["empty"] == (p["key"] not in attacks)
        for p in drawn.data["periods"]
    )


def test_weeks_come_in_time_order_with_the_gaps_and_the_spanning_attacks_last(fixture_store):
    drawn, rows = picture_of(fixture_store, "targets_by_period", period="week")
    keys = [p["key"] for p in drawn.data["periods"]]
    assert "(spans periods)" in {r["period"] for r in rows} and keys[-1] == "(spans periods)"
    weeks = [datetime.strptime(k + "-1", "%G-W%V-%u") for k in keys[:-1]]
    assert all((b - a).days == 7 for a, b in pairwise(weeks))  # no week left out
    assert any(p["empty"] for p in drawn.data["periods"])  # the fixtures leave some weeks empty


def test_periods_fill_gaps_across_the_new_year():
    assert [p["key"] for p in _periods({"2021-11", "2022-02"})] == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert [p["key"] for p in _periods({"2020-W52", "2021-W02", "(spans periods)"})] == [
        "2020-W52",
        "2020-W53",
        "2021-W01",
        "2021-W02",
        "(spans periods)",
    ]


def test_a_filter_draws_only_its_sector(fixture_store):
    drawn, rows = picture_of(fixture_store, "targets_by_period", sector="finance")
    assert rows and {c["sector"] for c in drawn.data["cells"]} == {"finance"}
    assert [s["key"] for s in drawn.data["sectors"]] == ["finance"]


def test_a_row_without_sector_or_cluster_ids_is_drawn(fixture_store):
    columns = ["period", "sector", "target_country", "attack_type", "attacks", "attacks_in_period", "cluster_ids"]
    rows = [("2022-02", None, None, "ddos", 2, 2, None), ("2022-02", "energy", "DEU", None, 1, 2, ["clu_a"])]
    with results.reading(fixture_store) as con:
        drawn = picture(Drawing(con, "targets_by_period", columns, rows, {"period": "month"}))
    assert drawn is not None
    assert [(c["sector"], c["count"]) for c in drawn.data["cells"]] == [(None, 2), ("energy", 1)]
    assert [s["label"] for s in drawn.data["sectors"]] == ["energy", "(no sector)"]


def test_each_burst_is_drawn_with_its_alerts_per_minute(fixture_store):
    drawn, rows = picture_of(fixture_store, "attack_bursts")
    assert drawn.kind == "attack_bursts" and len(rows) == 3 and drawn.notes == []
    bursts = drawn.data["bursts"]
    assert [(b["row"], b["incident"]) for b in bursts] == [(i, r["incident_id"]) for i, r in enumerate(rows)]
    for b, r in zip(bursts, rows, strict=True):
        assert (b["first"], b["last"], b["alerts"], b["peak"]) == (
            r["first_alert"],
            r["last_alert"],
            r["alerts"],
            r["peak_per_minute"],
        )
        inside = [
            m for m in b["minutes"] if r["first_alert"].replace(second=0, microsecond=0) <= m["t"] <= r["last_alert"]
        ]
        assert sum(m["alerts"] for m in inside) == r["alerts"]  # the rule counts alerts here
        assert b["counts"] == "alerts" and b["threshold"] == 5
        peak = max(b["minutes"], key=lambda m: (m["n"], -m["t"].timestamp()))
        assert (peak["n"], peak["t"]) == (r["peak_per_minute"], r["peak_minute"])
        assert b["lo"] < r["first_alert"] and b["hi"] > r["last_alert"]  # a margin either side


@pytest.mark.parametrize(
    ("name", "given"),
    [("attack_bursts", {"since": "2030-01-01"}), ("targets_by_period", {"sector": "finance", "since": "2030-01-01"})],
)
def test_no_rows_gives_an_empty_picture_that_says_so(fixture_store, name, given):
    drawn, rows = picture_of(fixture_store, name, **given)
    assert rows == [] and drawn.notes == [NOTHING]
    assert all(v == [] for v in drawn.data.values() if isinstance(v, list))


def test_a_burst_the_rule_counted_in_events_is_drawn_in_events(tmp_path):
    """A WAF logging one alert a minute with the requests it stands for in CEF cnt: the rule
    counted events, so the picture does too, and its peak is the row's."""
    aggregating_waf(tmp_path)
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        '[[sources]]\nname = "waf"\nformat = "cef"\npath = "waf/*.cef"\n'
        '[bursts]\nmin_per_minute = 1000\nmin_alerts = 100000\ncount = "events"\n',
        "utf-8",
    )
    db = tmp_path / "s.duckdb"
    assert run("nightly", "--config", config, "--db", db).code == 0
    drawn, rows = picture_of(db, "attack_bursts")
    (burst,) = drawn.data["bursts"]
    assert len(rows) == 1 and burst["counts"] == "events" and burst["threshold"] == 1000
    assert [m["n"] for m in burst["minutes"]] == [180_000 + m for m in range(12)]
    assert {m["alerts"] for m in burst["minutes"]} == {1}
    assert max(m["n"] for m in burst["minutes"]) == rows[0]["peak_per_minute"] == 180_011
