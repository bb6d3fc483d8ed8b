"""Coded event data read row by row: ICEWS yearly .tab files and ACLED CSV exports."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import FIXTURES, rows, run, scalar
from pydantic_core import PydanticCustomError

from ingest import formats
from ingest.formats import acled, icews

ICEWS = FIXTURES / "icews" / "good" / "icews-2022-02.tab"
ACLED = FIXTURES / "acled" / "good" / "acled-2022-02.csv"
WEEK = "[date within about a week (ACLED time_precision 2)]"


def _icews_file(tmp_path, *edits: dict[str, str]):
    """The good fixture's header and its first row, once per edit (column -> new cell)."""
    header, first = (line.split("\t") for line in ICEWS.read_text("utf-8").splitlines()[:2])
    cells = [[edit.get(name, cell) for name, cell in zip(header, first, strict=True)] for edit in edits]
    lines = ["\t".join(row) for row in (header, *cells)]
    path = tmp_path / "icews.tab"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _acled_file(tmp_path, *cells: dict[str, str], columns=acled.COLUMNS, name="acled.csv"):
    """An ACLED export: one row per dict, over a minimal valid row."""
    base = {
        "event_id_cnty": "UKR9001",
        "event_date": "2022-02-15",
        "time_precision": "1",
        "event_type": "Riots",
        "actor1": "Rioters (Ukraine)",
        "iso": "804",
        "country": "Ukraine",
    }
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**base, **row} for row in cells)
    return path


def test_icews_rows_keep_class_countries_utc_day_goldstein_and_place(db):
    result = run("ingest", ICEWS, "--db", db, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["files"][0]["format"] == "icews"
    assert rows(
        db,
        """SELECT source_ref, strftime(occurred_at, '%Y-%m-%dT%H:%MZ'), strftime(occurred_latest, '%Y-%m-%d'),
                  time_precision, cameo_code, event_class, actor_countries, actor1_country, actor2_country,
                  quad_class, goldstein, location, location_country, latitude, longitude
           FROM diplomatic_events WHERE cameo_code IN ('046', '043', '112', '054', '163') ORDER BY line""",
    ) == [
        (
            "91000101@2022-01-10",
            "2022-01-10T00:00Z",
            "2022-01-11",
            "day",
            "046",
            "talks",
            ["RUS", "USA"],
            "USA",
            "RUS",
            1,
            7.0,
            "Geneva, Canton de Geneve, Switzerland",
            "CHE",
            46.2022,
            6.14569,
        ),
        (
            "91000103@2022-02-15",
            "2022-02-15T00:00Z",
            "2022-02-16",
            "day",
            "043",
            "visit",
            ["DEU", "RUS"],
            "RUS",
            "DEU",
            1,
            2.8,
            "Moscow, Moscow, Russian Federation",
            "RUS",
            55.7522,
            37.6156,
        ),
        (
            "91000105@2022-02-18",
            "2022-02-18T00:00Z",
            "2022-02-19",
            "day",
            "112",
            "attribution",
            ["GBR", "RUS"],
            "GBR",
            "RUS",
            3,
            -2.0,
            "London, England, United Kingdom",
            "GBR",
            51.5085,
            -0.12574,
        ),
        (
            "91000106@2022-02-21",
            "2022-02-21T00:00Z",
            "2022-02-22",
            "day",
            "054",
            "recognition",
            ["RUS", "UKR"],
            "RUS",
            "UKR",
            1,
            6.0,
            "Moscow, Moscow, Russian Federation",
            "RUS",
            55.7522,
            37.6156,
        ),
        (
            "91000107@2022-02-21",
            "2022-02-21T00:00Z",
            "2022-02-22",
            "day",
            "054",
            "recognition",
            ["RUS", "UKR"],
            "RUS",
            "UKR",
            1,
            6.0,
            "Moscow, Moscow, Russian Federation",
            "RUS",
            55.7522,
            37.6156,
        ),
        (
            "91000108@2022-02-22",
            "2022-02-22T00:00Z",
            "2022-02-23",
            "day",
            "163",
            "sanction",
            ["RUS", "USA"],
            "USA",
            "RUS",
            4,
            -8.0,
            "Washington, District of Columbia, United States",
            "USA",
            38.8951,
            -77.0364,
        ),
        (
            "91000109@2022-02-22",
            "2022-02-22T00:00Z",
            "2022-02-23",
            "day",
            "163",
            "sanction",
            ["GBR", "RUS"],
            "GBR",
            "RUS",
            4,
            -8.0,
            "London, England, United Kingdom",
            "GBR",
            51.5085,
            -0.12574,
        ),
        (
            "91000110@2022-02-22",
            "2022-02-22T00:00Z",
            "2022-02-23",
            "day",
            "163",
            "sanction",
            ["RUS"],
            None,
            "RUS",
            4,
            -8.0,
            "Brussels, Brussels Capital, Belgium",
            "BEL",
            50.8504,
            4.34878,
        ),
    ]


def test_icews_names_sectors_and_provenance(db):
    assert run("ingest", ICEWS, "--db", db).code == 0
    assert rows(
        db,
        """SELECT title, actor1, actor1_code, actor1_role, actor2, actor2_code, url, description
           FROM diplomatic_events WHERE source_ref IN ('91000105@2022-02-18', '91000110@2022-02-22') ORDER BY line""",
    ) == [
        (
            "Foreign Affairs (United Kingdom): Accuse: Military Intelligence (Russia)",
            "Foreign Affairs (United Kingdom)",
            "Executive,Foreign Ministry,Government",
            None,
            "Military Intelligence (Russia)",
            "Intelligence,Military,Government",
            None,
            "BBC Monitoring (story 61000204, sentence 4)",
        ),
        # "NA" cells are absent: no Source Country, no Target Sectors
        (
            "European Union: Impose embargo, boycott, or sanctions: Russian Federation",
            "European Union",
            "Regional Diplomatic IGOs,International Government Organizations",
            None,
            "Russian Federation",
            None,
            None,
            "Agence France-Presse (story 61000208, sentence 3)",
        ),
    ]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("040", "040"),  # as ICEWS writes it
        ("0874", "0874"),
        ("123", "123"),
        ("020", "020"),  # 0020 is no code, so nothing to restore
        ("04", "04"),  # a root, written with its zero
        ("40", "040"),  # lost its zero: 40 is no root (01-20), 040 is Consult
        ("874", "0874"),  # 87 is no root either
        ("4", "04"),
    ],
)
def test_icews_cameo_codes_keep_or_regain_their_leading_zero(written, stored):
    assert icews.parse_cameo(written) == stored


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "16",
            "'16' is ambiguous: CAMEO 016 without its leading zero, or the root 16; write the code as text with "
            "its zeros, as ICEWS does (e.g. 040)",
        ),
        ("9x9", "'9x9' is not a CAMEO code: 2 to 4 digits with a root 01-20, as text (e.g. 042)"),
        ("13y", "'13y' is not a CAMEO code: 2 to 4 digits with a root 01-20, as text (e.g. 042)"),
        ("99", "'99' is not a CAMEO code: 2 to 4 digits with a root 01-20, as text (e.g. 042)"),
    ],
)
def test_icews_cameo_codes_that_cannot_be_read(written, message):
    with pytest.raises(PydanticCustomError) as caught:
        icews.parse_cameo(written)
    assert caught.value.message() == message


