"""VIINA: event_labels files joined with their event_info files; cyber rows as incident leads,
sanctions, military events, and the rest skipped; the report's day, never its minute unless
the zone is declared; several reports of one strike as one event cluster."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import zipfile

import pytest
from conftest import FIXTURES, rows, run, scalar

from ingest.formats import viina

GOOD = FIXTURES / "viina" / "good"
LABELS = GOOD / "event_labels_latest_2022.csv"
INFO = GOOD / "event_info_latest_2022.csv"
BAD = FIXTURES / "viina" / "bad"
SHCHASTIA = ["viina:1203401", "viina:1203402", "viina:1203403", "viina:1203405", "viina:1203406"]


def _ingest(db, path, *args: str) -> dict:
    result = run("ingest", path, "--db", db, "--json", *args)
    assert result.code in (0, 3), result.err
    (file,) = json.loads(result.out)["files"]
    return file


def _table(path) -> tuple[list[str], list[list[str]]]:
    header, *body = csv.reader(path.open(encoding="utf-8"))
    return header, body


def _write(path, header, body) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows([header, *body])


def test_labels_and_info_load_as_events_incidents_and_skips(db):
    file = _ingest(db, LABELS)  # detected, not forced
    assert (file["format"], file["status"], file["records_read"], file["inserted"], file["rejected"]) == (
        "viina",
        "loaded",
        20,
        14,
        0,
    )
    assert file["skipped"] == {viina.NOT_FOR_US: 6}
    assert rows(db, "SELECT event_class, count(*) FROM diplomatic_events GROUP BY ALL ORDER BY 1") == [
        ("military", 11),
        ("sanction", 1),
    ]
    assert scalar(db, "SELECT count(*) FROM incidents") == 2


def test_a_military_row_keeps_place_sides_labels_and_ids(db):
    _ingest(db, LABELS)
    assert rows(
        db,
        """SELECT strftime(occurred_at, '%Y-%m-%dT%H:%MZ'), strftime(occurred_latest, '%Y-%m-%dT%H:%MZ'),
                  time_precision, event_class, actor_countries, actor1, actor1_code, actor1_country, actor1_role,
                  actor2, actor2_code, actor2_role, location, location_country, latitude, longitude,
                  location_precision, url, title, description, strftime(source_modified, '%Y-%m-%dT%H:%M:%SZ')
           FROM diplomatic_events WHERE source_ref = 'viina:1203401'""",
    ) == [
        (
            "2022-02-17T00:00Z",
            "2022-02-18T00:00Z",
            "day",
            "military",
            ["RUS", "UKR"],
            "Russia",
            "a_rus_init",
            "RUS",
            "initiator",
            "Ukraine",
            "a_ukr",
            "involved",
            "Shchastya, Luhans'k",
            "UKR",
            48.7397,
            39.2311,
            "ADM3",
            "https://24tv.ua/shchastya-obstril-tes_n1880101",
            "VIINA military, artillery, property at Shchastya, Luhans'k: "
            "Окупанти обстріляли Щастя з артилерії, пошкоджено Луганську ТЕС",  # noqa: RUF001
            "labels: a_rus 0.95, a_ukr 0.62, a_rus_init 0.91, t_mil 0.99, t_artillery 0.97, t_property 0.81; "
            "event_id 1203401; event_id_1pd 512001; report 880101 (24tvua, ua); place 1 of the report; "
            "geonameid 694218 (ADM3); published 2022-02-17 09:12 (not used: zone not stated)",
            "2022-02-18T06:15:00Z",
        )
    ]


def test_places_a_report_names_twice_and_an_oblast_level_place(db):
    _ingest(db, LABELS)
    assert rows(
        db,
        """SELECT source_ref, location, location_country, location_precision, url FROM diplomatic_events
           WHERE source_ref IN ('viina:1203403', 'viina:1203404', 'viina:1203418', 'viina:1203414')
           ORDER BY source_ref""",
    ) == [
        ("viina:1203403", "Shchastya, Luhans'k", "UKR", "ADM3", "https://www.pravda.com.ua/news/2022/02/17/7325103/"),
        (
            "viina:1203404",
            "Stanytsya Luhans'ka, Luhans'k",
            "UKR",
            "ADM3",
            "https://www.pravda.com.ua/news/2022/02/17/7325103/",
        ),
        ("viina:1203414", "Simferopol, Crimea", "UKR", "ADM3", "https://ria.ru/20220215/voyska-1772801.html"),
        (
            "viina:1203418",
            "Donetsk, Donets'k",
            "UKR",
            "ADM1",
            "https://www.unian.ua/war/donechchyna-60-obstriliv-11880107.html",
        ),
    ]


def test_the_flags_decide_never_the_probabilities(db):
    _ingest(db, LABELS)
    # t_san 0.91 with t_san_b 0 (VIINA's cutoff for t_san is higher): not a sanction, not stored
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE source_ref = 'viina:1203411'") == 0
    # t_cyber 0.44 with t_cyber_b 1: a lead all the same
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source_ref = 'viina:1203409'") == 1


def test_a_cyber_row_is_an_incident_lead_without_a_target(db):
    _ingest(db, LABELS)
    assert rows(
        db,
        """SELECT v.source_ref, v.attack_types, i.unmapped_attack_types, v.evidence, v.time_basis,
                  v.time_precision, strftime(v.started_at, '%Y-%m-%d'), v.target_orgs, v.target_countries,
                  v.attributed_countries, v.url
           FROM v_incidents v JOIN incidents i USING (incident_id) ORDER BY v.source_ref""",
    ) == [
        (
            "viina:1203408",
            ["other"],
            ["t_cyber"],
            "reported",
            "report publication",
            "day",
            "2022-02-15",
            [],
            [],
            ["RUS"],
            "https://www.unian.ua/techno/ddos-ataka-minoborony-privatbank-11879901.html",
        ),
        (
            "viina:1203409",
            ["other"],
            ["t_cyber"],
            "reported",
            "report publication",
            "day",
            "2022-02-15",
            [],
            [],
            [],
            "https://ria.ru/20220215/ddos-1772944.html",
        ),
    ]
    assert rows(db, "SELECT role, country, attributed_by, actor_raw FROM incident_actors") == [
        ("suspected", "RUS", "VIINA classifier", "unnamed actor (VIINA a_rus_init)")
    ]


def test_a_sanction_names_no_country_and_no_place(db):
    _ingest(db, LABELS)
    assert rows(
        db,
        """SELECT event_class, actor_countries, actor1, location, location_country, latitude
           FROM diplomatic_events WHERE source_ref = 'viina:1203410'""",
    ) == [("sanction", [], None, None, None, None)]


def test_a_declared_zone_ends_the_day_at_publication_but_00_00_bounds_nothing(db):
    _ingest(db, LABELS, "--timezone", "Europe/Kyiv")
    found = rows(
        db,
        """SELECT source_ref, strftime(occurred_at, '%Y-%m-%dT%H:%MZ'), strftime(occurred_latest, '%Y-%m-%dT%H:%MZ'),
                  strftime(recorded_at, '%Y-%m-%dT%H:%MZ'), regexp_extract(description, 'published [^;]*')
           FROM diplomatic_events WHERE source_ref IN ('viina:1203401', 'viina:1203417') ORDER BY source_ref""",
    )
    assert found == [
        (
            "viina:1203401",
            "2022-02-16T22:00Z",
            "2022-02-17T07:12Z",
            "2022-02-17T07:12Z",
            "published 2022-02-17 09:12 (2022-02-17T07:12Z)",
        ),
        (
            "viina:1203417",
            "2022-02-15T22:00Z",
            "2022-02-16T22:00Z",
            None,
            "published 2022-02-16 00:00 (not used: 00:00: VIINA's unknown time)",
        ),
    ]
    assert scalar(db, "SELECT time_basis FROM incidents WHERE source_ref = 'viina:1203408'") == (
        "report publication; no later than its writing, 2022-02-15T15:20:00Z"
    )


def test_labels_without_their_info_file_load_and_say_so(db, tmp_path):
    alone = tmp_path / LABELS.name
    shutil.copyfile(LABELS, alone)
    file = _ingest(db, alone)
    assert (file["inserted"], file["rejected"]) == (14, 0)
    assert rows(
        db,
        "SELECT title, location, location_country, latitude, url, description FROM diplomatic_events "
        "WHERE source_ref = 'viina:1203401'",
    ) == [
        (
            "VIINA military, artillery, property at geonameid 694218",
            None,
            "UKR",
            None,
            None,
            "labels: a_rus 0.95, a_ukr 0.62, a_rus_init 0.91, t_mil 0.99, t_artillery 0.97, t_property 0.81; "
            "event_id 1203401; event_id_1pd 512001; geonameid 694218; "
            "published 2022-02-17 09:12 (not used: zone not stated); no event_info file",
        )
    ]


def test_an_info_file_lacking_an_event_id_leaves_that_row_without_place(db):
    file = _ingest(db, BAD / "info_lacks_event_ids" / "event_labels_latest_2022.csv")
    assert (file["inserted"], file["rejected"]) == (3, 0)
    assert rows(
        db,
        "SELECT source_ref, location, ends_with(description, 'no event_info row') FROM diplomatic_events ORDER BY 1",
    ) == [
        ("viina:1203401", "Shchastya, Luhans'k", False),
        ("viina:1203402", None, True),
        ("viina:1203403", "Shchastya, Luhans'k", False),
    ]


def test_a_broken_info_file_fails_the_labels_file_naming_it(db):
    result = run("ingest", BAD / "info_header_broken" / "event_labels_latest_2022.csv", "--db", db, "--json")
    (file,) = json.loads(result.out)["files"]
    assert (result.code, file["status"]) == (3, "failed")
    assert file["error"].startswith(
        "its event info file event_info_latest_2022.csv: unknown column(s) reportid (did you mean 'report_id'?)"
    )
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 0


@pytest.mark.parametrize("packed", ["zip", "gz"])
def test_the_info_file_may_be_packed_as_published(db, tmp_path, packed):
    shutil.copyfile(LABELS, tmp_path / LABELS.name)
    if packed == "zip":
        with zipfile.ZipFile(tmp_path / "event_info_latest_2022.zip", "w") as archive:
            archive.write(INFO, INFO.name)
    else:
        (tmp_path / "event_info_latest_2022.csv.gz").write_bytes(gzip.compress(INFO.read_bytes()))
    _ingest(db, tmp_path / LABELS.name)
    assert scalar(db, "SELECT location FROM diplomatic_events WHERE source_ref = 'viina:1203401'") == (
        "Shchastya, Luhans'k"
    )


def test_an_info_file_alone_is_told_apart_and_skipped(db):
    file = _ingest(db, INFO)  # detected as viina, not another format
    assert (file["format"], file["records_read"], file["inserted"]) == ("viina", 20, 0)
    assert file["skipped"] == {viina.INFO_ONLY: 20}


def test_a_2_0_header_bare_probabilities_tid_and_no_time(db, tmp_path):
    """VIINA 2.0 as a loader saw it: probabilities under the bare names, `tid`, no `time`."""
    header, body = _table(LABELS)
    keep = [i for i, name in enumerate(header) if name != "time"]
    renamed = [name.removesuffix("_pred") for name in header]
    new_body = [[row[i] for i in keep] + ["17"] for row in body]
    for row in new_body:
        row[0] = "bert_20240301024050"
    path = tmp_path / "event_labels_latest_2022.csv"
    _write(path, [renamed[i] for i in keep] + ["tid"], new_body)
    shutil.copyfile(INFO, tmp_path / INFO.name)
    file = _ingest(db, path)
    assert (file["inserted"], file["rejected"]) == (14, 0)
    assert rows(
        db,
        "SELECT regexp_extract(description, 'labels: [^;]*'), contains(description, 'published'), "
        "strftime(source_modified, '%Y-%m-%dT%H:%M:%SZ') FROM diplomatic_events WHERE source_ref = 'viina:1203410'",
    ) == [("labels: a_ukr 0.7, a_other 0.8, t_san 0.985", False, "2024-03-01T02:40:50Z")]


def test_an_early_single_events_file_carries_its_own_info(db, tmp_path):
    """events_<YYYYMMDDHHMMSS>.csv, 2022: the info and the labels in one file."""
    labels_header, labels = _table(LABELS)
    info_header, info = _table(INFO)
    extra = [i for i, name in enumerate(info_header) if name not in labels_header]
    path = tmp_path / "events_20220218061500.csv"
    body = [row + [cells[i] for i in extra] for row, cells in zip(labels, info, strict=True)]
    _write(path, labels_header + [info_header[i] for i in extra], body)
    file = _ingest(db, path)
    assert (file["format"], file["inserted"]) == ("viina", 14)
    assert scalar(db, "SELECT location FROM diplomatic_events WHERE source_ref = 'viina:1203401'") == (
        "Shchastya, Luhans'k"
    )


def test_a_later_release_replaces_an_older_one_never_the_reverse(db, tmp_path):
    header, body = _table(LABELS)
    _ingest(db, LABELS)

    def release(stamp: str, t_property_b: str) -> dict:
        path = tmp_path / stamp / LABELS.name
        path.parent.mkdir()
        changed = [[stamp, *row[1:]] for row in body]
        changed[0][header.index("t_property_b")] = t_property_b
        _write(path, header, changed)
        shutil.copyfile(INFO, path.with_name(INFO.name))
        return _ingest(db, path)

    assert release("20220101000000", "0")["updated"] == 0  # an older release: left as stored
    assert release("bert_20240301024050", "0")["updated"] == 14  # every row's version is newer
    assert scalar(db, "SELECT title FROM diplomatic_events WHERE source_ref = 'viina:1203401'").startswith(
        "VIINA military, artillery at Shchastya"
    )


@pytest.mark.parametrize(
    ("fixture", "field", "reason"),
    [
        ("flag_not_binary", "t_cyber_b", "'2' is not a VIINA binary label: 0 or 1"),
        ("date_not_yyyymmdd", "date", "'2022-02-17' is not a date in YYYYMMDD form (20220215)"),
        ("event_id_missing", "event_id", "required, but blank"),
        ("time_not_hh_mm", "time", "'9.40' is not a time in HH:MM form (09:15)"),
        ("probability_above_one", "t_mil_pred", "Input should be less than or equal to 1"),
        ("version_not_a_stamp", "viina_version", "'latest' is not a VIINA release stamp, e.g. bert_20240301024050"),
    ],
)
def test_a_bad_row_is_rejected_naming_field_and_reason_and_the_others_load(db, fixture, field, reason):
    file = _ingest(db, BAD / f"{fixture}.csv")
    assert (file["status"], file["inserted"], file["rejected"]) == ("loaded", 2, 1)
    assert rows(db, "SELECT line, field, reason FROM rejects") == [(3, field, reason)]


def test_five_reports_of_one_shelling_are_one_event_cluster(db):
    _ingest(db, LABELS)
    clusters = rows(
        db,
        "SELECT DISTINCT cluster_id FROM v_events WHERE source_ref IN $refs",
        {"refs": SHCHASTIA},
    )
    assert len(clusters) == 1 and clusters[0][0] is not None
    # the authors' own one-per-day ids split the Russian outlet's report off: the description keeps both
    assert rows(
        db,
        "SELECT DISTINCT regexp_extract(description, 'event_id_1pd (\\d+)', 1) FROM diplomatic_events "
        "WHERE source_ref IN $refs ORDER BY 1",
        {"refs": SHCHASTIA},
    ) == [("512001",), ("512004",)]


def test_shelling_of_another_place_the_same_day_is_another_event(db):
    _ingest(db, LABELS)
    shchastia = scalar(db, "SELECT cluster_id FROM v_events WHERE source_ref = 'viina:1203401'")
    stanytsia = scalar(db, "SELECT cluster_id FROM v_events WHERE source_ref = 'viina:1203404'")
    assert shchastia != stanytsia


def _zipped(source, target) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(source, source.name)


def test_the_reader_joins_a_pair_of_zips_as_published(tmp_path):
    _zipped(LABELS, tmp_path / "event_labels_latest_2022.zip")
    _zipped(INFO, tmp_path / "event_info_latest_2022.zip")
    first = next(viina.read(tmp_path / "event_labels_latest_2022.zip", "utf-8", None))
    assert first.fields is not None
    assert (first.line, first.fields["asciiname"], first.fields["viina_info"]) == (2, "Shchastya", "joined")


def test_a_pair_of_zips_as_published_loads_joined(db, tmp_path):
    _zipped(LABELS, tmp_path / "event_labels_latest_2022.zip")
    _zipped(INFO, tmp_path / "event_info_latest_2022.zip")
    _ingest(db, tmp_path / "event_labels_latest_2022.zip")
    assert scalar(db, "SELECT location FROM diplomatic_events WHERE source_ref = 'viina:1203401'") == (
        "Shchastya, Luhans'k"
    )
