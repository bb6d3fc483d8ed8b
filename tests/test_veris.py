"""VERIS / VCDB: one incident per VERIS record, dated to what timeline.incident knows."""

from __future__ import annotations

import csv
import json
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES, ROOT, rows, run, scalar

from ingest.formats.veris import VerisIncident, convert, naics_sector

VCDB = FIXTURES / "veris" / "good" / "vcdb-ukraine-2022.json"
SINGLE = FIXTURES / "veris" / "good" / "single-incident.json"
DDOS = "3b2f9a1e-6c4d-4e8f-9a0b-1c2d3e4f5a6b"
PHISHING = "098ca570-dfe2-11ef-9c1a-0242ac120002"
WHEN = "SELECT strftime(started_at, '%Y-%m-%dT%H:%MZ'), strftime(started_latest, '%Y-%m-%dT%H:%MZ'), time_precision, "
WHEN += "time_basis FROM incidents WHERE source_ref = $ref"


def _record(**extra: object) -> dict[str, object]:
    return {"incident_id": "x", "security_incident": "Confirmed", "timeline": {"incident": {"year": 2022}}, **extra}


def test_the_15_feb_ddos_is_a_day_with_its_victim_and_actor(db):
    result = run("ingest", VCDB, "--db", db, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["files"][0]["format"] == "veris"  # detected, not told
    (ddos,) = rows(
        db,
        """SELECT title, description, attack_types, evidence, severity, url, target_orgs, target_countries,
                  target_sectors, strftime(source_modified, '%Y-%m-%dT%H:%M:%SZ')
           FROM v_incidents WHERE source_ref = $ref""",
        {"ref": DDOS},
    )
    assert ddos == (
        "DDoS made the Ukrainian Ministry of Defence website and PrivatBank/Oschadbank online banking…",
        "DDoS made the Ukrainian Ministry of Defence website and PrivatBank/Oschadbank online banking unavailable "
        "for several hours. The UK and the US later attributed it to the GRU.",
        ["ddos"],
        "confirmed",
        None,
        "https://cert.gov.ua/article/37139",
        ["Ministry of Defence of Ukraine"],
        ["UKR"],
        ["military"],
        "2022-02-18T10:12:44Z",
    )
    assert rows(db, WHEN, {"ref": DDOS}) == [
        ("2022-02-15T00:00Z", "2022-02-16T00:00Z", "day", "VERIS timeline.incident (time of day ignored: no time zone)")
    ]
    assert rows(
        db,
        "SELECT actor, role, attributed_by, attributed_at, country, country_raw, actor_type, motive "
        "FROM incident_actors JOIN incidents USING (incident_id) WHERE source_ref = $ref",
        {"ref": DDOS},
    ) == [("external actor: Nation-state", "suspected", None, None, "RUS", "RU", "Nation-state", "Ideology")]


def test_the_time_of_day_counts_when_the_source_declares_its_zone(db):
    assert run("ingest", VCDB, "--timezone", "Europe/Kyiv", "--db", db).code == 0
    assert rows(db, WHEN, {"ref": DDOS}) == [  # 07:00 PM in Kyiv (UTC+2 in February)
        ("2022-02-15T17:00Z", "2022-02-15T17:01Z", "minute", "VERIS timeline.incident")
    ]


def test_a_year_and_month_are_stored_as_that_month(db):
    assert run("ingest", VCDB, "--db", db).code == 0
    assert rows(db, WHEN, {"ref": PHISHING}) == [
        ("2022-02-01T00:00Z", "2022-03-01T00:00Z", "month", "VERIS timeline.incident")
    ]
    assert rows(db, "SELECT attack_types, evidence, url FROM incidents WHERE source_ref = $ref", {"ref": PHISHING}) == [
        (["phishing"], "reported", "https://example.org/cert-ua/unc1151-phishing")
    ]


def test_a_single_object_with_sentinels_and_an_upper_case_id(db):
    assert run("ingest", SINGLE, "--db", db).code == 0
    assert rows(
        db, "SELECT source_ref, attack_types, target_orgs, target_countries, target_sectors FROM v_incidents"
    ) == [("c7e1b0f2-5a4d-4e3c-9b8a-7f6e5d4c3b2a", ["wiper"], [], ["UKR"], ["government"])]
    assert rows(db, "SELECT actor, country, country_raw, actor_type, motive FROM incident_actors") == [
        ("external actor", None, None, None, None)  # every actor field was "Unknown"
    ]


def test_a_false_positive_is_skipped_with_its_reason(db):
    result = run("ingest", FIXTURES / "veris" / "bad" / "false_positive.json", "--db", db, "--json")
    summary = json.loads(result.out)
    assert (result.code, summary["rejected"]) == (0, 0)
    assert summary["files"][0]["skipped"] == {"VERIS security_incident False positive": 1}
    assert rows(db, "SELECT source_ref FROM incidents") == [("8f6a2c4e-1d3b-4f5a-8c7d-9e0b1a2c3d4e",)]


def test_a_reingest_loads_nothing(db, tmp_path):
    assert run("ingest", VCDB, "--db", db).code == 0
    again = json.loads(run("ingest", VCDB, "--db", db, "--json").out)
    assert again["files"][0]["status"] == "skipped"
    reformatted = tmp_path / "vcdb.json"  # other bytes, the same records
    reformatted.write_text(json.dumps(json.loads(VCDB.read_text("utf-8"))), "utf-8")
    counts = json.loads(run("ingest", reformatted, "--db", db, "--json").out)
    assert (counts["inserted"], counts["updated"], counts["unchanged"], counts["rejected"]) == (0, 0, 3, 0)
    assert scalar(db, "SELECT count(*) FROM incidents") == 3


NAICS = [
    ("928110", "military"),
    ("928120", "government"),
    ("92", "government"),
    ("921110", "government"),
    ("52", "finance"),
    ("522110", "finance"),
    ("22", "energy"),
    ("221122", "energy"),
    ("211", "energy"),
    ("211120", "energy"),
    ("517", "telecom"),
    ("517311", "telecom"),
    ("511", "media"),
    ("511110", "media"),
    ("512", "media"),
    ("515", "media"),
    ("515120", "media"),
    ("519", "media"),
    ("519130", "media"),
    ("48", "transport"),
    ("481111", "transport"),
    ("49", "transport"),
    ("62", "health"),
    ("622110", "health"),
    ("61", "education"),
    ("611310", "education"),
    ("21", "other"),
    ("212", "other"),
    ("541512", "other"),
    ("51", "other"),
    ("518210", "other"),
    (None, None),
]


@pytest.mark.parametrize(("code", "sector"), NAICS)
def test_naics_code_to_sector(code, sector):
    assert naics_sector(code) == sector


def test_every_naics_row_is_tested():
    text = (ROOT / "ingest" / "data" / "naics_sectors.csv").read_text("utf-8")
    table = {r["prefix"]: r["sector"] for r in csv.DictReader(x for x in text.splitlines() if not x.startswith("#"))}
    assert {code: sector for code, sector in NAICS if code in table} == table


@pytest.mark.parametrize(
    ("industry", "sector"), [("000", None), ("0", None), ("Unknown", None), ("000000", None), (" 928110 ", "military")]
)
def test_unknown_industries_have_no_sector(industry, sector):
    incident = convert(VerisIncident.model_validate(_record(victim={"country": ["UA"], "industry": industry})))
    assert [t.sector for t in incident.targets] == [sector]


DEFACED = {"integrity": {"variety": ["Defacement"]}}
LEAKED = {"confidentiality": {"data_disclosure": "Yes"}}


@pytest.mark.parametrize(
    ("action", "attribute", "expected"),
    [
        ({"hacking": {"variety": ["DoS"]}}, {}, ("ddos",)),
        ({"hacking": {"variety": ["Brute force"]}}, {}, ("intrusion",)),
        ({"hacking": {"variety": ["Unknown"]}}, {}, ("intrusion",)),
        ({"hacking": {"variety": ["Exploit vuln"]}}, DEFACED, ("intrusion", "defacement")),
        ({"hacking": {"variety": ["SQLi"]}}, LEAKED, ("intrusion", "data_leak")),
        ({"hacking": {"variety": ["SQLi"]}}, {"confidentiality": {"data_disclosure": "Potentially"}}, ("intrusion",)),
        ({"malware": {"variety": ["Ransomware"]}}, {}, ("ransomware",)),
        ({"malware": {"variety": ["Destroy data", "DoS"]}}, {}, ("wiper", "ddos")),
        ({"malware": {"variety": ["C2"]}}, {}, ("other",)),
        ({"social": {"variety": ["Phishing"]}}, {}, ("phishing",)),
        ({"social": {"variety": ["Bribery"]}}, {}, ("other",)),
        ({"misuse": {"variety": ["Privilege abuse"]}}, {}, ("other",)),
        ({}, DEFACED, ("defacement",)),
    ],
)
def test_actions_to_attack_types(action, attribute, expected):
    assert convert(VerisIncident.model_validate(_record(action=action, attribute=attribute))).attack_types == expected


@pytest.mark.parametrize(
    ("summary", "title"),
    [
        ("Short summary. Second sentence.", "Short summary"),
        (
            "Some 70 Ukrainian government websites, among them the Ministry of Foreign Affairs and the Cabinet of "
            "Ministers, were defaced overnight. Attackers exploited October CMS.",
            "Some 70 Ukrainian government websites, among them the Ministry of Foreign Affairs and the Cabinet of…",
        ),
        (
            "Ends at a word boundary exactly one hundred characters long, which is not cut at all, so no ellipsis",
            "Ends at a word boundary exactly one hundred characters long, which is not cut at all, so no ellipsis",
        ),
        ("A  summary\nover   lines. Next.", "A summary over lines"),
        (None, "Ministry of Defence of Ukraine: ddos"),
    ],
)
def test_the_title_is_the_summary_s_first_sentence(summary, title):
    record = _record(
        summary=summary,
        victim={"victim_id": "Ministry of Defence of Ukraine"},
        action={"hacking": {"variety": ["DoS"]}},
    )
    assert convert(VerisIncident.model_validate(record)).title == title


KYIV = {"zone": ZoneInfo("Europe/Kyiv")}


@pytest.mark.parametrize(
    ("incident", "context", "started", "basis"),
    [
        ({"year": 2022, "month": 2, "day": 15, "time": "05:45:00 PM"}, KYIV, "2022-02-15T15:45Z minute", ""),
        ({"year": 2022, "month": 2, "day": 15, "time": "5:45 pm"}, KYIV, "2022-02-15T15:45Z minute", ""),
        ({"year": 2022, "month": 2, "day": 15, "time": "12:00:00 AM"}, KYIV, "2022-02-14T22:00Z minute", ""),
        ({"year": 2022, "month": 2, "day": 15, "time": "17:45:00"}, KYIV, "2022-02-15T15:45Z minute", ""),
        ({"year": 2022, "month": 2, "day": 15, "time": "Unknown"}, KYIV, "2022-02-14T22:00Z day", ""),
        (
            {"year": 2022, "month": 2, "time": "05:45:00 PM"},
            KYIV,
            "2022-01-31T22:00Z month",
            " (time of day ignored: no day)",
        ),
        (
            {"year": 2022, "month": 2, "day": 15, "time": "05:45:00 PM"},
            None,
            "2022-02-15T00:00Z day",
            " (time of day ignored: no time zone)",
        ),
        ({"year": 2022}, None, "2022-01-01T00:00Z year", ""),
    ],
)
def test_timeline_incident_to_a_time(incident, context, started, basis):
    record = VerisIncident.model_validate(_record(timeline={"incident": incident}), context=context)
    got = convert(record)
    assert (f"{got.started.at:%Y-%m-%dT%H:%MZ} {got.started.precision}", got.time_basis) == (
        started,
        "VERIS timeline.incident" + basis,
    )
