"""CISSM Cyber Events Database: the 13-column export, through the real CLI into DuckDB."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, REALWORLD, rows, run, scalar

from ingest.formats import cissm

GOOD = FIXTURES / "cissm" / "good" / "cissm-2022.csv"
BAD = FIXTURES / "cissm" / "bad"
SAMPLE = REALWORLD / "cissm" / "full_cyber_attack_data.part1.csv"
GRU = "Main Directorate of the General Staff of the Armed Forces (GRU)"
SHIFTED = (
    "'Political-Espionage' is not one of Disruptive, Exploitive, Exploitative, Mixed, Undetermined, Unknown: "
    "the row's columns look shifted (an extra value earlier in the row)"
)


def _ingest(db, path=GOOD, *args: str) -> dict:
    result = run("ingest", path, "--db", db, "--json", *args)
    assert "Traceback" not in result.err
    return json.loads(result.out)["files"][0]


def test_the_good_file_is_recognised_and_its_duplicate_counted_once(db):
    file = _ingest(db)
    assert (file["status"], file["format"], file["records_read"]) == ("loaded", "cissm", 26)
    assert (file["inserted"], file["rejected"], file["skipped"]) == (25, 0, {cissm.DUPLICATE: 1})
    assert rows(db, "SELECT line FROM incidents WHERE title LIKE 'Oschadbank%'") == [(9,)]  # line 10 repeats it


def test_the_15_feb_ddos_on_the_ministry_of_defence(db):
    _ingest(db)
    (incident,) = rows(
        db,
        """SELECT strftime(started_at, '%Y-%m-%dT%H:%MZ'), strftime(started_latest, '%Y-%m-%d'), time_precision,
                  time_basis, evidence, attack_types, target_orgs, target_countries, target_sectors, url
           FROM v_incidents WHERE title = 'Ministry of Defence of Ukraine: External Denial of Service'""",
    )
    assert incident == (
        "2022-02-15T00:00Z",
        "2022-02-16",
        "day",
        "reported or claimed date",
        "reported",
        ["ddos"],
        ["Ministry of Defence of Ukraine"],
        ["UKR"],
        ["government"],  # 92 holds national security too: military is not derived
        "https://www.example.org/news/ukraine-mod-ddos",
    )
    assert rows(
        db,
        """SELECT a.actor_raw, a.role, a.attributed_by, a.country, a.country_raw, a.actor_type, a.motive
           FROM incident_actors a JOIN incidents i USING (incident_id) WHERE i.title LIKE 'Ministry of Defence%'""",
    ) == [(GRU, "suspected", None, "RUS", "Russian Federation", "Nation-State", "Sabotage")]


def test_the_banks_are_finance_and_plural_subtypes_map_like_singular_ones(db):
    _ingest(db)
    found = rows(
        db,
        """SELECT target_orgs[1], attack_types, target_sectors FROM v_incidents
           WHERE strftime(started_at, '%Y-%m-%d') = '2022-02-15' ORDER BY 1""",
    )
    assert found == [
        ("Armed Forces of Ukraine", ["ddos"], ["government"]),  # External Denial of Services
        ("Ministry of Defence of Ukraine", ["ddos"], ["government"]),
        ("Oschadbank", ["ddos"], ["finance"]),
        ("PrivatBank", ["ddos"], ["finance"]),
    ]


@pytest.mark.parametrize(
    ("subtypes", "types", "unmapped"),
    [
        ("External Denial of Service", ("ddos",), ()),
        ("External Denial of Services", ("ddos",), ()),
        ("external denial of  SERVICE", ("ddos",), ()),
        ("Message Manipulation", ("defacement",), ()),
        ("Exploitation of Application Servers", ("intrusion",), ()),
        ("Exploitation of End Host,Exploitation of End Hosts", ("intrusion",), ()),
        ("Exploitation of Sensors", ("intrusion",), ()),
        ("Exploitation of Data in Transit", ("intrusion",), ()),
        ("Exploitation of Network Infrastructure", ("intrusion",), ()),
        ("Data Attack,Exploitation of Application Server", ("other", "intrusion"), ()),
        ("Internal Denial of Service", ("other",), ()),
        ("Physical Attack", ("other",), ()),
        ("Data Attack,Undetermined", ("other",), ()),
        ("Undetermined", ("other",), ()),
        ("Unknown", ("other",), ()),
        (None, ("other",), ()),
        ("Exploitation of Infrastructure", ("other",), ("Exploitation of Infrastructure",)),
        ("Exploitative", ("other",), ("Exploitative",)),  # an event type in the subtype column
    ],
)
def test_subtypes_map_to_attack_types(subtypes, types, unmapped):
    assert cissm.attack_types(subtypes) == (types, unmapped)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Ukraine", ("UKR", "Ukraine")),
        ("Russian Federation", ("RUS", "Russian Federation")),
        (
            "United Kingdom of Great Britain and Northern Ireland",
            ("GBR", "United Kingdom of Great Britain and Northern Ireland"),
        ),
        ("Korea (the Republic of)", ("KOR", "Korea (the Republic of)")),
        ("Korea (the Democratic People's Republic of)", ("PRK", "Korea (the Democratic People's Republic of)")),
        ("Moldova (the Republic of)", ("MDA", "Moldova (the Republic of)")),
        ("Taiwan (Province of China)", ("TWN", "Taiwan (Province of China)")),
        ("Iran (Islamic Republic of)", ("IRN", "Iran (Islamic Republic of)")),
        ("Bonaire, Sint Eustatius and Saba", ("BES", "Bonaire, Sint Eustatius and Saba")),
        ("Viet Nam", ("VNM", "Viet Nam")),
        ("Czechia", ("CZE", "Czechia")),
        ("Republic of North Macedonia", ("MKD", "Republic of North Macedonia")),
        ("Hong Kong", ("HKG", "Hong Kong")),
        ("Undetermined", (None, "Undetermined")),  # not known: no country, the word kept
        (None, (None, None)),
    ],
)
def test_country_names(written, expected):
    assert cissm.country(written) == expected


def test_long_iso_names_and_undetermined_in_the_store(db):
    _ingest(db)
    assert rows(
        db,
        """SELECT t.organisation, t.country, t.country_raw FROM incident_targets t
           WHERE t.country_raw IN ('Korea (the Republic of)', 'Moldova (the Republic of)', 'Taiwan (Province of China)',
                                   'Bonaire, Sint Eustatius and Saba', 'Undetermined')
           ORDER BY t.country_raw""",
    ) == [
        ("Telbo N.V.", "BES", "Bonaire, Sint Eustatius and Saba"),
        ("South Korean think tank", "KOR", "Korea (the Republic of)"),
        ("Government portal of Moldova", "MDA", "Moldova (the Republic of)"),
        ("Taiwanese securities brokers", "TWN", "Taiwan (Province of China)"),
        ("Kazakh government websites", None, "Undetermined"),
    ]
    assert rows(db, "SELECT country, country_raw FROM incident_actors WHERE actor = 'Kimsuky'") == [
        ("PRK", "Korea (the Democratic People's Republic of)")
    ]


def test_undetermined_blank_and_unknown_are_no_values(db):
    _ingest(db)
    found = rows(
        db,
        """SELECT i.title, i.attack_types, i.unmapped_attack_types, count(a.actor), any_value(a.actor_type),
                  any_value(a.country), any_value(a.country_raw)
           FROM incidents i LEFT JOIN incident_actors a USING (incident_id)
           WHERE i.line IN (4, 5, 13, 22, 23, 26) GROUP BY ALL ORDER BY i.title""",
    )
    assert found == [
        ("Belarusian Railway: undetermined event", ["other"], [], 1, "Hacktivist", "BLR", "Belarus"),  # blank subtype
        ("Multiple Ukrainian organizations: Data Attack", ["other"], [], 0, None, None, None),  # actor Undetermined
        ("Municipality of Kalush: undetermined event", ["other"], [], 0, None, None, None),  # subtype Unknown
        ("RT (Russia Today): External Denial of Services", ["ddos"], [], 1, "Hacktivist", None, None),  # blank country
        ("Ukrainian government agencies and IT firms: Data Attack", ["other"], [], 1, None, None, "Undetermined"),
        ("Vodafone Portugal: Internal Denial of Service", ["other"], [], 0, None, None, None),
    ]
    assert scalar(db, "SELECT motive FROM incident_actors WHERE actor = 'Anonymous' AND motive LIKE 'Protest%'") == (
        "Protest,Financial"
    )


def test_the_coded_columns_are_kept_as_written_in_the_description(db):
    _ingest(db)
    text = scalar(db, "SELECT description FROM incidents WHERE title LIKE 'Vodafone Portugal%'")
    assert text == (
        "Vodafone Portugal suffers a network-wide outage after a deliberate cyberattack.\n\n"
        "CISSM event_type: Disruptive; event_subtype: Internal Denial of Service; actor_type: Undetermined; "
        "motive: Undetermined; industry: 51 Information; country: Portugal; actor_country: (blank)."
    )


def test_a_comma_inside_actor_and_a_newline_inside_description(db):
    _ingest(db)
    assert rows(db, "SELECT actor_raw FROM incident_actors WHERE actor_raw LIKE 'Ministry of State Security%'") == [
        ("Ministry of State Security (MSS), Tianjin State Security Bureau (APT10)",)
    ]
    assert rows(
        db, "SELECT line, split_part(description, chr(10) || chr(10), 1) FROM incidents WHERE title LIKE 'KP%'"
    ) == [(14, "The Conti ransomware gang hits KP Snacks and posts\nsamples of stolen data on its leak site.")]
    assert scalar(db, "SELECT line FROM incidents WHERE title LIKE 'Swissport%'") == 16  # two physical lines on


def test_sectors_from_naics_keep_the_industry_words_that_map_to_other(db):
    _ingest(db)
    found = rows(
        db,
        """SELECT organisation, sector, unmapped_sectors FROM incident_targets
           WHERE organisation IN ('NVIDIA', 'RT (Russia Today)', 'Swissport', 'Hospital San José',
                                  'Belarusian Railway', 'International Committee of the Red Cross (ICRC)')
           ORDER BY organisation""",
    )
    assert found == [
        ("Belarusian Railway", "transport", []),
        ("Hospital San José", "health", []),
        ("International Committee of the Red Cross (ICRC)", "other", ["Other Services (except Public Administration)"]),
        ("NVIDIA", "other", ["Manufacturing"]),
        ("RT (Russia Today)", "other", ["Information"]),  # telecom and media together: not split
        ("Swissport", "transport", []),
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Instituto Federal Do ParÃ¡ (IFPA)", ("Instituto Federal Do Pará (IFPA)", False)),
        ("Hospital San JosÃ\x83Â©", ("Hospital San José", False)),  # twice, once through latin-1
        ("Junta del Servicio ElÃ\x83Æ\x92Ã\x82Â©ctrico", ("Junta del Servicio Eléctrico", False)),
        ("TÃ\x83Å\x93V NORD GROUP", ("TÜV NORD GROUP", False)),
        ("Fisco Saúde", ("Fisco Saúde", False)),  # right as written
        ("Plain ASCII", ("Plain ASCII", False)),
        ('Peru MOF Ã¢â\x82¬" DirecciÃ\x83Â³n', ('Peru MOF Ã¢â\x82¬" DirecciÃ\x83Â³n', True)),  # a byte lost: kept
        ("GuatemalaÃ\x8ds Ministerio", ("GuatemalaÃ\x8ds Ministerio", True)),  # would give "GuatemalaÍs"
        ("a website \x97 an em dash read as latin-1", ("a website \x97 an em dash read as latin-1", True)),
    ],
)
def test_mojibake_is_repaired_only_where_the_round_trip_undoes_it(written, expected):
    assert cissm.repaired(written) == expected


def test_repaired_text_is_stored_and_the_description_says_what_was_written(db):
    _ingest(db)
    (pará,) = rows(db, "SELECT title, description FROM incidents WHERE title LIKE 'Secretaria%'")
    assert pará[0] == "Secretaria de Saúde do Pará (SESPA): Data Attack"
    assert pará[1].endswith(
        "Repaired from UTF-8 read as cp1252; as written: organization 'Secretaria de SaÃºde do ParÃ¡ (SESPA)'; "
        "description 'LockBit adds the health department of the Brazilian state of ParÃ¡ to its leak site.'."
    )
    garbled = scalar(db, "SELECT description FROM incidents WHERE title LIKE 'Municipality of Kalush%'")
    assert 'â€" details' in garbled and garbled.endswith("Garbled text (mojibake) kept as written in: description.")


def test_loading_the_file_again_changes_nothing(db):
    _ingest(db)
    second = _ingest(db)
    assert (second["status"], second["inserted"], second["updated"]) == ("skipped", 0, 0)  # the same bytes
    copy = db.parent / "again.csv"
    copy.write_bytes(GOOD.read_bytes() + b"\n")  # other bytes, the same rows: the refs are stable
    third = _ingest(db, copy)
    assert (third["inserted"], third["updated"], third["unchanged"], third["skipped"]) == (
        0,
        0,
        25,
        {cissm.DUPLICATE: 1},
    )


def test_the_shifted_killnet_record_is_rejected_and_the_others_load(db):
    file = _ingest(db, BAD / "shifted_record.csv")
    assert (file["inserted"], file["rejected"]) == (2, 1)
    ((line, field, reason, errors),) = rows(db, "SELECT line, field, reason, errors FROM rejects")
    assert (line, field, reason) == (3, "event_type", SHIFTED)
    assert json.loads(errors) == [
        {"field": "event_type", "reason": SHIFTED},
        {
            "field": "country",
            "reason": "'https://www.example.org/news/killnet-fbi' is a URL, not a country: "
            "the row's columns look shifted (an extra value earlier in the row)",
        },
    ]


def test_a_day_that_is_not_yyyy_mm_dd_is_rejected(db):
    file = _ingest(db, BAD / "evtdate_not_a_date.csv")
    assert (file["inserted"], file["rejected"]) == (2, 2)
    assert rows(db, "SELECT line, field, reason FROM rejects ORDER BY line") == [
        (3, "evtDate", "'15/02/2022' is not a date in YYYY-MM-DD form, e.g. 2022-02-15"),
        (4, "evtDate", "'2022-02-30' is not a date in YYYY-MM-DD form, e.g. 2022-02-15"),
    ]


def test_an_industry_code_that_is_not_naics_is_rejected(db):
    file = _ingest(db, BAD / "industry_code_not_naics.csv")
    assert (file["inserted"], file["rejected"]) == (1, 1)
    assert rows(db, "SELECT line, field, reason FROM rejects") == [
        (3, "industry_code", "'Public Administration' is not a NAICS code: 2 to 6 digits, e.g. 92")
    ]


def test_a_wrong_header_fails_the_file_and_names_the_column(db):
    forced = _ingest(db, BAD / "wrong_header.csv", "--format", "cissm")
    assert forced["status"] == "failed"
    assert forced["error"].startswith(
        "unknown column(s) eventDate (did you mean 'evtDate'?); missing required column(s) evtDate"
    )
    guessed = _ingest(db, BAD / "wrong_header.csv")
    assert guessed["status"] == "failed"
    assert guessed["error"].endswith(
        "Its header is nearest cissm's: unknown column(s) eventDate (did you mean 'evtDate'?); "
        "missing required column(s) evtDate"
    )
    assert scalar(db, "SELECT count(*) FROM incidents") == 0


@pytest.mark.skipif(not SAMPLE.is_file(), reason="../shared/realworld is not beside this checkout")
def test_the_real_sample(db):
    result = run("ingest", SAMPLE, "--db", db, "--json")
    assert "Traceback" not in result.err and result.code == 3  # one record rejected
    file = json.loads(result.out)["files"][0]
    assert (file["format"], file["records_read"], file["inserted"], file["rejected"], file["skipped"]) == (
        "cissm",
        1994,
        1954,
        1,
        {cissm.DUPLICATE: 39},
    )
    assert rows(db, "SELECT line, field, reason FROM rejects") == [(74, "event_type", SHIFTED)]
    assert scalar(db, "SELECT count(*) FROM incident_targets") == 1954
    assert scalar(db, "SELECT count(*) FROM incident_actors") == 1954  # the sample names an actor on every row
    # records 2 and 3 are one (the first is kept); a near-duplicate with another date is a record of its own
    assert rows(
        db,
        "SELECT line, strftime(started_at, '%Y-%m-%d') FROM incidents "
        "WHERE title = 'University of Duisburg-Essen (UDE): Data Attack' ORDER BY line",
    ) == [(3, "2023-04-20"), (1039, "2022-01-11")]
    spot = rows(
        db,
        """SELECT i.line, strftime(i.started_at, '%Y-%m-%d'), t.country, t.country_raw, t.sector,
                  coalesce(a.actor_raw, a.actor), a.role, a.country, a.actor_type, a.motive
           FROM incidents i JOIN incident_targets t USING (incident_id) JOIN incident_actors a USING (incident_id)
           WHERE i.line IN (2, 5, 6) ORDER BY i.line""",
    )
    assert spot == [
        (
            2,
            "2023-12-29",
            "USA",
            "United States of America",
            "education",
            "Avos Locker",
            "suspected",
            None,
            "Criminal",
            "Financial",
        ),
        (
            5,
            "2023-01-31",
            "RUS",
            "Russian Federation",
            "other",
            "Anonymous Russia",
            "suspected",
            "RUS",
            "Hacktivist",
            "Protest",
        ),
        (
            6,
            "2023-01-31",
            "GBR",
            "United Kingdom of Great Britain and Northern Ireland",
            "other",
            "LockBit 3.0",
            "suspected",
            "RUS",
            "Criminal",
            "Financial",
        ),
    ]
    # every country name in the sample but Undetermined (and the shifted row's URL) is a country
    assert rows(db, "SELECT DISTINCT country_raw FROM incident_targets WHERE country IS NULL") == [("Undetermined",)]
    assert rows(
        db, "SELECT DISTINCT country_raw FROM incident_actors WHERE country IS NULL ORDER BY 1 NULLS FIRST"
    ) == [(None,), ("Undetermined",)]
    assert scalar(db, "SELECT count(*) FROM incident_targets WHERE organisation LIKE '%Pará%'") == 1