def test_an_icews_event_id_with_two_dates_is_two_events(db, tmp_path):
    """ICEWS reuses some Event IDs for events on other days: the date is part of the identity."""
    path = _icews_file(tmp_path, {}, {"Event Date": "2022-01-11"}, {"Target Name": "Sergei Ryabkov"})
    assert run("ingest", path, "--db", db).code == 3
    assert rows(db, "SELECT source_ref FROM diplomatic_events ORDER BY line") == [
        ("91000101@2022-01-10",),
        ("91000101@2022-01-11",),
    ]
    assert rows(db, "SELECT line, field, reason FROM rejects") == [
        (4, "ref", 'duplicate ref "91000101@2022-01-10" in this file: the record on line 2 is kept')
    ]


def test_icews_reingest_loads_nothing(db, tmp_path):
    assert run("ingest", ICEWS, "--db", db).code == 0
    assert json.loads(run("ingest", ICEWS, "--db", db, "--json").out)["files"][0]["status"] == "skipped"
    crlf = tmp_path / "icews-crlf.tab"
    crlf.write_bytes(ICEWS.read_bytes().replace(b"\n", b"\r\n"))
    summary = json.loads(run("ingest", crlf, "--db", db, "--json").out)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 10)


def test_both_formats_are_recognised_without_format():
    assert formats.detect(ICEWS).name == "icews"
    assert formats.detect(ACLED).name == "acled"
    assert formats.detect(FIXTURES / "gdelt" / "good" / "20220215171500.export.CSV").name == "gdelt"


