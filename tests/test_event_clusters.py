"""Event identity: one real-world event that several event feeds (or several rows of one)
record is one event cluster, with a ledger and undo like incident clusters."""

from __future__ import annotations

import json

import pytest
from conftest import rows, run, scalar

HEADER = "ref,occurred_at,time_precision,title,event_class,cameo_code,actor_countries,location,url,description\n"


def _load(db, tmp_path, source: str, *lines: str) -> None:
    path = tmp_path / f"{source}.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines), "utf-8")
    result = run("ingest", path, "--format", "events_csv", "--source", source, "--db", db)
    assert result.code == 0, result.err


def _clusters(db) -> list[tuple[object, ...]]:
    return rows(db, "SELECT records, sources FROM v_event_clusters ORDER BY cluster_id")


def test_the_scholz_putin_meeting_is_one_event(fixture_store):
    found = rows(
        fixture_store,
        """SELECT records, sources, title FROM v_event_clusters
           WHERE cluster_id = (SELECT cluster_id FROM v_events WHERE source_ref = '2022-02-15-scholz-putin-moscow')""",
    )
    assert found == [(5, ["curated-events", "gdelt", "icews"], "Chancellor Scholz meets Putin in Moscow")]


def test_nato_commenting_on_russia_is_not_the_dumas_appeal(fixture_store):
    # GDELT codes both on 15 Feb as statements with Russia the only country; NATO has none
    (duma,) = rows(
        fixture_store,
        """SELECT list_sort(list(title)) FROM v_events WHERE cluster_id =
           (SELECT cluster_id FROM v_events WHERE source_ref = '2022-02-15-duma-appeal-recognition')""",
    )
    assert len(duma[0]) == 2
    assert not any("NATO" in title for title in duma[0])


@pytest.mark.parametrize(
    ("line_a", "line_b", "joined"),
    [
        # one meeting, the actor countries in another order and another CAMEO code of the class
        (
            "r,2022-02-15,,Scholz meets Putin,visit,042,DEU;RUS,,,",
            "r,2022-02-15,,Putin hosts Scholz,visit,043,RUS;DEU,,,",
            True,
        ),
        # trap: two meetings on one day with different partners
        (
            "r,2022-02-15,,Scholz meets Putin,visit,042,DEU;RUS,,,",
            "r,2022-02-15,,Macron meets Putin,visit,042,FRA;RUS,,,",
            False,
        ),
        # trap: the same pair, one day, a visit and a sanction
        (
            "r,2022-02-22,,UK sanctions banks,sanction,163,GBR;RUS,,,",
            "r,2022-02-22,,UK envoy visits,visit,042,GBR;RUS,,,",
            False,
        ),
        # trap: the same pair meeting again a week later
        ("r,2022-02-15,,Talks,talks,046,USA;RUS,,,", "r,2022-02-22,,Talks,talks,046,USA;RUS,,,", False),
        # an actor-less record joins by the report it cites, the same day and class
        (
            "r,2022-02-15,,NATO: no de-escalation,statement,010,,,https://www.nato.int/cps/en/opinions_192.htm,",
            "r,2022-02-15,,NATO comments on Russia,statement,012,RUS,,http://nato.int/cps/en/opinions_192.htm?utm_source=x,",
            True,
        ),
        # trap: no actor countries and no URL: nothing says which event it is
        ("r,2022-02-15,,A statement,statement,010,,,,", "r,2022-02-15,,Another statement,statement,010,,,,", False),
        # trap: known only to a month
        ("r,2022-02,month,Talks,talks,046,USA;RUS,,,", "r,2022-02-15,,Talks,talks,046,USA;RUS,,,", False),
    ],
)
def test_the_event_rule(db, tmp_path, line_a, line_b, joined):
    _load(db, tmp_path, "a", line_a)
    _load(db, tmp_path, "b", line_b)
    assert scalar(db, "SELECT count(*) FROM v_event_clusters") == (1 if joined else 2)


