"""UCDP GED: final and candidate releases (with and without a header), kept as vintages."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pycountry
import pytest
from conftest import FIXTURES, rows, run, scalar
from conftest import GOOD as GOOD_FIXTURES

from ingest import formats
from ingest.formats import ucdp_ged

GOOD = FIXTURES / "ucdp_ged" / "good" / "GEDEvent_v24_1.csv"


def _good_rows() -> tuple[list[str], list[list[str]]]:
    header, *body = list(csv.reader(io.StringIO(GOOD.read_text("utf-8"), newline="")))
    return header, body


def _ged_file(tmp_path, name, *edits, header=True, columns=None):
    """A GED file named `name`: the good fixture's first row once per edit (column -> cell)."""
    names, body = _good_rows()
    first = dict(zip(names, body[0], strict=True))
    columns = columns or names
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC if header else csv.QUOTE_MINIMAL, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for edit in edits:
        writer.writerow([{**first, **edit}[column] for column in columns])
    path = tmp_path / name
    path.write_text(out.getvalue(), "utf-8")
    return path


def _ingest(path, db, *extra):
    result = run("ingest", path, "--db", db, "--json", *extra)
    assert result.code in (0, 3), result.err
    return json.loads(result.out)["files"][0]


def test_the_final_release_loads_every_event_as_a_military_event(db):
    file = _ingest(GOOD, db)
    assert (file["format"], file["records_read"], file["inserted"], file["rejected"]) == ("ucdp_ged", 18, 18, 0)
    assert rows(db, "SELECT DISTINCT event_class, cameo_code, url FROM diplomatic_events") == [("military", None, None)]
    assert rows(
        db,
        """SELECT source_ref, strftime(occurred_at, '%Y-%m-%d'), strftime(occurred_latest, '%Y-%m-%d'),
                  time_precision, title, actor_countries, actor1, actor1_code, actor1_country, actor2,
                  actor2_code, actor2_country, location, location_country, location_precision, latitude,
                  longitude, fatalities_best, fatalities_low, fatalities_high, sources
           FROM diplomatic_events WHERE source_ref IN ('ucdp:447101', 'ucdp:447201', 'ucdp:447501')
           ORDER BY line""",
    ) == [
        (
            "ucdp:447101",
            "2022-01-12",
            "2022-01-13",
            "day",
            "Government of Ukraine - DPR",
            ["UKR"],
            "Government of Ukraine",
            "369",
            "UKR",
            "DPR",
            None,  # a non-state side has no GW number, and no country is guessed from its name
            None,
            "Zolote town, Popasna raion, Luhansk oblast, Ukraine",
            "UKR",
            "1",
            48.6939,
            38.5175,
            1,
            1,
            1,
            2,
        ),
        (
            "ucdp:447201",
            "2022-02-24",
            "2022-02-25",
            "day",
            "Government of Russia (Soviet Union) - Government of Ukraine",
            ["RUS", "UKR"],
            "Government of Russia (Soviet Union)",
            "365",
            "RUS",
            "Government of Ukraine",
            "369",
            "UKR",
            "Kharkiv city, Kharkiv raion, Kharkiv oblast, Ukraine",
            "UKR",
            "1",
            49.9935,
            36.2304,
            25,
            20,
            40,
            3,
        ),
        (
            "ucdp:447501",
            "2022-02-10",
            "2022-02-11",
            "day",
            "JNIM - IS",
            [],
            "JNIM",
            None,
            None,
            "IS",
            None,
            None,
            "Tamalat village, Menaka cercle, Menaka region, Mali",
            "MLI",
            "1",
            15.9182,
            2.4022,
            20,
            15,
            40,
            1,
        ),
    ]


def test_the_description_carries_violence_deaths_precisions_codes_and_release(db):
    _ingest(GOOD, db)
    assert scalar(db, "SELECT description FROM diplomatic_events WHERE source_ref = 'ucdp:447107'") == (
        "state-based conflict (type_of_violence 1); deaths best 2 (low 1, high 3); "
        "date_prec 2: a span of 2-6 days; where_prec 4: ADM1 (its centroid); GW country_id 369; gwnoa 369; "
        "conflict Ukraine: Novorossiya; code_status Clear; relid UKR-2022-1-14347-107; UCDP release 24.1"
    )


