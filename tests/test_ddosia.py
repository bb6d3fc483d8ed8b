"""DDoSia target lists: claimed DDoS, one incident per host and run of consecutive lists."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REALWORLD, rows, run, scalar

from ingest.formats import ddosia

GOOD = FIXTURES / "ddosia" / "good"
BAD = FIXTURES / "ddosia" / "bad"
SEJM_FIRST = "ddosia:www.sejm.gov.pl:2023-06-05T20:15:12Z"


def _incidents(db: Path) -> list[tuple[object, ...]]:
    return rows(
        db,
        """SELECT i.source_ref, strftime(i.started_at, '%Y-%m-%dT%H:%M:%SZ'),
                  strftime(i.ended_at, '%Y-%m-%dT%H:%M:%SZ'), i.evidence, i.attack_types, t.organisation,
                  t.domain, t.country, t.country_raw, a.actor, a.role
           FROM incidents i JOIN incident_targets t USING (incident_id) JOIN incident_actors a USING (incident_id)
           ORDER BY 1""",
    )


def _list(folder: Path, stamp: str, *entries: dict[str, object], targets_null: bool = False) -> Path:
    path = folder / f"{stamp}_DDoSia-target-list-full.json"
    path.write_text(json.dumps({"randoms": [], "targets": None if targets_null else list(entries)}, indent=4))
    return path


def _entry(host: str, request: str, port: int = 443) -> dict[str, object]:
    return {"target_id": "t" + host, "request_id": request, "host": host, "ip": "192.0.2.7", "type": "http",
            "method": "GET", "port": port, "use_ssl": True, "path": "/?q=$_1", "body": {"type": "", "value": ""},
            "headers": None}  # fmt: skip


def test_each_host_is_one_claimed_attack_per_run_of_lists(db):
    result = run("ingest", *sorted(GOOD.glob("*.json")), "--db", db)
    assert result.code == 0, result.err
    assert "claims: 6 new claimed attacks from target lists" in result.err
    assert _incidents(db) == [
        # on the 6 Jun 08:00 list only: the `targets: null` list at 20:00 ended the run
        ("ddosia:adm.dp.gov.ua:2023-06-06T08:00:00Z", "2023-06-06T08:00:00Z", "2023-06-06T08:00:00Z",
         "claimed", ["ddos"], "dp.gov.ua", "adm.dp.gov.ua", "UKR", ".ua", "NoName057(16)", "claimed"),
        ("ddosia:adm.dp.gov.ua:2023-06-07T08:00:00Z", "2023-06-07T08:00:00Z", "2023-06-07T08:00:00Z",
         "claimed", ["ddos"], "dp.gov.ua", "adm.dp.gov.ua", "UKR", ".ua", "NoName057(16)", "claimed"),
        # written MOLDOVA.MD. on the list: a host is lower case, without its trailing dot
        ("ddosia:moldova.md:2023-06-07T08:00:00Z", "2023-06-07T08:00:00Z", "2023-06-07T08:00:00Z",
         "claimed", ["ddos"], "moldova.md", "moldova.md", "MDA", ".md", "NoName057(16)", "claimed"),
        # the day-first name 05-06-2023_20-15-12 is 5 June, never 6 May
        ("ddosia:vseosvita.ua:2023-06-05T20:15:12Z", "2023-06-05T20:15:12Z", "2023-06-06T08:00:00Z",
         "claimed", ["ddos"], "vseosvita.ua", "vseosvita.ua", "UKR", ".ua", "NoName057(16)", "claimed"),
        (SEJM_FIRST, "2023-06-05T20:15:12Z", "2023-06-06T08:00:00Z",
         "claimed", ["ddos"], "sejm.gov.pl", "www.sejm.gov.pl", "POL", ".pl", "NoName057(16)", "claimed"),
        ("ddosia:www.sejm.gov.pl:2023-06-07T08:00:00Z", "2023-06-07T08:00:00Z", "2023-06-07T08:00:00Z",
         "claimed", ["ddos"], "sejm.gov.pl", "www.sejm.gov.pl", "POL", ".pl", "NoName057(16)", "claimed"),
    ]  # fmt: skip
    description = scalar(db, "SELECT description FROM incidents WHERE source_ref = $r", {"r": SEJM_FIRST})
    assert description == (
        "Claimed, not observed: www.sejm.gov.pl is on 2 consecutive target lists of NoName057(16) (DDoSia), "
        "2023-06-05T20:15:12Z to 2023-06-06T08:00:00Z; not on the next list, 2023-06-06T20:00:00Z; "
        "4 requests (http2 GET, tcp syn) on port 443."
    )
    assert rows(
        db, "SELECT strftime(snapshot_at, '%Y-%m-%dT%H:%M'), hosts, requests FROM claim_snapshots ORDER BY 1"
    ) == [
        ("2023-06-05T20:15", 2, 3),
        ("2023-06-06T08:00", 3, 5),
        ("2023-06-06T20:00", 0, 0),
        ("2023-06-07T08:00", 3, 5),
    ]


def test_request_templates_are_never_stored(db):
    assert run("ingest", *sorted(GOOD.glob("*.json")), *sorted(BAD.glob("bad_port*")), "--db", db).code == 3
    stored = rows(db, "SELECT CAST(c AS VARCHAR) FROM (SELECT * FROM claim_targets) c")
    stored += rows(db, "SELECT raw FROM rejects")
    assert stored and not any("SECRETTOKEN" in str(row) or "$_1" in str(row) for row in stored)
    assert "path" not in {column for (column,) in rows(db, "SELECT column_name FROM (DESCRIBE claim_targets)")}


def test_a_new_list_extends_the_claim_in_place_and_a_rerun_changes_nothing(db, tmp_path):
    first = _list(tmp_path, "2024-05-20_07-00-00", _entry("bank.example.md", "r1"))
    assert run("ingest", first, "--db", db).code == 0
    (ref,) = rows(db, "SELECT incident_id FROM incidents")
    later = _list(tmp_path, "2024-05-20_13-00-00", _entry("bank.example.md", "r2"))
    result = run("ingest", later, "--db", db)
    assert "claims: 0 new claimed attacks from target lists, 1 extended, 0 joined to another" in result.err
    assert rows(db, "SELECT incident_id, strftime(ended_at, '%H:%M') FROM incidents") == [(ref[0], "13:00")]
    again = run("ingest", first, later, "--db", db)
    assert "claims:" not in again.err  # nothing new: nothing derived again


def test_a_list_loaded_late_joins_two_runs_into_one(db, tmp_path):
    a = _list(tmp_path, "2024-05-20_07-00-00", _entry("x.example.sk", "r1"))
    b = _list(tmp_path, "2024-05-20_13-00-00", _entry("other.example.sk", "r2"))
    c = _list(tmp_path, "2024-05-20_19-00-00", _entry("x.example.sk", "r3"))
    assert run("ingest", a, b, c, "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source_ref LIKE 'ddosia:x.%'") == 2
    # a second capture of the 13:00 list that names the host too: one attack from 07:00 to 19:00
    again = tmp_path / "late"
    again.mkdir()
    late = _list(again, "2024-05-20_13-00-00", _entry("x.example.sk", "r4"), _entry("other.example.sk", "r2"))
    result = run("ingest", late, "--db", db)
    assert "1 joined to another" in result.err
    assert rows(
        db,
        "SELECT strftime(started_at, '%H:%M'), strftime(ended_at, '%H:%M') FROM incidents "
        "WHERE source_ref LIKE 'ddosia:x.%'",
    ) == [("07:00", "19:00")]


def test_lists_two_days_apart_are_not_consecutive(db, tmp_path):
    a = _list(tmp_path, "2024-05-20_07-00-00", _entry("x.example.sk", "r1"))
    b = _list(tmp_path, "2024-05-23_07-00-00", _entry("x.example.sk", "r2"))
    assert run("ingest", a, b, "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM incidents") == 2
    assert "no list was captured in the 48 hours after it" in str(
        scalar(db, "SELECT description FROM incidents ORDER BY started_at LIMIT 1")
    )


def test_the_same_bytes_captured_again_later_is_a_new_observation(db, tmp_path):
    a = _list(tmp_path, "2024-05-20_07-00-00", _entry("x.example.sk", "r1"))
    b = tmp_path / "2024-05-20_13-00-00_DDoSia-target-list-full.json"
    shutil.copyfile(a, b)
    result = run("ingest", a, b, "--db", db, "--json")
    assert [f["status"] for f in json.loads(result.out)["files"]] == ["loaded", "loaded"]
    assert rows(db, "SELECT strftime(ended_at, '%H:%M') FROM incidents") == [("13:00",)]


def test_bad_entries_are_rejects_with_their_pointer_and_the_rest_loads(db):
    result = run("ingest", BAD / "bad_port_2023-06-08_08-00-00.json", "--db", db, "--json")
    file = json.loads(result.out)["files"][0]
    assert (result.code, file["status"], file["inserted"], file["rejected"]) == (3, "loaded", 1, 2)
    assert rows(db, "SELECT pointer, field, reason FROM rejects ORDER BY pointer") == [
        ("/targets/0", "port", "Input should be a valid integer"),
        ("/targets/2", None, "expected a JSON object, found a string"),
    ]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (
            "no_time_in_name_DDoSia-target-list-full.json",
            "no capture time in the file's name (a DDoSia list states none)",
        ),
        ("month_first_06-13-2023_08-00-00.json", "'06-13-2023_08-00-00' in the file's name is not a date and time"),
        (
            "targets_not_a_list_2023-06-08_09-00-00.json",
            "not a DDoSia target list: 'targets' is an object, not an array",
        ),
    ],
)
def test_a_list_that_cannot_be_read_fails_alone_saying_why(db, name, error):
    result = run("ingest", BAD / name, "--format", "ddosia", "--db", db, "--json")
    file = json.loads(result.out)["files"][0]
    assert (result.code, file["status"]) == (3, "failed")
    assert file["error"].startswith(error), file["error"]


def test_a_claim_and_a_cert_report_of_the_same_ddos_are_one_cluster_and_meet_the_days_events(db, tmp_path):
    """The issue's check: a DDoSia claim and a CERT report of the same DDoS end in one
    cluster, roles kept, and incidents_near_events pairs the claim with that day's events."""
    # the lists up to the 20:00 `targets: null` one: the Sejm's first run of lists alone
    lists = [p for p in sorted(GOOD.glob("*.json")) if not p.name.startswith("2023-06-07")]
    assert run("ingest", *lists, "--db", db).code == 0
    cert = tmp_path / "cert-pl.csv"
    with cert.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["ref", "title", "attack_types", "started_at", "evidence", "target_org", "target_domain",
                         "target_country", "target_sector", "actor", "actor_role"])  # fmt: skip
        writer.writerow(["cert-pl-2023-06-06", "DDoS on the Sejm website", "ddos", "2023-06-06", "reported",
                         "Sejm of the Republic of Poland", "sejm.gov.pl", "POL", "government", "NoName057(16)",
                         "suspected"])  # fmt: skip
    events = tmp_path / "events.csv"
    events.write_text(
        "ref,occurred_at,title,event_class,actor_countries\n"
        "2023-06-06-pl-statement,2023-06-06,Poland summons the Russian ambassador,statement,POL;RUS\n"
    )
    assert run("ingest", cert, "--source", "cert-pl", "--db", db).code == 0
    assert run("ingest", events, "--format", "events_csv", "--db", db).code == 0
    (cluster,) = rows(
        db,
        "SELECT list(source ORDER BY source), list(evidence ORDER BY source) FROM v_incidents "
        "WHERE cluster_id IN (SELECT cluster_id FROM v_incidents WHERE source_ref = $r) GROUP BY cluster_id",
        {"r": SEJM_FIRST},
    )
    assert cluster == (["cert-pl", "ddosia"], ["reported", "claimed"])
    roles = rows(db, "SELECT DISTINCT actor, role FROM incident_actors ORDER BY role")
    assert ("NoName057(16)", "claimed") in roles and ("NoName057(16)", "suspected") in roles
    report = run("report", "run", "incidents_near_events", "-p", "window_hours=24", "-p", "country=POL",
                 "--db", db, "--format", "csv")  # fmt: skip
    assert report.code == 0, report.err
    near = list(csv.DictReader(report.out.splitlines()))
    assert near and all("Poland summons the Russian ambassador" in row["event"] for row in near)
    assert any("ddosia" in row["incident_sources"] for row in near)