def test_rows_of_one_feed_are_one_event_too(db, tmp_path):
    _load(
        db,
        tmp_path,
        "a",
        "r1,2022-02-15,,Scholz visits,visit,042,DEU;RUS,,,",
        "r2,2022-02-15,,Putin hosts,visit,043,DEU;RUS,,,",
    )
    assert _clusters(db) == [(2, ["a"])]


def test_undoing_the_first_record_leaves_the_others_together(db, tmp_path):
    _load(db, tmp_path, "a", "r,2022-02-15,,Scholz meets Putin,visit,042,DEU;RUS,,,")
    _load(
        db,
        tmp_path,
        "b",
        "r1,2022-02-15,,Putin hosts Scholz,visit,043,DEU;RUS,,,",
        "r2,2022-02-15,,Scholz visits Moscow,visit,042,DEU;RUS,,,",
    )
    assert _clusters(db) == [(3, ["a", "b"])]
    (first,) = rows(db, "SELECT event_id FROM diplomatic_events WHERE source = 'a'")
    assert run("clusters", "undo", str(first[0]), "--db", db).code == 0
    assert sorted(_clusters(db)) == [(1, ["a"]), (2, ["b"])]


def test_undo_takes_a_record_out_for_good_and_merge_joins_by_hand(db, tmp_path):
    _load(db, tmp_path, "a", "r,2022-02-15,,Scholz meets Putin,visit,042,DEU;RUS,,,")
    _load(db, tmp_path, "b", "r,2022-02-15,,Putin hosts Scholz,visit,043,DEU;RUS,,,")
    first, second = (str(r[0]) for r in rows(db, "SELECT event_id FROM diplomatic_events ORDER BY source"))
    result = run("clusters", "undo", second, "--note", "a second meeting", "--db", db)
    assert result.code == 0, result.err
    assert scalar(db, "SELECT count(*) FROM v_event_clusters") == 2
    _load(db, tmp_path, "b", "r,2022-02-15,,Putin hosts Scholz (updated),visit,043,DEU;RUS,,,")
    assert scalar(db, "SELECT count(*) FROM v_event_clusters") == 2, "the rule never redoes an undo"
    assert run("clusters", "merge", first, second, "--db", db).code == 0
    assert _clusters(db) == [(2, ["a", "b"])]
    # the ledger keeps what was decided by hand; the rule's links follow from the records
    assert rows(db, "SELECT decision, rule, note FROM event_links ORDER BY seq") == [
        ("undone", "by hand", "a second meeting"),
        ("merged", "by hand", None),
    ]
    assert run("clusters", "merge", first, "inc_0000", "--db", db).code == 2


def test_an_event_moved_to_another_day_leaves_its_cluster(db, tmp_path):
    _load(db, tmp_path, "a", "r,2022-02-15,,Scholz meets Putin,visit,042,DEU;RUS,,,")
    _load(db, tmp_path, "b", "r,2022-02-15,,Putin hosts Scholz,visit,043,DEU;RUS,,,")
    assert scalar(db, "SELECT count(*) FROM v_event_clusters") == 1
    path = tmp_path / "b.csv"
    path.write_text(HEADER + "r,2022-02-25,,Putin hosts Scholz,visit,043,DEU;RUS,,,\n", "utf-8")
    result = run("ingest", path, "--format", "events_csv", "--source", "b", "--db", db, "--json")
    assert json.loads(result.out)["event_identity"] == {"matched": 0, "stale": 2, "clusters": 0}  # both records
    assert scalar(db, "SELECT count(*) FROM v_event_clusters") == 2