@pytest.mark.parametrize(
    ("ref", "span", "precision"),
    [
        ("ucdp:447106", ("2022-02-15", "2022-02-16"), "day"),  # date_prec 1: the day
        ("ucdp:447107", ("2022-02-15", "2022-02-17"), "day"),  # 2: the span, [start, end + 1 day)
        ("ucdp:447204", ("2022-02-26", "2022-03-01"), "day"),
        ("ucdp:447103", ("2022-01-01", "2022-02-01"), "month"),  # 4: the month
    ],
)
def test_dates_are_the_interval_the_source_gives(db, ref, span, precision):
    _ingest(GOOD, db)
    assert rows(
        db,
        "SELECT strftime(occurred_at, '%Y-%m-%d'), strftime(occurred_latest, '%Y-%m-%d'), time_precision "
        "FROM diplomatic_events WHERE source_ref = $ref",
        {"ref": ref},
    ) == [(*span, precision)]


def test_candidate_times_a_known_week_and_year_and_days_past_a_month(tmp_path, db):
    path = _ged_file(
        tmp_path,
        "GEDEvent_v24_0_2.csv",
        {"id": "1", "date_prec": "3", "date_start": "2022-02-14 00:00:00.000", "date_end": "2022-02-20 00:00:00.000"},
        {"id": "2", "date_prec": "5", "date_start": "2022-01-01", "date_end": "2022-12-31"},
        {"id": "3", "date_prec": "4", "date_start": "2022-01-20", "date_end": "2022-02-10"},  # widened to months
    )
    assert _ingest(path, db)["inserted"] == 3
    assert rows(
        db,
        "SELECT source_ref, strftime(occurred_at, '%Y-%m-%d'), strftime(occurred_latest, '%Y-%m-%d'), "
        "time_precision FROM diplomatic_events ORDER BY line",
    ) == [
        ("ucdp:1", "2022-02-14", "2022-02-21", "day"),
        ("ucdp:2", "2022-01-01", "2023-01-01", "year"),
        ("ucdp:3", "2022-01-01", "2022-03-01", "month"),
    ]


def test_gw_numbers_are_read_through_the_crosswalk_and_never_guessed(tmp_path, db):
    path = _ged_file(
        tmp_path,
        "GEDEvent_v24_1.csv",
        {"id": "1", "gwnoa": "2, 200", "gwnob": "369", "country_id": "260"},  # a coalition; Germany is GW 260
        {"id": "2", "gwnoa": "999", "gwnob": "", "country_id": "255"},  # 999: no state; 255 is COW's Germany
        {"id": "3", "country_id": "265", "gwnoa": "315"},  # the GDR and Czechoslovakia: no ISO continuator
    )
    assert _ingest(path, db)["inserted"] == 3
    assert rows(
        db,
        "SELECT source_ref, actor_countries, actor1_code, actor1_country, actor2_country, location_country "
        "FROM diplomatic_events ORDER BY line",
    ) == [
        ("ucdp:1", ["GBR", "UKR", "USA"], "2, 200", None, "UKR", "DEU"),
        ("ucdp:2", [], "999", None, None, None),
        ("ucdp:3", [], "315", None, None, None),
    ]
    described = scalar(db, "SELECT description FROM diplomatic_events WHERE source_ref = 'ucdp:2'")
    assert "GW country_id 255; gwnoa 999;" in str(described)


def test_the_crosswalk_holds_iso_codes_and_the_states_cow_numbers_differently():
    table = ucdp_ged.gw_countries()
    assert {gw: table[gw] for gw in ("2", "200", "260", "365", "369", "340", "345", "347")} == {
        "2": "USA",
        "200": "GBR",
        "260": "DEU",
        "365": "RUS",
        "369": "UKR",
        "340": "SRB",
        "345": "SRB",
        "347": "XKX",
    }
    assert "255" not in table and table["265"] is None
    unknown = [code for code in table.values() if code and code != "XKX" and not pycountry.countries.get(alpha_3=code)]
    assert unknown == []
    assert len(table) >= 170


