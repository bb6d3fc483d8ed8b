"""DCID 2.0 (Dyadic Cyber Incident and Campaign Dataset): the xlsx workbook and a CSV export
of its incident sheet, through the real CLI into a real store."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import FIXTURES, rows, run, scalar
from pydantic import ValidationError

from ingest.formats import dcid

GOOD = FIXTURES / "dcid" / "good" / "DCID_2.0_Release_update_February_2023.xlsx"
BAD = FIXTURES / "dcid" / "bad"
UPDATE, RELEASE_2020 = "DCID_2.0_Release_update_Februar", "DCID_2.0_Release_public_June_20"
BLANK = {"blank campaign line (method 0)": 1}


def _ingest(db: Path, path: Path) -> dict[str, object]:
    result = run("ingest", path, "--db", db, "--json")
    assert "Traceback" not in result.err
    (file,) = json.loads(result.out)["files"]
    return dict(file)


def _csv_export(tmp_path: Path, sheet: str = UPDATE) -> Path:
    """The sheet as Excel's "CSV (Comma delimited)" writes it: dates as M/D/YYYY, 2.0 as 2,
    header names as written (the trailing space of "Concession ", the unnamed column empty)."""
    book = openpyxl.load_workbook(GOOD)
    path = tmp_path / "DCID_2.0_update.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        for values in book[sheet].iter_rows(values_only=True):
            writer.writerow([_as_excel_shows(value) for value in values])
    return path


def _as_excel_shows(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value.month}/{value.day}/{value.year}"
    if isinstance(value, float):
        return format(value, "g")
    return "" if value is None else str(value)


def test_the_update_sheet_loads_and_the_blank_campaign_line_is_skipped(db):
    file = _ingest(db, GOOD)
    assert (file["status"], file["format"], file["records_read"], file["inserted"], file["rejected"]) == (
        "loaded",
        "dcid",
        14,
        13,
        0,
    )
    assert file["skipped"] == BLANK
    assert rows(db, "SELECT DISTINCT split_part(source_ref, ':', 2) FROM incidents") == [(UPDATE,)]
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0  # the ICEWS counts are not events


def test_notpetya_is_one_critical_intrusion_on_ukraine_by_russia(db):
    assert _ingest(db, GOOD)["status"] == "loaded"
    (notpetya,) = rows(
        db,
        """SELECT source, source_ref, line, title, attack_types, strftime(started_at, '%Y-%m-%d'), time_precision,
                  strftime(ended_at, '%Y-%m-%d'), ended_precision, evidence, severity, url, description
           FROM incidents WHERE title = 'NotPetya'""",
    )
    assert notpetya == (
        "dcid",
        f"dcid:{UPDATE}:205",
        6,
        "NotPetya",
        ["intrusion"],
        "2017-06-27",
        "day",
        "2017-06-28",
        "day",
        "reported",
        "critical",
        "https://www.cisa.gov/news-events/alerts/2017/07/01/petya-ransomware",
        "DCID codes: method 4.3 (worm); targettype 1; severity 7; cyber_objective 1; initiator COW 365; "
        "Dyadpair 365369",
    )


def test_datevalue_text_is_read_as_the_day_it_names(db):
    assert _ingest(db, GOOD)["status"] == "loaded"
    assert rows(
        db,
        """SELECT split_part(source_ref, ':', 3), strftime(started_at, '%Y-%m-%d'), strftime(ended_at, '%Y-%m-%d'),
                  time_precision FROM incidents WHERE split_part(source_ref, ':', 3) IN ('202', '210') ORDER BY line""",
    ) == [("202", "2014-03-04", "2014-03-07", "day"), ("210", "2014-03-20", "2015-06-04", "day")]


def test_methods_targettypes_and_severities_map_with_the_codes_kept(db):
    assert _ingest(db, GOOD)["status"] == "loaded"
    found = rows(
        db,
        """SELECT split_part(source_ref, ':', 3), attack_types, regexp_extract(description, 'method ([^;]+)', 1),
                  t.sector, severity, regexp_extract(description, 'severity (\\d+)', 1)
           FROM incidents JOIN incident_targets t USING (incident_id) ORDER BY line""",
    )
    assert found == [
        ("201", ["intrusion"], "3 (network intrusion)", "government", "medium", "3"),
        ("202", ["ddos"], "2 (denial of service)", "government", "low", "2"),
        ("203", ["intrusion"], "4.2 (virus)", None, "high", "6"),
        ("204", ["intrusion"], "4.1 (logic bomb)", None, "high", "6"),
        ("205", ["intrusion"], "4.3 (worm)", None, "critical", "7"),
        ("207", ["intrusion"], "3.1 (network intrusion)", None, "medium", "4"),
        ("208", ["ddos"], "2 (denial of service)", None, "low", "2"),
        ("209", ["intrusion"], "3.1 (network intrusion)", "government", "medium", "4"),
        ("210", ["intrusion"], "3 (network intrusion)", "government", "medium", "4"),
        ("211", ["ddos"], "2 (denial of service)", None, "low", "2"),
        ("212", ["intrusion"], "4.2 (virus)", None, "high", "5"),
        ("213", ["defacement"], "1 (vandalism)", "government", "low", "2"),
        ("214", ["intrusion"], "3 (network intrusion)", "military", "medium", "4"),
    ]


def test_the_initiator_is_the_actor_and_the_other_state_the_target(db):
    assert _ingest(db, GOOD)["status"] == "loaded"
    found = rows(
        db,
        """SELECT split_part(source_ref, ':', 3), a.actor, a.actor_raw, a.role, a.attributed_by, a.country,
                  a.country_raw, a.actor_type, t.country, t.country_raw
           FROM incidents JOIN incident_actors a USING (incident_id) JOIN incident_targets t USING (incident_id)
           WHERE split_part(source_ref, ':', 3) IN ('205', '207', '208', '210', '211', '212') ORDER BY line""",
    )
    assert found == [
        ("205", "Russia", "Russia (state)", "attributed", None, "RUS", "Russia", "state", "UKR", "Ukraine"),
        ("207", "Russia", "Russia (state)", "attributed", None, "RUS", "Russia", "state", "USA", "US"),
        ("208", "United States", "United States (state)", "attributed", None, "USA", "US", "state", "RUS", "Russia"),
        ("210", "China", "China (state)", "attributed", None, "CHN", "China", "state", "USA", "US"),
        ("211", "Iran", "Iran (state)", "attributed", None, "IRN", "Iran", "state", "USA", "US"),
        ("212", "North Korea", "North Korea (state)", "attributed", None, "PRK", "N Korea", "state", "KOR", "S Korea"),
    ]
    # the store keeps "Russia (state)" as written and files it under Russia (galaxy.tidy);
    # a row without a Name is titled by its states, never left blank
    assert scalar(db, "SELECT title FROM incidents WHERE source_ref LIKE '%:208'") == (
        "United States (state) against Russia (DCID 208)"
    )


def test_a_workbook_with_only_the_2020_sheet_loads_that_sheet(db, tmp_path):
    book = openpyxl.load_workbook(GOOD)
    book.remove(book[UPDATE])
    only_2020 = tmp_path / "DCID_2.0_Release_public_June_2020.xlsx"
    book.save(only_2020)
    file = _ingest(db, only_2020)
    assert (file["status"], file["inserted"], file["skipped"]) == ("loaded", 3, {})
    assert rows(db, "SELECT source_ref, title FROM incidents ORDER BY line") == [
        (f"dcid:{RELEASE_2020}:155", "BlackEnergy power grid attack"),
        (f"dcid:{RELEASE_2020}:156", "NotPetya"),
        (f"dcid:{RELEASE_2020}:157", "DNC intrusion"),
    ]


def test_the_csv_export_is_recognised_and_read_like_the_sheet(db, tmp_path):
    exported = _csv_export(tmp_path)
    assert exported.read_text("utf-8").startswith("Cyberincidentnum,Dyadpair,StateA,StateB,Name,")
    assert ",Concession ," in exported.read_text("utf-8")
    file = _ingest(db, exported)  # no --format: its header says DCID
    assert (file["status"], file["format"], file["inserted"], file["skipped"]) == ("loaded", "dcid", 13, BLANK)
    assert rows(
        db,
        """SELECT source_ref, line, strftime(started_at, '%Y-%m-%d'), strftime(ended_at, '%Y-%m-%d'), severity
           FROM incidents WHERE line IN (3, 6, 11) ORDER BY line""",
    ) == [
        (f"dcid:{UPDATE}:202", 3, "2014-03-04", "2014-03-07", "low"),  # =DATEVALUE("3/4/2014") as Excel wrote it
        (f"dcid:{UPDATE}:205", 6, "2017-06-27", "2017-06-28", "critical"),
        (f"dcid:{UPDATE}:210", 11, "2014-03-20", "2015-06-04", "medium"),
    ]


def test_the_workbook_and_its_csv_export_are_the_same_records(db, tmp_path):
    assert _ingest(db, _csv_export(tmp_path))["inserted"] == 13
    again = _ingest(db, GOOD)
    assert (again["status"], again["inserted"], again["updated"], again["unchanged"]) == ("loaded", 0, 0, 13)


def test_a_csv_export_of_the_2020_sheet_is_known_by_its_missing_icews_columns(db, tmp_path):
    file = _ingest(db, _csv_export(tmp_path, RELEASE_2020))
    assert (file["status"], file["inserted"]) == ("loaded", 3)
    assert scalar(db, "SELECT min(source_ref) FROM incidents") == f"dcid:{RELEASE_2020}:155"


@pytest.mark.parametrize(
    ("fault", "field", "reason"),
    [
        ("end_before_start", "interactionenddate", "2016-02-01 is before interactionstartdate 2016-03-01"),
        (
            "initiator_not_in_dyad",
            "initiator",
            "710 is the COW number of neither StateA 'Russia' (COW 365) nor StateB 'Ukraine' (COW 369)",
        ),
        (
            "unknown_method",
            "method",
            "'5' is not a DCID method code: 1, 2, 3, 3.x, 4 or 4.x (0 marks a blank line)",
        ),
        ("severity_out_of_range", "severity", "'12' is not a DCID severity: a whole number 0 to 10"),
        (
            "bad_date",
            "interactionstartdate",
            "'sometime in 2015' is not a date: expected an Excel date, M/D/YYYY or =DATEVALUE(\"M/D/YYYY\")",
        ),
    ],
)
def test_a_bad_row_is_one_reject_at_its_sheet_row_and_the_others_load(db, fault, field, reason):
    file = _ingest(db, BAD / f"{fault}.xlsx")
    assert (file["status"], file["inserted"], file["rejected"]) == ("loaded", 2, 1)
    assert rows(db, "SELECT line, pointer, field, reason FROM rejects") == [(3, None, field, reason)]
    assert rows(db, "SELECT line FROM incidents ORDER BY line") == [(2,), (4,)]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (
            "missing_initiator_column",
            f"sheet '{UPDATE}', row 1: missing required column(s) initiator; expected columns: 3rdpartyinitiator, ",
        ),
        (
            "no_dcid_sheet",
            "no DCID incident sheet: expected one named DCID_2.0_Release_update_... or DCID_2.0_Release_public_...; "
            "the workbook's sheets are 'Sheet1'",
        ),
        ("truncated_workbook", "not a readable zip file: File is not a zip file"),
        (
            "decompression_bomb",
            "unpacks to more than 268,435,456 bytes (100x its compressed size): refused as a decompression bomb",
        ),
    ],
)
def test_a_bad_workbook_fails_with_a_message_and_stores_nothing(db, fault, error):
    result = run("ingest", BAD / f"{fault}.xlsx", "--format", "dcid", "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    (file,) = json.loads(result.out)["files"]
    assert file["status"] == "failed"
    assert file["error"].startswith(error), file["error"]
    assert scalar(db, "SELECT count(*) FROM incidents") == 0


def test_an_xlsx_part_that_is_not_xml_fails_the_file(db, tmp_path):
    """A workbook whose sheet part is damaged inside an intact zip: openpyxl's error becomes
    the file's message, not a traceback."""
    import zipfile

    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(GOOD) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, data[: len(data) // 2] if info.filename.endswith("sheet2.xml") else data)
    file = _ingest(db, broken)
    assert file["status"] == "failed"
    assert str(file["error"]).startswith("not a readable xlsx workbook: ")


@pytest.mark.parametrize(
    ("code", "expected"),
    [(0, "low"), (2, "low"), (3, "medium"), (4, "medium"), (5, "high"), (6, "high"), (7, "critical"), (10, "critical")],
)
def test_severity_scale(code, expected):
    assert dcid.severity(code) == expected


@pytest.mark.parametrize(
    ("cow", "alpha3"),
    [
        (2, "USA"),
        (200, "GBR"),
        (255, "DEU"),
        (365, "RUS"),
        (369, "UKR"),
        (630, "IRN"),
        (666, "ISR"),
        (710, "CHN"),
        (731, "PRK"),
        (732, "KOR"),
        (740, "JPN"),
        (713, "TWN"),
        (347, "XKX"),
    ],
)
def test_cow_numbers_are_not_iso_numbers(cow, alpha3):
    found = dcid.cow_state(cow)
    assert found is not None and found[0] == alpha3


@pytest.mark.parametrize(
    ("name", "cow", "alpha3"),
    [
        ("US", 2, "USA"),
        ("UK", 200, "GBR"),
        ("N Korea", 731, "PRK"),
        ("S Korea", 732, "KOR"),
        ("Russia", 365, "RUS"),
        ("Iran", 630, "IRN"),
        ("Viet Nam", 816, "VNM"),  # not in the table: by its ISO name
        ("Somaliland", None, None),  # no state of COW's or ISO's: kept as written
    ],
)
def test_state_names(name, cow, alpha3):
    found = dcid.state(name)
    assert (found.raw, found.cow, found.alpha3) == (name, cow, alpha3)


def _row(**cells: str) -> dcid.DcidIncident:
    base = {"sheet": UPDATE, "Cyberincidentnum": "9", "StateA": "Russia", "StateB": "Ukraine"}
    base |= {"interactionstartdate": "2015-12-23", "method": "2", "initiator": "365"}
    return dcid.DcidIncident.model_validate(base | cells)


def test_a_state_outside_the_cow_table_is_told_by_elimination_and_kept_raw():
    incident = dcid.convert(_row(StateA="Somaliland", StateB="Ukraine", initiator="999"))
    (actor,) = incident.actors
    assert (actor.actor, actor.country, actor.country_raw) == ("Somaliland (state)", None, "Somaliland")
    assert incident.targets[0].country == "UKR"
    assert "initiator COW 999" in (incident.description or "")


@pytest.mark.parametrize(
    ("value", "written"), [("1", "1"), ("2.0", "2"), ("3", "3"), ("3.1", "3.1"), ("4.20", "4.2"), ("4.4", "4.4")]
)
def test_method_codes_are_kept_as_dcid_writes_them(value, written):
    assert _row(method=value).method == written


NOT_A_METHOD = " is not a DCID method code: 1, 2, 3, 3.x, 4 or 4.x (0 marks a blank line)"


@pytest.mark.parametrize(
    ("value", "message"),
    [(v, f"'{v}'" + NOT_A_METHOD) for v in ("5", "1.5", "2.5", "-1", "10")]
    + [("x", "'x' is not a number"), ("nan", "'nan' is not a number"), ("1e999999", "'1e999999' is not a number")],
)
def test_other_method_codes_are_refused(value, message):
    with pytest.raises(ValidationError) as caught:
        _row(method=value)
    assert [(e["loc"], e["msg"]) for e in caught.value.errors(include_url=False)] == [(("method",), message)]


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (datetime(2015, 12, 23), "2015-12-23"),
        (datetime(2015, 12, 23, 10, 30), "2015-12-23T10:30:00"),
        (2.0, "2"),
        (4.2, "4.2"),
        (365369, "365369"),
        ('=DATEVALUE("3/14/2010")', '=DATEVALUE("3/14/2010")'),
        ("  ", None),
        (None, None),
    ],
)
def test_cells_read_as_the_csv_export_writes_them(cell, text):
    assert dcid.cell_text(cell) == text


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2010-03-14", "2010-03-14"),
        ("3/14/2010", "2010-03-14"),
        ('=DATEVALUE("3/14/2010")', "2010-03-14"),
        ("2010-03-14 00:00:00", "2010-03-14"),
    ],
)
def test_dates(text, day):
    assert _row(interactionstartdate=text).interactionstartdate.at.date().isoformat() == day


def test_the_good_fixture_is_what_make_fixture_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixture", FIXTURES / "dcid" / "make_fixture.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    again = module.write(tmp_path / "again.xlsx")
    assert _cells(again) == _cells(GOOD)  # what it holds; its bytes depend on openpyxl's version


def _cells(path):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()