def test_every_file_of_a_run_is_worked_when_the_run_loads_several(db, tmp_path):
    # identity finds a run's records by when their files began to load (each record is
    # stamped with its ledger row's started_at): the first file's days count as much as the last's
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(
        HEADER + "r1,2022-02-15,,Scholz visits,visit,042,DEU;RUS,,,\nr2,2022-02-15,,Putin hosts,visit,043,DEU;RUS,,,\n",
        "utf-8",
    )
    second.write_text(HEADER + "r3,2022-03-20,,Talks,talks,046,USA;CHN,,,\n", "utf-8")
    result = run("ingest", first, second, "--format", "events_csv", "--source", "a", "--db", db)
    assert result.code == 0, result.err
    assert sorted(_clusters(db)) == [(1, ["a"]), (2, ["a"])]  # the first file's meeting is one event
    assert (
        scalar(
            db,
            "SELECT count(*) FROM diplomatic_events e JOIN ingest_files f USING (file_id) "
            "WHERE e.loaded_at <> f.started_at OR e.first_loaded_at <> f.started_at",
        )
        == 0
    )


def test_an_event_moved_whole_keeps_its_records_and_is_found_on_its_new_day(db, tmp_path):
    # each event_clusters row holds its record's day, which identity reads the touched days
    # by: a record that moves day keeps its event and its row follows it, so a third record
    # on the new day finds the event there, and no record is listed twice
    _load(db, tmp_path, "a", "r,2022-02-15,,Scholz meets Putin,visit,042,DEU;RUS,,,")
    _load(db, tmp_path, "b", "r,2022-02-15,,Putin hosts Scholz,visit,043,DEU;RUS,,,")
    _load(db, tmp_path, "a", "r,2022-02-25,,Scholz meets Putin,visit,042,DEU;RUS,,,")
    _load(db, tmp_path, "b", "r,2022-02-25,,Putin hosts Scholz,visit,043,DEU;RUS,,,")
    _load(db, tmp_path, "c", "r,2022-02-25,,Scholz in Moscow,visit,042,DEU;RUS,,,")
    assert _clusters(db) == [(3, ["a", "b", "c"])]
    assert scalar(db, "SELECT count(*) - count(DISTINCT event_id) FROM event_clusters") == 0
    assert (
        scalar(
            db,
            "SELECT count(*) FROM event_clusters c JOIN diplomatic_events e USING (event_id) "
            "WHERE c.day IS DISTINCT FROM middle_day(e.occurred_at, e.occurred_latest)",
        )
        == 0
    )


def test_clusters_list_and_show_for_events(fixture_store):
    result = run("clusters", "list", "--events", "--db", fixture_store, "--format", "json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    assert listed and all(row["records"] > 1 for row in listed)
    assert "events only one record describes" in result.err
    shown = run("clusters", "show", listed[0]["cluster_id"], "--db", fixture_store)
    assert shown.code == 0, shown.err
    assert "decisions of" in shown.out and "evt_" in shown.out
    assert run("clusters", "show", "ecl_nope", "--db", fixture_store).code == 2


def test_events_near_the_15_feb_ddos_are_listed_once_each(fixture_store):
    result = run(
        "report",
        "run",
        "incidents_near_events",
        "-p",
        "country=UA",
        "-p",
        "window_hours=24",
        "-p",
        "since=2022-02-15",
        "-p",
        "until=2022-02-15",
        "--db",
        fixture_store,
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert len({r["event_cluster_id"] for r in found}) == len(found) == 8
    meeting = [r for r in found if r["event"] == "Chancellor Scholz meets Putin in Moscow"]
    assert [(r["event_source"], r["event_records"]) for r in meeting] == [("curated-events;gdelt;icews", 5)]
    nato = [r for r in found if r["event"].startswith("NATO")]
    assert [(r["event_source"], r["event_records"]) for r in nato] == [("curated-events;gdelt", 2)]


def test_event_study_rows_per_event_are_event_clusters(fixture_store):
    result = run("report", "run", "event_study", "-p", "group=event", "--db", fixture_store, "--format", "json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert found and len({r["event_cluster_id"] for r in found}) == len(found)
    assert any(r["event_records"] > 1 for r in found)
    timeline = json.loads(
        run("report", "run", "timeline", "-p", "kind=event", "--db", fixture_store, "--format", "json").out
    )
    assert len(timeline) == scalar(fixture_store, "SELECT count(*) FROM v_event_clusters")