def test_the_capture_time_reads_both_name_forms_and_never_month_first():
    assert ddosia.snapshot_time(Path("2024-05-20_07-10-29_DDoSia-target-list-full.json")).isoformat() == (
        "2024-05-20T07:10:29+00:00"
    )
    assert ddosia.snapshot_time(Path("05-06-2023_20-15-12_DDoSia-target-list-full.json.gz")).isoformat() == (
        "2023-06-05T20:15:12+00:00"
    )


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is not beside this checkout")
def test_the_real_lists_give_one_claim_per_host_and_keep_no_template(db):
    lists = sorted((REALWORLD / "ddosia").glob("*.json"))
    assert run("ingest", *lists, "--db", db).code == 0
    # checked against the files with json.load: 80/339/342 entries, 16/26/27 hosts, one null list
    assert rows(db, "SELECT strftime(snapshot_at, '%Y-%m-%d'), hosts, requests FROM claim_snapshots ORDER BY 1") == [
        ("2023-06-05", 16, 80),
        ("2023-10-29", 0, 0),
        ("2024-05-20", 26, 339),
        ("2025-11-05", 27, 342),
    ]
    assert rows(db, "SELECT count(*), count(DISTINCT domain) FROM incident_targets") == [(69, 69)]
    texts = rows(db, "SELECT * FROM claim_targets")
    assert not any("$_" in str(row) or "form_build_id" in str(row) for row in texts)


