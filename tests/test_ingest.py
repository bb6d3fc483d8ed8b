"""Ingest end to end: real files, a real DuckDB store, the real CLI."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import (
    CURATED_INCIDENTS,
    FIXTURE_EVENTS,
    FIXTURE_FILES,
    FIXTURE_INCIDENTS,
    FIXTURES,
    GOLDEN,
    check_golden,
    rows,
    run,
    scalar,
    to_csv,
)

from ingest import formats

GOOD_INCIDENTS = FIXTURES / "incidents_csv" / "good" / "ukraine-2022.csv"
GOOD_EVENTS = FIXTURES / "events_csv" / "good" / "ukraine-2022.csv"
BAD_FILES = sorted(p for fmt in formats.names() for p in (FIXTURES / fmt / "bad").glob("*") if p.is_file())


def test_every_format_has_good_and_bad_fixtures():
    for name in formats.names():
        assert list((FIXTURES / name / "good").glob("*")), f"{name} has no good fixture"
        assert list((FIXTURES / name / "bad").glob("*")), f"{name} has no bad fixture"


def test_nightly_loads_fixtures_then_loads_nothing(db):
    first = run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db)
    assert first.code == 0, first.err
    assert scalar(db, "SELECT count(*) FROM incidents") == FIXTURE_INCIDENTS
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == FIXTURE_EVENTS
    second = run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db, "--json")
    assert second.code == 0, second.err
    summary = json.loads(second.out)
    assert (summary["files_skipped"], summary["inserted"], summary["updated"]) == (FIXTURE_FILES, 0, 0)
    assert scalar(db, "SELECT count(*) FROM incidents") == FIXTURE_INCIDENTS
    assert rows(db, "SELECT command, exit_code, files_loaded, files_skipped FROM ingest_runs ORDER BY started_at") == [
        ("nightly", 0, FIXTURE_FILES, 0),
        ("nightly", 0, 0, FIXTURE_FILES),
    ]


def test_every_row_points_back_to_its_run_and_file(fixture_store):
    orphans = scalar(
        fixture_store,
        """SELECT count(*) FROM (
             SELECT run_id, file_id FROM incidents UNION ALL SELECT run_id, file_id FROM diplomatic_events
             UNION ALL SELECT run_id, file_id FROM incident_targets
             UNION ALL SELECT run_id, file_id FROM incident_actors
             UNION ALL SELECT run_id, file_id FROM alerts
           ) r ANTI JOIN ingest_files f USING (run_id, file_id) WHERE NOT starts_with(file_id, 'bursts:')""",
    )
    assert orphans == 0
    # incidents derived from bursts of alerts come from a run, not a file: they say which
    derived = rows(
        fixture_store,
        """SELECT count(*), count(*) FILTER (WHERE file_id = 'bursts:' || run_id
                                             AND run_id IN (SELECT run_id FROM ingest_runs))
           FROM incidents WHERE source = 'derived'""",
    )
    assert derived == [(3, 3)]
    assert rows(fixture_store, "SELECT line FROM incidents WHERE source_ref = '2022-02-15-ddos-mod-banks'") == [(5,)]


def test_the_15_feb_ddos_is_stored_in_utc_with_targets_and_actors(fixture_store):
    (incident,) = rows(
        fixture_store,
        """SELECT strftime(started_at, '%Y-%m-%dT%H:%MZ'), time_precision, attack_types, target_orgs,
                  target_sectors, target_countries, actors
           FROM v_incidents WHERE source_ref = '2022-02-15-ddos-mod-banks'""",
    )
    assert incident[:3] == ("2022-02-15T13:00Z", "hour", ["ddos"])
    assert incident[3] == ["Ministry of Defence of Ukraine", "Armed Forces of Ukraine", "PrivatBank", "Oschadbank"]
    assert incident[4:] == (["finance", "military"], ["UKR"], ["GRU"])


def test_same_bytes_under_another_name_are_skipped(db, tmp_path):
    copy = tmp_path / "copy.csv"
    shutil.copy(GOOD_INCIDENTS, copy)
    assert run("ingest", GOOD_INCIDENTS, "--db", db).code == 0
    again = run("ingest", copy, "--db", db, "--json")
    assert again.code == 0
    assert json.loads(again.out)["files"][0]["status"] == "skipped"
    assert scalar(db, "SELECT count(*) FROM ingest_files") == 1


def test_changed_record_is_updated_in_place(db, tmp_path):
    assert run("ingest", GOOD_INCIDENTS, "--db", db).code == 0
    first_loaded = scalar(db, "SELECT first_loaded_at FROM incidents WHERE source_ref = '2022-02-15-ddos-mod-banks'")
    edited = tmp_path / "edited.csv"
    text = GOOD_INCIDENTS.read_text("utf-8")
    assert text.count("PrivatBank;Oschadbank") == 1
    edited.write_text(text.replace("PrivatBank;Oschadbank", "PrivatBank;Oschadbank JSC"), "utf-8")
    result = run("ingest", edited, "--db", db, "--json")
    assert result.code == 0, result.err
    counts = json.loads(result.out)
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 1, 8)
    incident_id, loaded_first, file_id = rows(
        db, "SELECT incident_id, first_loaded_at, file_id FROM incidents WHERE source_ref = '2022-02-15-ddos-mod-banks'"
    )[0]
    assert loaded_first == first_loaded
    assert rows(
        db, "SELECT organisation FROM incident_targets WHERE incident_id = $i ORDER BY position", {"i": incident_id}
    )[-1] == ("Oschadbank JSC",)
    assert file_id == json.loads(result.out)["files"][0]["file_id"]
    assert scalar(db, "SELECT count(*) FROM incidents") == CURATED_INCIDENTS


def test_ids_are_stable_across_stores(tmp_path):
    ids = []
    for name in ("a.duckdb", "b.duckdb"):
        assert run("ingest", GOOD_EVENTS, "--db", tmp_path / name).code == 0
        ids.append(rows(tmp_path / name, "SELECT event_id FROM diplomatic_events ORDER BY event_id"))
    assert ids[0] == ids[1]
    assert all(str(i[0]).startswith("evt_") for i in ids[0])


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_bad_fixture_rejects(db, request, path):
    """Each bad fixture: its rejects (line, field, reason) and how many good rows still load."""
    fmt = path.parent.parent.name
    result = run("ingest", path, "--format", fmt, "--db", db, "--json")
    summary = json.loads(result.out)
    file = summary["files"][0]
    rejects = rows(
        db, "SELECT coalesce(line::VARCHAR, pointer) AS at, field, reason FROM rejects ORDER BY line, pointer"
    )
    table = {"incident": "incidents", "event": "diplomatic_events", "alert": "alerts", "claim": "claim_targets"}[
        formats.get(fmt).kind
    ]
    loaded = scalar(db, f"SELECT count(*) FROM {table}")
    text = f"# exit {result.code}; status {file['status']}; loaded {loaded}; error {file['error']}\n"
    golden = GOLDEN / "rejects" / fmt / f"{path.stem}.csv"
    check_golden(request, golden, text + to_csv(["at", "field", "reason"], rejects))
    assert result.code == (3 if rejects or file["status"] == "failed" else 0)


def test_bad_records_never_block_good_ones(db):
    result = run("ingest", FIXTURES / "incidents_csv" / "bad" / "broken_quoting.csv", "--db", db)
    assert result.code == 3
    assert "broken_quoting.csv:3: (record): malformed CSV" in result.err
    assert scalar(db, "SELECT count(*) FROM incidents") == 3


def test_naive_times_load_when_the_source_declares_its_zone(db):
    path = FIXTURES / "incidents_csv" / "bad" / "naive_time.csv"
    result = run("ingest", path, "--timezone", "Europe/Kyiv", "--db", db)
    assert result.code == 0, result.err
    assert (
        scalar(db, "SELECT strftime(started_at, '%H:%M') FROM incidents WHERE source_ref = 'bad-naive-ddos-mod-banks'")
        == "15:00"
    )


def test_an_unreadable_file_is_recorded_and_the_run_goes_on(db, tmp_path):
    missing = tmp_path / "missing.csv"
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes\n", "utf-8")
    result = run("ingest", missing, notes, GOOD_EVENTS, "--db", db)
    assert result.code == 3
    assert f"failed {missing}: cannot read the file: No such file or directory" in result.err
    assert (
        f"failed {notes}: cannot tell the file's format (no format recognises it): use --format, "
        f"one of {', '.join(formats.names())}" in result.err
    )
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 20
    assert rows(db, "SELECT status, count(*) FROM ingest_files GROUP BY status ORDER BY status") == [
        ("failed", 2),
        ("loaded", 1),
    ]
    # a failed file is tried again on the next run, a loaded one is not
    again = run("ingest", notes, GOOD_EVENTS, "--db", db, "--json")
    assert [f["status"] for f in json.loads(again.out)["files"]] == ["failed", "skipped"]


def test_a_file_that_cannot_be_decoded_is_recorded_and_the_run_goes_on(db, tmp_path):
    broken = tmp_path / "events-utf16.csv"
    good = GOOD_EVENTS.read_text("utf-8").splitlines(keepends=True)[:2]
    broken.write_bytes(b"\xff\xfe" + "".join(good).encode("utf-16-le") + b"x")  # ends in half a character
    result = run("ingest", broken, GOOD_EVENTS, "--format", "events_csv", "--db", db)
    assert result.code == 3 and "Traceback" not in result.err
    assert f"failed {broken}: cannot decode the file as utf-16-le: truncated data" in result.err
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 20


def test_max_rejects_tolerates_known_bad_rows(db):
    path = FIXTURES / "incidents_csv" / "bad" / "unknown_sector.csv"
    assert run("ingest", path, "--db", db, "--max-rejects", "1").code == 0
    assert scalar(db, "SELECT count(*) FROM rejects") == 1


def test_duplicate_ref_in_one_file_keeps_the_first(db, tmp_path):
    lines = GOOD_EVENTS.read_text("utf-8").splitlines(keepends=True)
    path = tmp_path / "dup.csv"
    path.write_text("".join([*lines[:3], lines[2].replace("Geneva", "Genf")]), "utf-8")
    assert run("ingest", path, "--db", db).code == 3
    assert rows(db, "SELECT line, field, reason, raw FROM rejects") == [
        (
            4,
            "ref",
            'duplicate ref "2022-01-12-nato-russia-council" in this file: the record on line 3 is kept',
            lines[2].replace("Geneva", "Genf"),
        )
    ]
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 2


def test_latin1_bytes_are_rejected_with_the_fix_and_load_with_encoding(tmp_path):
    header = GOOD_EVENTS.read_text("utf-8").splitlines()[0]
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{header}\nx-1,2022-02-15,,Réunion à Genève,talks,,,,,\n".encode("latin-1"))
    bad = run("ingest", path, "--db", tmp_path / "a.duckdb")
    assert bad.code == 3
    assert "bytes that are not valid utf-8: pass --encoding (e.g. --encoding cp1252)" in bad.err
    good = run("ingest", path, "--encoding", "latin-1", "--db", tmp_path / "b.duckdb")
    assert good.code == 0, good.err
    assert scalar(tmp_path / "b.duckdb", "SELECT title FROM diplomatic_events") == "Réunion à Genève"


def test_unknown_columns_fail_the_file_with_the_expected_list(db, tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("ref,occurred_at,title,mood\nx,2022-02-15,t,calm\n", "utf-8")
    result = run("ingest", path, "--format", "events_csv", "--db", db)
    assert result.code == 3
    assert "unknown column(s) mood; expected columns: actor_countries, cameo_code," in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "stix3"],
            "cyberlog: error: unknown format 'stix3' (did you mean 'stix'?): "
            f"use one of {', '.join(formats.names())}\n",
        ),
        (
            ["--timezone", "Mars/Olympus"],
            "cyberlog: error: unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Kyiv\n",
        ),
        (["--encoding", "klingon"], "cyberlog: error: unknown encoding 'klingon'\n"),
    ],
)
def test_usage_errors_exit_2(db, args, message):
    result = run("ingest", GOOD_EVENTS, *args, "--db", db)
    assert (result.code, result.err) == (2, message)


def test_blank_cells_take_the_documented_defaults(db, tmp_path):
    header = GOOD_INCIDENTS.read_text("utf-8").splitlines()[0]
    path = tmp_path / "defaults.csv"
    path.write_text(f"{header}\nd-1,Defaults,,ddos,2022-02-15,,,,,,,,,GRU,,CERT-UA,,\n", "utf-8")
    result = run("ingest", path, "--db", db)
    assert result.code == 0, result.err
    assert rows(db, "SELECT evidence, severity, time_precision FROM incidents") == [("reported", None, "day")]
    assert rows(db, "SELECT actor, role, attributed_by FROM incident_actors") == [("GRU", "attributed", "CERT-UA")]


def test_a_blank_required_cell_is_named(db, tmp_path):
    header = GOOD_INCIDENTS.read_text("utf-8").splitlines()[0]
    path = tmp_path / "blank.csv"
    path.write_text(f"{header}\nb-1,  ,,ddos,,,,,,,,,,,,,,\n", "utf-8")
    assert run("ingest", path, "--db", db).code == 3
    assert rows(db, "SELECT line, field, reason, errors::VARCHAR FROM rejects") == [
        (
            2,
            "title",
            "required, but blank",
            '[{"field": "title", "reason": "required, but blank"}, '
            '{"field": "started_at", "reason": "required, but blank"}]',
        )
    ]


def test_a_loaded_file_is_skipped_from_another_working_directory(db, tmp_path, monkeypatch):
    assert run("ingest", GOOD_EVENTS, "--db", db).code == 0
    monkeypatch.chdir(GOOD_EVENTS.parent)
    again = run("ingest", GOOD_EVENTS.name, "--format", "events_csv", "--db", db, "--json")
    assert json.loads(again.out)["files"][0]["status"] == "skipped"
    assert rows(db, "SELECT path FROM ingest_files") == [(str(GOOD_EVENTS),)]


def test_one_row_per_source_and_ref_without_an_index(loaded, tmp_path):
    """The big tables carry no unique index (it would slow bulk loads); the merge keeps
    them unique through repeated, changed and renamed inputs."""
    changed = tmp_path / "events.csv"
    changed.write_text(GOOD_EVENTS.read_text("utf-8").replace("Brussels", "Bruxelles"), "utf-8")
    for path in (changed, changed, GOOD_EVENTS):
        assert run("ingest", path, "--source", "curated-events", "--db", loaded).code == 0
    for table, key in (("incidents", "incident_id"), ("diplomatic_events", "event_id")):
        assert (
            rows(loaded, f"SELECT count(*), count(DISTINCT {key}), count(DISTINCT (source, source_ref)) FROM {table}")[
                0
            ]
            == (scalar(loaded, f"SELECT count(*) FROM {table}"),) * 3
        )
