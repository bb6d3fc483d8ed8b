"""Curated trackers: the CFR Cyber Operations Tracker export and the EuRepoC database."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import FIXTURES, rows, run, scalar
from pydantic import ValidationError

from ingest.canon.records import Actor, Target
from ingest.formats import cfr, eurepoc

CFR = FIXTURES / "cfr_tracker" / "good" / "cfr-2022.csv"
EUREPOC = FIXTURES / "eurepoc" / "good" / "eurepoc-2022.csv"
RF, SPONSOR, SUGGESTED = "Russian Federation", "state sponsor", "Non-state actor, state-affiliation suggested"
SHIFTED = (
    "'https://www.ukrinform.net/rubric-society/fake-notice.html' is not one of Espionage, Sabotage, "
    "Denial of service, Data destruction, Financial Theft, Defacement, Doxing: "
    "the row's columns look shifted (broken quoting in the source)"
)


def _eurepoc_file(tmp_path, **cells: str):
    """A one-row EuRepoC file with the real header; unnamed columns are blank."""
    path = tmp_path / "eurepoc.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, eurepoc.COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerow({"ID": "1", "name": "An incident", "start_date": "2023-02-20", **cells})
    return path


def test_the_cfr_ddos_row_is_dated_16_feb_with_its_sectors_and_sponsor(db):
    result = run("ingest", CFR, "--db", db)
    assert result.code == 0, result.err
    (ddos,) = rows(
        db,
        """SELECT source, source_ref, strftime(started_at, '%Y-%m-%dT%H:%MZ'), strftime(started_latest, '%Y-%m-%d'),
                  time_precision, attack_types, target_orgs, target_countries, target_sectors, url
           FROM v_incidents WHERE title = 'Targeting of Ukrainian banks and defense ministry'""",
    )
    assert ddos == (
        "cfr",
        "c61c6dcf2c670752",
        "2022-02-16T00:00Z",
        "2022-02-17",
        "day",
        ["ddos"],
        ["Ukrainian Ministry of Defense, Armed Forces of Ukraine, PrivatBank, Oschadbank"],
        [],
        ["government", "military", "other"],
        "https://www.reuters.com/technology/ukraine-says-russia-behind-cyberattack-2022-02-17/",  # Response's URL
    )
    assert rows(
        db,
        "SELECT actor, role, country, country_raw, actor_type FROM incident_actors JOIN incidents USING (incident_id) "
        "WHERE source_ref = 'c61c6dcf2c670752'",
    ) == [("GRU", "attributed", "RUS", "Russian Federation", None)]


def test_cfr_keeps_damaged_text_and_unescapes_source_urls(db):
    assert run("ingest", CFR, "--db", db).code == 0
    assert rows(db, "SELECT title, substr(description, 1, 30), url FROM incidents ORDER BY line") == [
        (
            "Destructive malware attack on Ukrainian organizations",
            "Microsoft??s Threat Intelligen",
            "https://www.microsoft.com/en-us/security/blog/2022/01/15/destructive-malware-targeting-ukrainian-"
            "organizations/?utm_source=cfr&utm_medium=tracker",
        ),
        (
            "Targeting of Ukrainian government websites",
            "Hackers defaced around seventy",
            "https://ssu.gov.ua/en/novyny/sbu-investigates-cyberattack-on-government-websites",
        ),
        (
            "Targeting of Ukrainian banks and defense ministry",
            "A distributed denial-of-servic",
            "https://www.reuters.com/technology/ukraine-says-russia-behind-cyberattack-2022-02-17/",
        ),
    ]


def test_a_shifted_cfr_row_is_rejected_and_the_good_rows_load(db):
    result = run("ingest", FIXTURES / "cfr_tracker" / "bad" / "shifted_columns.csv", "--db", db)
    assert result.code == 3
    assert rows(db, "SELECT line, field, reason FROM rejects ORDER BY line") == [
        (3, "Type", SHIFTED),
        (4, None, "expected 12 fields as in the header, found 10"),
    ]
    assert rows(db, "SELECT line, attack_types FROM incidents ORDER BY line") == [(2, ["wiper"]), (5, ["ddos"])]


def test_a_cfr_export_read_again_with_other_line_ends_changes_nothing(db, tmp_path):
    assert run("ingest", CFR, "--db", db).code == 0
    again = tmp_path / "cfr-lf.csv"
    again.write_bytes(CFR.read_bytes().replace(b"\r\n", b"\n"))
    summary = json.loads(run("ingest", again, "--db", db, "--json").out)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 3)
    assert json.loads(run("ingest", CFR, "--db", db, "--json").out)["files"][0]["status"] == "skipped"
    assert scalar(db, "SELECT count(*) FROM incidents") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russian Federation", [("RUS", "Russian Federation")]),
        ("Korea, Republic of", [("KOR", "Korea, Republic of")]),
        ("Belarus, Russian Federation", [("BLR", "Belarus"), ("RUS", "Russian Federation")]),
        ("Iran (Islamic Republic of)", [("IRN", "Iran (Islamic Republic of)")]),
        ("Korea, Republic of, Japan", [("KOR", "Korea, Republic of"), ("JPN", "Japan")]),
        (
            "Korea (Democratic People's Republic of), China",
            [("PRK", "Korea (Democratic People's Republic of)"), ("CHN", "China")],
        ),
        ("PrivatBank, Oschadbank", [(None, "PrivatBank"), (None, "Oschadbank")]),
    ],
)
def test_cfr_country_lists(text, expected):
    assert cfr.country_list(text) == expected


@pytest.mark.parametrize(
    ("victims", "sectors", "expected"),
    [
        ("Korea, Republic of", ["government"], (Target(None, None, "KOR", "government", "Korea, Republic of"),)),
        (
            "Ukraine, Georgia",
            ["government", "military"],
            (
                Target(None, None, "UKR", "government", "Ukraine"),
                Target(None, None, "UKR", "military", "Ukraine"),
                Target(None, None, "GEO", "government", "Georgia"),
                Target(None, None, "GEO", "military", "Georgia"),
            ),
        ),
        # not all countries: one organisation, the text as written
        ("Ukraine, PrivatBank", [], (Target("Ukraine, PrivatBank", None, None, None),)),
        (
            "Ukrainian Ministry of Defense, PrivatBank",
            ["government", "other"],
            (
                Target("Ukrainian Ministry of Defense, PrivatBank", None, None, "government"),
                Target(None, None, None, "other"),
            ),
        ),
        (None, ["military"], (Target(None, None, None, "military"),)),
        (None, [], ()),
    ],
)
def test_cfr_victims(victims, sectors, expected):
    assert cfr.targets(victims, sectors) == expected


@pytest.mark.parametrize(
    ("affiliations", "sponsor", "expected"),
    [
        ("Believed to be the work of APT 28", RF, (Actor("APT 28", "attributed", None, None, "RUS", RF),)),
        (
            "Lazarus Group, Andariel",
            "Korea (Democratic People's Republic of)",
            (
                Actor("Lazarus Group", "attributed", None, None, "PRK", "Korea (Democratic People's Republic of)"),
                Actor("Andariel", "attributed", None, None, "PRK", "Korea (Democratic People's Republic of)"),
            ),
        ),
        (
            None,
            "Belarus, Russian Federation",
            (
                Actor("Belarus (state sponsor)", "attributed", None, None, "BLR", "Belarus", SPONSOR),
                Actor(f"{RF} (state sponsor)", "attributed", None, None, "RUS", RF, SPONSOR),
            ),
        ),
        (
            "UNC1151",
            "Belarus, Russian Federation",
            (
                Actor("UNC1151", "attributed", None, None),
                Actor("Belarus (state sponsor)", "attributed", None, None, "BLR", "Belarus", SPONSOR),
                Actor(f"{RF} (state sponsor)", "attributed", None, None, "RUS", RF, SPONSOR),
            ),
        ),
        ("Anonymous", None, (Actor("Anonymous", "attributed", None, None),)),
        (None, None, ()),
    ],
)
def test_cfr_affiliations_and_sponsors(affiliations, sponsor, expected):
    assert cfr.actors(affiliations, sponsor, "attributed") == expected


def test_eurepoc_rows_keep_their_receivers_and_each_attribution(db):
    result = run("ingest", EUREPOC, "--db", db)
    assert result.code == 0, result.err
    assert rows(
        db,
        """SELECT source_ref, attack_types, strftime(started_at, '%Y-%m-%d'), time_precision,
                  strftime(ended_at, '%Y-%m-%d'), target_orgs, target_countries, target_sectors
           FROM v_incidents ORDER BY source_ref""",
    ) == [
        (
            "9101",
            ["other"],
            "2022-01-13",
            "day",
            "2022-01-14",
            [
                "Ministry of Foreign Affairs (Ukraine)",
                "Cabinet of Ministers (Ukraine)",
                "Ministry of Education and Science (Ukraine)",
            ],  # the repeated receiver once
            ["UKR"],
            ["government"],
        ),
        ("9102", ["other", "intrusion"], "2022-01-13", "day", None, [], ["UKR"], ["government", "other"]),
        ("9103", ["other"], "2022-02-23", "day", "2022-02-24", [], ["LTU", "LVA", "UKR"], ["other"]),
    ]
    assert rows(
        db,
        """SELECT source_ref, actor, role, attributed_by, strftime(attributed_at, '%Y-%m-%d'), country, actor_type
           FROM incident_actors JOIN incidents USING (incident_id) ORDER BY source_ref, position""",
    ) == [
        ("9101", "Ghostwriter", "attributed", "Ukraine", "2022-01-15", "BLR", SUGGESTED),
        ("9102", "DEV-0586", "attributed", "Microsoft", "2022-01-15", "RUS", SUGGESTED),
        ("9102", "GRU", "attributed", "United Kingdom", "2022-05-10", "RUS", "State"),
        ("9103", "Russia (unnamed initiator)", "suspected", None, None, "RUS", "Unknown - not attributed"),
    ]


def test_eurepoc_nato_is_an_organisation_and_regions_keep_their_raw_value(db, tmp_path):
    path = _eurepoc_file(
        tmp_path,
        receiver_country="['NATO (region)', 'Global (region)', 'Unknown']",
        receiver_category="[['International / supranational organization'], ['Unknown'], ['Media']]",
        receiver_name="[['Not available'], ['Not available'], ['Not available']]",
        initiator_name="['Killnet']",
        initiator_country="['Russia']",
    )
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT organisation, country, sector, country_raw FROM incident_targets ORDER BY position") == [
        ("NATO", None, "other", "NATO (region)"),
        (None, None, None, "Global (region)"),
        (None, None, "media", None),
    ]


def test_an_eurepoc_end_before_the_start_is_dropped(db, tmp_path):
    path = _eurepoc_file(tmp_path, start_date="2020-07-23", end_date="2020-01-01")
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT strftime(started_at, '%Y-%m-%d'), ended_at FROM incidents") == [("2020-07-23", None)]


def test_eurepoc_read_again_loads_nothing(db):
    assert run("ingest", EUREPOC, "--db", db).code == 0
    summary = json.loads(run("ingest", EUREPOC, "--db", db, "--json").out)
    assert (summary["files"][0]["status"], summary["inserted"]) == ("skipped", 0)
    assert scalar(db, "SELECT count(*) FROM incidents") == 3


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("['Ukraine', 'Ukraine']", ["Ukraine", "Ukraine"]),
        ("[['State institutions / political system']]", [["State institutions / political system"]]),
        ('["Korea, Democratic People\'s Republic of"]', ["Korea, Democratic People's Republic of"]),
        ("[['Not available'], ['Media', 'Science']]", [["Not available"], ["Media", "Science"]]),
        ("[]", []),
    ],
)
def test_eurepoc_list_cells(cell, expected):
    row = eurepoc.EurepocIncident.model_validate(
        {"ID": "1", "name": "n", "start_date": "2022-01-13", "receiver_category": cell}
    )
    assert row.receiver_category == expected


@pytest.mark.parametrize(
    "cell",
    ["['Ukraine', 'Ukraine'", '["Media", null]', "{'Ukraine'}", "Ukraine", "__import__('os')"],
)
def test_eurepoc_malformed_list_cells_name_the_column(cell):
    with pytest.raises(ValidationError) as caught:
        eurepoc.EurepocIncident.model_validate(
            {"ID": "1", "name": "n", "start_date": "2022-01-13", "receiver_country": cell}
        )
    assert [(e["loc"], e["msg"]) for e in caught.value.errors(include_url=False)] == [
        (("receiver_country",), f"'{cell}' is not a Python list such as ['Ukraine'] or [['Media']]")
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([["State institutions / political system"]], ["State institutions / political system"]),
        (["Unknown", "Not available", "nan", " Ukraine "], [None, None, None, "Ukraine"]),
        ([["Media", "Science"], []], ["Media", "Science"]),
    ],
)
def test_eurepoc_flattens_lists_and_blanks_sentinels(value, expected):
    assert eurepoc.flat(value) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Fancy Bear/APT28/Sofacy/Pawn Storm", "Fancy Bear"),
        ("UNC1151/ Ghostwriter", "UNC1151"),
        ("Main Centre for Special Technologies (GU/GRU)/Sandworm", "Main Centre for Special Technologies (GU/GRU)"),
        ("Anonymous", "Anonymous"),
    ],
)
def test_eurepoc_actor_names_are_their_first_alias(name, expected):
    assert eurepoc.short_name(name) == expected