def test_acled_rows_keep_dates_classes_actors_and_place(db):
    result = run("ingest", ACLED, "--db", db)
    assert result.code == 0, result.err
    assert rows(
        db,
        """SELECT source_ref, strftime(occurred_at, '%Y-%m-%d'), strftime(occurred_latest, '%Y-%m-%d'), time_precision,
                  event_class, actor_countries, actor1_role, actor2_role, location, location_country,
                  strftime(source_modified, '%Y-%m-%dT%H:%MZ')
           FROM diplomatic_events ORDER BY line""",
    ) == [
        (
            "UKR5001",
            "2022-02-08",
            "2022-02-09",
            "day",
            "agreement",
            [],
            "state forces",
            "rebel group",
            "Horlivka, Donetsk, Ukraine",
            "UKR",
            "2022-02-14T22:40Z",
        ),
        (
            "UKR5002",
            "2022-02-12",
            "2022-02-13",
            "day",
            "other",
            [],
            "protesters",
            None,
            "Kyiv, Kyiv City, Ukraine",
            "UKR",
            "2022-02-15T13:20Z",
        ),
        (
            "UKR5003",
            "2022-02-15",
            "2022-02-16",
            "day",
            "other",
            [],
            "state forces",
            "civilians",
            "Kharkiv, Kharkiv, Ukraine",
            "UKR",
            "2022-02-16T12:00Z",
        ),
        (
            "UKR5004",
            "2022-02-17",
            "2022-02-18",
            "day",
            "military",
            [],
            "rebel group",
            "state forces",
            "Novoluhanske, Donetsk, Ukraine",
            "UKR",
            "2022-02-18T08:00Z",
        ),
        (
            "UKR5005",
            "2022-02-19",
            "2022-02-20",
            "day",
            "military",
            [],
            "state forces",
            "rebel group",
            "Zolote, Luhansk, Ukraine",
            "UKR",
            "2022-02-20T08:00Z",
        ),
        (
            "UKR5006",
            "2022-02-20",
            "2022-02-21",
            "day",
            "military",
            [],
            "state forces",
            None,
            "Bucha, Kyiv, Ukraine",
            "UKR",
            "2022-02-21T08:00Z",
        ),
        # known to the month, but ACLED had coded it by its last edit, 22 Feb 08:00: the month ends there
        (
            "UKR5007",
            "2022-02-01",
            "2022-02-22",
            "month",
            "other",
            [],
            "state forces",
            None,
            "Kyiv, Kyiv City, Ukraine",
            "UKR",
            "2022-02-22T08:00Z",
        ),
    ]
    assert rows(db, "SELECT title, description FROM diplomatic_events WHERE source_ref IN ('UKR5001', 'UKR5005')") == [
        (
            "Strategic developments: Agreement — Military Forces of Ukraine (2019-) / DNR: Donetsk People's Republic",
            "Around 8 February 2022 (week of), Ukrainian forces and DNR forces agreed through the JCCC on a local "
            f"ceasefire so that repair crews could fix a damaged water pipeline near Horlivka. {WEEK}",
        ),
        (
            "Battles: Armed clash — Military Forces of Ukraine (2019-) / LNR: Luhansk People's Republic",
            "On 19 February 2022, Ukrainian forces and LNR forces clashed near Zolote. "
            "One Ukrainian soldier was killed. [fatalities: 1]",
        ),
    ]


@pytest.mark.parametrize(
    ("event_date", "precision", "expected"),
    [
        ("2022-02-15", "1", ("2022-02-15", "2022-02-16", "day", None)),
        ("15 February 2022", "1", ("2022-02-15", "2022-02-16", "day", None)),
        ("5 march  2022", "1", ("2022-03-05", "2022-03-06", "day", None)),
        # about a week: ACLED's (mid-week) day, and the description says so; a month would be wrong here
        ("2022-02-27", "2", ("2022-02-27", "2022-02-28", "day", WEEK)),
        ("28 February 2022", "3", ("2022-02-01", "2022-03-01", "month", None)),
        ("2022-02-01", "3", ("2022-02-01", "2022-03-01", "month", None)),
    ],
)
def test_acled_date_forms_and_time_precision(db, tmp_path, event_date, precision, expected):
    path = _acled_file(tmp_path, {"event_date": event_date, "time_precision": precision})
    assert run("ingest", path, "--db", db).code == 0
    assert rows(
        db,
        "SELECT strftime(occurred_at, '%Y-%m-%d'), strftime(occurred_latest, '%Y-%m-%d'), time_precision, description "
        "FROM diplomatic_events",
    ) == [expected]