REJECTS = [
    ({"low": "3"}, "best", "1 is below low (3): UCDP's estimates run low <= best <= high"),
    ({"high": "0"}, "high", "0 is below best (1): UCDP's estimates run low <= best <= high"),
    ({"best": "-1", "low": "0"}, "best", "Input should be greater than or equal to 0"),
    ({"date_end": "2022-01-11"}, "date_end", "2022-01-11 is before date_start 2022-01-12"),
    (
        {"date_start": "12/01/2022"},
        "date_start",
        "'12/01/2022' is not a date: use YYYY-MM-DD (or YYYY-MM-DD 00:00:00.000)",
    ),
    (
        {"date_end": "2022-02-30"},
        "date_end",
        "'2022-02-30' is not a date: use YYYY-MM-DD (or YYYY-MM-DD 00:00:00.000)",
    ),
    (
        {"date_start": "2022-01-12 13:45:00"},
        "date_start",
        "'2022-01-12 13:45:00' is not a date: use YYYY-MM-DD (or YYYY-MM-DD 00:00:00.000)",
    ),
    (
        {"type_of_violence": "4"},
        "type_of_violence",
        "'4' is not a UCDP type_of_violence: 1 state-based conflict, 2 non-state conflict, 3 one-sided violence",
    ),
    (
        {"date_prec": "6"},
        "date_prec",
        "'6' is not a UCDP date_prec: 1 the day, 2 a span of 2-6 days, 3 a known week, 4 a known month, 5 a known year",
    ),
    (
        {"where_prec": "0"},
        "where_prec",
        "'0' is not a UCDP where_prec: " + ", ".join(f"{code} {words}" for code, words in ucdp_ged.WHERE.items()),
    ),
    (
        {"gwnoa": "RUS"},
        "gwnoa",
        "'RUS' is not a Gleditsch-Ward state number, or a comma-separated list of them",
    ),
    ({"country_id": "369, 365"}, "country_id", "'369, 365' is not one Gleditsch-Ward state number"),
    ({"country_id": ""}, "country_id", "required, but blank"),
    ({"dyad_name": ""}, "dyad_name", "required, but blank"),
    ({"latitude": "91"}, "latitude", "Input should be less than or equal to 90"),
    ({"best": "3000000000", "high": "3000000000"}, "best", "Input should be less than or equal to 2147483647"),
]


@pytest.mark.parametrize(("edit", "field", "reason"), REJECTS, ids=[r[1] + ":" + r[2][:30] for r in REJECTS])
def test_a_bad_record_is_rejected_naming_the_field_and_the_others_load(tmp_path, db, edit, field, reason):
    path = _ged_file(tmp_path, "GEDEvent_v24_1.csv", {"id": "1"}, {"id": "2", **edit}, {"id": "3"})
    file = _ingest(path, db)
    assert (file["inserted"], file["rejected"]) == (2, 1)
    assert rows(db, "SELECT line, field, reason FROM rejects") == [(3, field, reason)]


def test_a_headerless_candidate_file_is_read_as_the_current_49_columns(tmp_path, db):
    _, body = _good_rows()
    path = _ged_file(
        tmp_path,
        "GEDEvent_v24_0_1.csv",
        {"id": "11", "date_start": "2022-01-12 00:00:00.000", "date_end": "2022-01-12 00:00:00.000"},
        {"id": "12", "code_status": "Check deaths"},
        header=False,
    )
    with path.open("a", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerow(body[1][:48])  # a line one field short
    result = run("ingest", path, "--db", db, "--json")  # recognised without --format
    assert result.code == 3, result.err
    file = json.loads(result.out)["files"][0]
    assert (file["format"], file["inserted"], file["rejected"]) == ("ucdp_ged", 2, 1)
    assert rows(db, "SELECT line, field, reason FROM rejects") == [
        (3, None, "expected 49 fields (a headerless UCDP file has the current release's), found 48")
    ]
    assert rows(db, "SELECT source_ref, strftime(occurred_at, '%Y-%m-%d') FROM diplomatic_events ORDER BY line") == [
        ("ucdp:11", "2022-01-12"),
        ("ucdp:12", "2022-01-12"),
    ]
    described = str(scalar(db, "SELECT description FROM diplomatic_events WHERE source_ref = 'ucdp:12'"))
    assert described.endswith("code_status Check deaths; relid UKR-2022-1-14346-101; UCDP release 24.0.1")


def test_a_header_in_another_order_is_read_by_its_names_not_by_position(tmp_path, db):
    names, _ = _good_rows()
    path = _ged_file(tmp_path, "GEDEvent_v24_0_2.csv", {"id": "6", "number_of_sources": "-1"}, columns=names[::-1])
    assert _ingest(path, db)["inserted"] == 1
    assert rows(db, "SELECT source_ref, title, fatalities_best, sources FROM diplomatic_events") == [
        ("ucdp:6", "Government of Ukraine - DPR", 1, None)  # -1: not recorded
    ]


def test_an_older_release_with_fewer_columns_is_read_by_name(tmp_path, db):
    names, _ = _good_rows()
    newer = {"relid", "code_status", "conflict_dset_id", "dyad_dset_id", "side_a_dset_id", "side_b_dset_id"}
    old = [name for name in names if name not in newer | {"where_description"}]
    assert len(old) == 42
    path = _ged_file(tmp_path, "GEDEvent_v19_1.csv", {"id": "5"}, columns=old)
    assert _ingest(path, db)["inserted"] == 1
    assert rows(db, "SELECT source_ref, location FROM diplomatic_events") == [
        ("ucdp:5", "Popasna raion, Luhansk oblast, Ukraine")
    ]


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("GEDEvent_v24_1.csv", "24.1"),
        ("GEDEvent_v25_1.csv", "25.1"),
        ("GEDEvent_v24_0_3.csv", "24.0.3"),
        ("GEDEvent_v24_0_12.csv", "24.0.12"),
        ("GEDEvent_v24_01_24_03.csv", "24.01.24.03"),
        ("GEDEvent_v23_01_23_12.csv", "23.01.23.12"),
        ("gedevent_v24_1.CSV", "24.1"),
        ("GEDEvent_v24_0_13.csv", None),  # no thirteenth month
        ("GEDEvent_v24_01_23_03.csv", None),  # a cumulative file spans one year
        ("ged241.csv", None),
        ("GEDEvent_v24_1 (1).csv", None),
        ("unpacked", None),
    ],
)
def test_the_release_is_read_from_ucdps_file_name(name, release):
    assert ucdp_ged.release_of(name) == release


