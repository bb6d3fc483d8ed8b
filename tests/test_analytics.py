"""The correlation reports are honest: planted effects show, chance does not.

Each test writes a synthetic feed by hand (seeded, so every run sees the same data),
ingests it through the real command into a DuckDB file, runs a report and reads its
JSON. Background attacks fall at random; where a test plants attacks at a fixed lag
after events, the report must find that lag and no other; where it plants nothing, the
baseline must say so.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import run

START = date(2020, 1, 1)
DAYS = 731  # 2020 and 2021
INCIDENT_HEADER = ["ref", "title", "attack_types", "started_at", "time_precision", "target_country"]
EVENT_HEADER = ["ref", "occurred_at", "time_precision", "title", "event_class", "actor_countries"]


def _write(path: Path, header: list[str], records: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(records)
    return path


def _store(folder: Path, incidents: list[list[str]], events: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.duckdb"
    inc = _write(folder / "incidents.csv", INCIDENT_HEADER, incidents)
    evt = _write(folder / "events.csv", EVENT_HEADER, events)
    for path, source in ((inc, "synthetic-incidents"), (evt, "synthetic-events")):
        result = run("ingest", path, "--source", source, "--db", db)
        assert result.code == 0, result.err
    return db


def _report(db: Path, name: str, **params: object) -> list[dict[str, Any]]:
    pairs = [arg for key, value in params.items() for arg in ("-p", f"{key}={value}")]
    result = run("report", "run", name, *pairs, "--format", "json", "--db", db)
    assert result.code == 0, result.err
    return list(json.loads(result.out))


def _attack(n: int, at: datetime, precision: str = "hour", country: str = "UKR") -> list[str]:
    return [f"a{n}", f"Synthetic attack {n}", "ddos", at.isoformat(), precision, country]


def _event(n: int, day: date, event_class: str = "sanction") -> list[str]:
    return [f"e{n}", day.isoformat(), "day", f"Synthetic {event_class} {n}", event_class, "USA;RUS"]


def _world(plant_lag: int | None, *, seed: int = 7, per_event: int = 3) -> tuple[list[list[str]], list[list[str]]]:
    """Background attacks at random hours on about 60% of days, 40 sanction event days,
    and `per_event` attacks planted `plant_lag` days after each event day (None: none)."""
    rng = random.Random(seed)
    incidents: list[list[str]] = []
    for day in range(DAYS):
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            at = datetime.combine(START + timedelta(days=day), datetime.min.time(), UTC)
            incidents.append(_attack(len(incidents), at + timedelta(hours=rng.randrange(24))))
    event_days = sorted(random.Random(seed + 1000).sample(range(10, DAYS - 10), 40))
    events = [_event(n, START + timedelta(days=day)) for n, day in enumerate(event_days)]
    if plant_lag is not None:
        for day in event_days:
            for _ in range(per_event):
                at = datetime.combine(START + timedelta(days=day + plant_lag), datetime.min.time(), UTC)
                incidents.append(_attack(len(incidents), at + timedelta(hours=rng.randrange(24))))
    return incidents, events


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _store(tmp_path_factory.mktemp("planted"), *_world(plant_lag=2))


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _store(tmp_path_factory.mktemp("unplanted"), *_world(plant_lag=None))


def test_lag_profile_finds_attacks_planted_two_days_after_events(planted):
    profile = {row["lag"]: row for row in _report(planted, "lag_profile", event_class="sanction")}
    assert sorted(profile) == list(range(-7, 8))
    hit = profile[2]
    assert hit["observed"] >= 120 and hit["ratio"] > 2 and hit["p_value"] <= 0.002, hit
    assert hit["percentile"] > 0.99 and hit["event_bins"] == 40
    for lag, row in profile.items():
        if lag != 2:
            assert row["ratio"] < 1.6 and row["p_value"] > 0.005, row


def test_lag_profile_of_unrelated_series_is_not_significant(unplanted):
    profile = _report(unplanted, "lag_profile", event_class="sanction")
    assert len(profile) == 15 and {r["shifts"] for r in profile} == {2000} and {r["tests"] for r in profile} == {15}
    assert all(0.6 < row["ratio"] < 1.5 and row["ratio_low"] <= row["ratio"] <= row["ratio_high"] for row in profile)
    assert min(row["p_value"] for row in profile) > 0.01, profile
    assert min(row["p_adjusted"] for row in profile) == 1.0 and not any(row["note"] for row in profile)


@pytest.mark.slow  # many seeded worlds (and tests/test_calibration.py, slow too)
def test_p_values_of_unrelated_series_are_calibrated(tmp_path):
    """Over many worlds with no link, a p-value below 0.05 comes about one time in twenty.

    This is what a baseline built from the data's own events (placebo days, say, that
    exclude every event window) gets wrong when events are dense: the quiet days left over
    make any event look busy.
    """
    study, lags = [], []
    for seed in range(8):
        db = _store(tmp_path / str(seed), *_world(plant_lag=None, seed=100 + seed))
        (row,) = _report(db, "event_study", event_class="sanction")
        study.append(row["p_value"])
        lags += [r["p_value"] for r in _report(db, "lag_profile", event_class="sanction", k=3)]
    assert sum(p < 0.05 for p in study) <= 2 and min(study) > 0.005, study
    assert sum(p < 0.05 for p in lags) <= 6 and min(lags) > 0.001, lags  # 56 lags: ~3 expected below 0.05


def test_lag_profile_baseline_is_reproducible_and_moves_with_the_seed(planted):
    first = _report(planted, "lag_profile", event_class="sanction", seed=1, permutations=200)
    again = _report(planted, "lag_profile", event_class="sanction", seed=1, permutations=200)
    other = _report(planted, "lag_profile", event_class="sanction", seed=2, permutations=200)
    assert first == again and {r["shifts"] for r in first} == {200}
    assert [r["observed"] for r in first] == [r["observed"] for r in other]
    assert [r["expected"] for r in first] != [r["expected"] for r in other]


def test_lag_profile_evidence_lists_the_attacks_behind_the_count(planted):
    (row,) = [r for r in _report(planted, "lag_profile", event_class="sanction") if r["lag"] == 2]
    assert row["distinct_attacks"] <= row["observed"] and len(row["cluster_ids"]) == min(100, row["distinct_attacks"])
    capped = next(r for r in _report(planted, "lag_profile", event_class="sanction", max_ids=5) if r["lag"] == 2)
    assert len(capped["cluster_ids"]) == 5 and capped["cluster_ids"] == row["cluster_ids"][:5]
    titles = run(
        "query",
        "SELECT count(*) FROM v_attacks WHERE list_contains($ids, cluster_id)".replace(
            "$ids", "[" + ",".join(f"'{c}'" for c in capped["cluster_ids"]) + "]"
        ),
        "--format",
        "csv",
        "--db",
        planted,
    )
    assert titles.out.splitlines()[1] == "5"


def test_event_study_sees_the_planted_post_window_and_not_chance(planted, unplanted):
    (hit,) = _report(planted, "event_study", event_class="sanction")
    assert hit["event_days"] == 40 and hit["ratio"] >= 1.25 and hit["ratio_low"] > 1 and hit["p_adjusted"] <= 0.01, hit
    assert hit["baseline_size"] == 2000 and hit["tests"] == 1
    (null,) = _report(unplanted, "event_study", event_class="sanction")
    assert 0.7 < null["ratio"] < 1.3 and null["p_value"] > 0.05, null


def test_event_study_marks_windows_past_the_newest_attack_provisional(tmp_path):
    incidents, events = _world(plant_lag=None, seed=3)
    last = START + timedelta(days=DAYS - 1)
    events.append(_event(99, last - timedelta(days=2)))  # its 7-day window runs past the data
    db = _store(tmp_path, incidents, events)
    rows = _report(db, "event_study", event_class="sanction", group="event")
    late = [r for r in rows if r["event_id"] and r["event_day"] == (last - timedelta(days=2)).isoformat()]
    assert [r["provisional"] for r in late] == [True]
    assert sum(not r["provisional"] for r in rows) == 40
    (cls,) = _report(db, "event_study", event_class="sanction")
    assert (cls["event_days"], cls["provisional_days"]) == (40, 1)


def test_day_boundaries_follow_the_time_zone(tmp_path):
    """23:30 UTC on 31 January is already 1 February in Kyiv: the zone moves the attack
    across a day and a month boundary, in every report that bins by day or month."""
    attack = _attack(1, datetime(2022, 1, 31, 23, 30, tzinfo=UTC), "minute")
    filler = [_attack(n, datetime(2022, 1, 1, tzinfo=UTC) + timedelta(days=n), "hour") for n in range(2, 60, 7)]
    db = _store(tmp_path, [attack, *filler], [_event(1, date(2022, 2, 1))])

    target = "clu_" + _incident_suffix(db, "a1")

    def period_of(tz: str) -> set[str]:
        rows = _report(db, "targets_by_period", tz=tz, since="2022-01-31", until="2022-02-01")
        return {r["period"] for r in rows if target in r["cluster_ids"]}

    assert period_of("UTC") == {"2022-01"}
    assert period_of("Europe/Kyiv") == {"2022-02"}
    assert period_of("America/New_York") == {"2022-01"}

    def lag_of_attack(tz: str) -> list[int]:
        rows = _report(db, "lag_profile", event_class="sanction", tz=tz, k=2, permutations=10)
        return [r["lag"] for r in rows if target in r["cluster_ids"]]

    assert lag_of_attack("UTC") == [-1]
    assert lag_of_attack("Europe/Kyiv") == [0]


def _incident_suffix(db: Path, ref: str) -> str:
    result = run(
        "query", f"SELECT incident_id FROM incidents WHERE source_ref = '{ref}'", "--format", "csv", "--db", db
    )
    return result.out.splitlines()[1].removeprefix("inc_")


def test_records_known_only_to_a_month_are_left_out_of_day_statistics(tmp_path):
    incidents, events = _world(plant_lag=2, seed=5)
    db = _store(tmp_path, incidents, events)
    before = {r["lag"]: r["observed"] for r in _report(db, "lag_profile", event_class="sanction")}
    vague = [_attack(9000 + n, datetime(2020, 6, 1, tzinfo=UTC), "month") for n in range(50)]
    db2 = _store(tmp_path / "more", incidents + vague, events)
    after = {r["lag"]: r["observed"] for r in _report(db2, "lag_profile", event_class="sanction")}
    assert after == before
    (row,) = [
        r
        for r in _report(db2, "targets_by_period", period="week", since="2020-06-01", until="2020-06-30")
        if r["period"] == "(spans periods)"
    ]
    assert row["attacks"] == 50


def test_ingest_health_counts_what_each_run_rejected_and_skipped(tmp_path):
    incidents, events = _world(plant_lag=None, seed=11)
    db = _store(tmp_path, incidents[:20], events[:5])
    bad = _write(
        tmp_path / "bad.csv",
        INCIDENT_HEADER,
        [
            _attack(1000, datetime(2021, 3, 1, tzinfo=UTC)),
            ["a1001", "No time", "ddos", "", "hour", "UKR"],
            ["a1002", "Bad type", "ddos", "yesterday", "hour", "UKR"],
        ],
    )
    assert run("ingest", bad, "--source", "synthetic-incidents", "--db", db).code == 3  # rejects: exit 3, good row kept
    assert run("ingest", bad, "--source", "synthetic-incidents", "--db", db).code == 0  # skipped: seen
    failing = tmp_path / "events-broken.csv"
    failing.write_bytes(b"\xff\xfe not a csv at all")
    assert run("ingest", failing, "--source", "synthetic-events", "--format", "events_csv", "--db", db).code != 0
    rows = {(r["source"], r["kind"]): r for r in _report(db, "ingest_health")}
    health = rows[("synthetic-incidents", "incidents")]
    assert (health["records"], health["runs"], health["rejected"]) == (21, 3, 2), health
    assert (health["files_loaded"], health["files_skipped"], health["files_failed"]) == (2, 1, 0), health
    assert health["last_clean_run"] is not None and health["newest_data"].startswith("2021-03-01")
    events_health = rows[("synthetic-events", "diplomatic events")]
    assert (events_health["records"], events_health["files_failed"]) == (5, 1), events_health
    assert events_health["last_run"] > events_health["last_clean_run"]


def test_incidents_near_events_says_possible_when_a_day_cannot_be_placed_in_the_window(tmp_path):
    """An attack known only to the day, 6 hours either side of an event at noon: maybe inside."""
    exact = _attack(1, datetime(2022, 2, 15, 14, 0, tzinfo=UTC), "minute")
    vague = _attack(2, datetime(2022, 2, 15, tzinfo=UTC), "day")
    event = ["e1", "2022-02-15T12:00:00Z", "hour", "Pullback announced", "military", "RUS"]
    db = _store(tmp_path, [exact, vague], [event])
    pairs = {r["incident"]: r for r in _report(db, "incidents_near_events", window_hours=6)}
    assert pairs["Synthetic attack 1"]["within"] == "certain"
    assert pairs["Synthetic attack 1"]["lag_hours"] == pytest.approx(1.5)  # event hour midpoint 12:30
    assert pairs["Synthetic attack 2"]["within"] == "possible"
    assert pairs["Synthetic attack 2"]["lag_min_hours"] < -6 < 6 < pairs["Synthetic attack 2"]["lag_max_hours"]


def test_attribution_lag_of_the_15_feb_ddos_to_the_gru(fixture_store):
    """The UK named the GRU for the 15 Feb DDoS on 18 Feb: 2.8 days from the attack's
    midpoint (14:00-15:00 UTC) to the middle of the day of the statement."""
    rows = _report(fixture_store, "attribution_lag", country="UKR")
    ddos = [r for r in rows if r["cluster_id"] == "clu_873475f23227ac6c9358" and r["actor"] == "GRU"]
    uk = next(r for r in ddos if r["attributed_by"].startswith("United Kingdom") and r["dated"] == "on")
    assert uk["basis"] == "actor record" and uk["lag_days"] == pytest.approx(2.8, abs=0.05)
    assert uk["lag_min_days"] <= uk["lag_days"] <= uk["lag_max_days"] and uk["note"] is None
    # the curated date is the 18th; the STIX bundle wrote the same link down at 16:00 that day,
    # so the statement came before 16:00: the day's interval ends there (midpoint 08:00)
    assert uk["lag_max_days"] == 3.1 and not [r for r in ddos if r["dated"] == "by"]
    # a MISP galaxy attribution is dated only by the event's publication: attributed by then, never a lag
    written = [r for r in _report(fixture_store, "attribution_lag") if r["dated"] == "by"]
    assert written and all(r["lag_days"] is None and r["lag_min_days"] is None for r in written)
    assert all(r["note"].startswith("attributed by this date") for r in written)
    assert "inc_873475f23227ac6c9358" in uk["evidence_ids"]
    assert not [r for r in rows if r["basis"] == "attribution event"]  # events link only when asked
    linked = _report(fixture_store, "attribution_lag", country="UKR", events="true")
    assert [r for r in linked if r["basis"] == "attribution event" and r["candidates"] >= 1]


def test_event_rows_compare_each_event_with_event_free_placebo_days(tmp_path):
    """Per event: the same-weekday days within four weeks (block_weeks) whose whole -3..+6
    window lies in the span and holds no event of the class."""
    incidents, events = _world(plant_lag=None, seed=21)
    events = events[:12]  # sparse, so event-free windows exist
    db = _store(tmp_path, incidents, events)
    event_days = {date.fromisoformat(e[1]) for e in events}

    def placebo(day: date, first: date, last: date) -> int:
        count = 0
        for weeks in range(-4, 5):
            other = day + timedelta(weeks=weeks)
            window = {other + timedelta(days=d) for d in range(-3, 7)}
            count += first <= other <= last and not event_days & window
        return count

    rows = [r for r in _report(db, "event_study", event_class="sanction", group="event") if not r["provisional"]]
    assert len(rows) == 12
    for row in rows:
        first, last = date.fromisoformat(row["span_from"]), date.fromisoformat(row["span_to"])
        assert row["baseline_size"] == placebo(date.fromisoformat(row["event_day"]), first, last), row
        assert row["min_p"] == round(1 / (1 + row["baseline_size"]), 4) and row["tests"] == 12
        assert row["p_value"] is None or (0 < row["p_value"] <= row["p_adjusted"] <= 1 and 0 <= row["percentile"] <= 1)
        assert row["note"] is not None  # a dozen placebo days at most: no event row can reach 0.05
        assert len(row["post_cluster_ids"] or []) == min(25, row["post"])


def test_an_attribution_dated_before_the_attack_is_flagged_not_averaged(tmp_path):
    """An actor inherited through an older link (an intrusion set's parent agency, named
    years before) carries that link's date: as a lag it would be negative, which is impossible."""
    header = [*INCIDENT_HEADER, "actor", "actor_role", "attributed_by", "attributed_at"]
    rows = [
        [*_attack(1, datetime(2022, 4, 8, 6, 0, tzinfo=UTC)), "GRU", "attributed", "ESET", "2016-06-15"],
        [*_attack(2, datetime(2022, 2, 15, 13, 0, tzinfo=UTC)), "GRU", "attributed", "ESET", "2022-02-18"],
    ]
    db = tmp_path / "store.duckdb"
    assert run("ingest", _write(tmp_path / "i.csv", header, rows), "--source", "s", "--db", db).code == 0
    found = {r["title"]: r for r in _report(db, "attribution_lag")}
    early = found["Synthetic attack 1"]
    assert early["lag_max_days"] < 0 and early["note"].startswith("attributed 2016-06-15, before the attack began")
    later = found["Synthetic attack 2"]
    assert later["note"] is None and later["party_attacks"] == 1  # the impossible lag is not in the figures
    assert later["party_median_days"] == later["lag_days"] == pytest.approx(2.9, abs=0.05)