def test_a_drop_folder_of_daily_lists_is_loaded_as_the_lists_arrive(tmp_path):
    """The tracker's files dropped into a folder: each nightly loads the new lists only,
    and a host still listed extends its claim."""
    drop = tmp_path / "ddosia"
    drop.mkdir()
    (drop / "last.json").write_text('{"targets": [], "randoms": []}')  # the tracker's copy of the newest: not matched
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        '[[sources]]\nname = "ddosia-tracker"\nformat = "ddosia"\npath = "ddosia/*_DDoSia-target-list-full.json*"\n'
    )
    db = tmp_path / "store.duckdb"
    _list(drop, "2024-05-20_07-00-00", _entry("x.example.sk", "r1"))
    first = run("nightly", "--config", config, "--db", db, "--json")
    assert first.code == 0, first.err
    _list(drop, "2024-05-20_13-00-00", _entry("x.example.sk", "r2"))
    second = run("nightly", "--config", config, "--db", db, "--json")
    files = json.loads(second.out)["files"]
    assert [(Path(f["path"]).name[:19], f["status"]) for f in files] == [
        ("2024-05-20_07-00-00", "skipped"),
        ("2024-05-20_13-00-00", "loaded"),
    ]
    assert rows(db, "SELECT source, strftime(started_at, '%H:%M'), strftime(ended_at, '%H:%M') FROM incidents") == [
        ("ddosia-tracker", "07:00", "13:00")
    ]