def test_releases_are_ordered_numerically_a_final_after_its_candidates():
    order = ["23.0.12", "23.01.23.12", "24.0.1", "24.0.3", "24.01.24.03", "24.0.4", "24.0.12", "24.1", "25.0.1"]
    stamps = [ucdp_ged.release_stamp(release) for release in order]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert ucdp_ged.release_stamp("24.1") == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=24_010_000)


def _vintage(tmp_path, name, deaths):
    folder = tmp_path / name.removesuffix(".csv")
    folder.mkdir()
    return _ged_file(folder, name, {"id": "9001", "best": deaths, "high": deaths, "deaths_a": deaths})


def test_a_later_vintage_replaces_the_event_and_the_ledger_names_its_file(tmp_path, db):
    candidate, final = _vintage(tmp_path, "GEDEvent_v24_0_3.csv", "1"), _vintage(tmp_path, "GEDEvent_v24_1.csv", "4")
    assert _ingest(candidate, db)["inserted"] == 1
    assert _ingest(final, db)["updated"] == 1
    assert rows(
        db,
        "SELECT e.fatalities_best, f.path FROM diplomatic_events e JOIN ingest_files f USING (file_id)",
    ) == [(4, str(final.resolve()))]


def test_an_earlier_vintage_loaded_later_leaves_the_newer_copy(tmp_path, db):
    candidate, final = _vintage(tmp_path, "GEDEvent_v24_0_3.csv", "1"), _vintage(tmp_path, "GEDEvent_v24_1.csv", "4")
    assert _ingest(final, db)["inserted"] == 1
    older = _ingest(candidate, db)
    assert (older["inserted"], older["updated"], older["unchanged"]) == (0, 0, 1)  # stale: counted unchanged
    assert rows(
        db,
        "SELECT e.fatalities_best, e.description LIKE '%UCDP release 24.1', f.path "
        "FROM diplomatic_events e JOIN ingest_files f USING (file_id)",
    ) == [(4, True, str(final.resolve()))]


def test_a_file_not_named_as_ucdp_names_them_loads_with_its_release_unknown(tmp_path, db):
    path = _ged_file(tmp_path, "ucdp-feb-2022.csv", {"id": "77"})
    assert _ingest(path, db)["inserted"] == 1
    assert rows(db, "SELECT source_modified, description LIKE '%; UCDP release unknown%' FROM diplomatic_events") == [
        (None, True)
    ]


def test_only_ucdp_files_are_recognised_as_ucdp(tmp_path):
    head = GOOD.read_bytes()[:4096]
    assert ucdp_ged.FORMAT.sniff(head)
    _, body = _good_rows()
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerow(body[0])  # every cell quoted, as some candidates are
    headerless = out.getvalue().encode()
    assert ucdp_ged.FORMAT.sniff(headerless)
    assert not ucdp_ged.FORMAT.sniff(b'"id","title","date"\n1,x,2022-02-15\n')
    assert not ucdp_ged.FORMAT.sniff(",".join(["x"] * 49).encode())
    for other in formats.names():
        if other != "ucdp_ged":
            sample = (FIXTURES / GOOD_FIXTURES[other]).read_bytes()[:65536]
            assert not ucdp_ged.FORMAT.sniff(sample), other


def test_a_zipped_final_release_is_read_as_the_release_inside_it(tmp_path, db):
    """`ged241-csv.zip` as UCDP publishes it: the member's name gives the release."""
    import zipfile

    packed = tmp_path / "ged241-csv.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(GOOD, GOOD.name)
    assert run("ingest", packed, "--db", db).code == 0
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE description LIKE '%UCDP release 24.1%'") == (
        scalar(db, "SELECT count(*) FROM diplomatic_events")
    )
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE source_modified IS NULL") == 0