@pytest.mark.parametrize(
    ("event_type", "sub_event_type", "event_class"),
    [
        ("Battles", "Armed clash", "military"),
        ("Explosions/Remote violence", "Shelling/artillery/missile attack", "military"),
        ("Explosions/Remote violence", "Air/drone strike", "military"),
        ("Violence against civilians", "Attack", "military"),
        ("Protests", "Peaceful protest", "other"),
        ("Riots", "Mob violence", "other"),
        ("Strategic developments", "Agreement", "agreement"),
        ("Strategic developments", "Arrests", "other"),
        ("Strategic developments", "Change to group/activity", "other"),
        ("Strategic developments", "Disrupted weapons use", "military"),
        ("Strategic developments", "Headquarters or base established", "military"),
        ("Strategic developments", "Looting/property destruction", "other"),
        ("Strategic developments", "Non-violent transfer of territory", "military"),
        ("Strategic developments", "Other", "other"),
        ("Strategic developments", None, "other"),
        ("Strategic Developments", "agreement", "agreement"),  # ACLED's codebook capitalises it
    ],
)
def test_acled_event_classes(event_type, sub_event_type, event_class):
    assert acled.event_class(event_type, sub_event_type) == event_class


def test_a_newer_acled_timestamp_updates_in_place_and_an_older_one_does_not(db, tmp_path):
    first = _acled_file(tmp_path, {"notes": "First report.", "timestamp": "1645000000"}, name="a.csv")
    newer = _acled_file(tmp_path, {"notes": "Revised.", "fatalities": "2", "timestamp": "1645100000"}, name="b.csv")
    older = _acled_file(tmp_path, {"notes": "Stale copy.", "timestamp": "1644900000"}, name="c.csv")
    assert run("ingest", first, "--db", db).code == 0
    event_id = scalar(db, "SELECT event_id FROM diplomatic_events")
    counts = [json.loads(run("ingest", path, "--db", db, "--json").out) for path in (newer, older)]
    assert [(c["inserted"], c["updated"], c["unchanged"]) for c in counts] == [(0, 1, 0), (0, 0, 1)]
    assert rows(db, "SELECT event_id, description, epoch(source_modified)::BIGINT FROM diplomatic_events") == [
        (event_id, "Revised. [fatalities: 2]", 1645100000)
    ]


def test_acled_reingest_loads_nothing(db, tmp_path):
    assert run("ingest", ACLED, "--db", db).code == 0
    assert json.loads(run("ingest", ACLED, "--db", db, "--json").out)["files"][0]["status"] == "skipped"
    crlf = tmp_path / "acled-crlf.csv"
    crlf.write_bytes(ACLED.read_bytes().replace(b"\n", b"\r\n"))
    summary = json.loads(run("ingest", crlf, "--db", db, "--json").out)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 7)


def test_an_older_acled_export_loads_and_countries_come_from_iso_or_name(db, tmp_path):
    """Pre-2023 exports have data_id, event_id_no_cnty and iso3, not disorder_type,
    civilian_targeting or tags; `iso` is ISO numeric, zero-padded to look it up."""
    old = [c for c in acled.COLUMNS if c not in ("disorder_type", "civilian_targeting", "tags")]
    path = _acled_file(
        tmp_path,
        {"event_id_cnty": "AFG1", "iso": "4", "country": "Afghanistan", "inter1": "State forces"},
        {"event_id_cnty": "XKX1", "iso": "0", "country": "Kosovo", "inter1": "0"},
        {"event_id_cnty": "UKR1", "iso": "", "country": "Ukraine", "inter1": "8"},
        columns=["data_id", "event_id_no_cnty", *old, "iso3"],
    )
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT source_ref, location_country, actor1_role FROM diplomatic_events ORDER BY line") == [
        ("AFG1", "AFG", "state forces"),
        ("XKX1", "XKX", None),
        ("UKR1", "UKR", "external/other forces"),
    ]


def test_icews_quotes_nothing_so_a_quote_is_a_character(db, tmp_path):
    header = (FIXTURES / "icews" / "good" / "icews-2022-02.tab").read_text("utf-8").splitlines()[0]
    row = '1\t2022-02-15\t"Islamic State" (Iraq)\tInsurgents\tIraq\tThreaten\t130\t-4.4\tCitizen (Iraq)\tNA\t'
    row += "Iraq\t2\t1\tX"
    path = tmp_path / "quoted.tab"
    path.write_text(f"{header}\n{row}\tNA\tNA\tNA\tIraq\t33\t44\n", "utf-8")
    assert run("ingest", path, "--db", db).code == 0
    assert scalar(db, "SELECT actor1 FROM diplomatic_events") == '"Islamic State" (Iraq)'
