"""GDELT event exports: validated and converted inside DuckDB, every line accounted for."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile

import pytest
from conftest import FIXTURES, rows, run, scalar

GOOD = FIXTURES / "gdelt" / "good"
FEB15 = GOOD / "20220215171500.export.CSV"


def _config(tmp_path, folder: str, extra: str = ""):
    path = tmp_path / "cyberlog.toml"
    path.write_text(f'[[sources]]\nname = "gdelt"\nformat = "gdelt"\npath = "{folder}/*.export.CSV*"\n{extra}', "utf-8")
    return path


def test_published_zips_plain_files_and_1_0_dailies_load(db):
    result = run("ingest", *sorted(GOOD.iterdir()), "--db", db, "--json")
    assert result.code == 0, result.err
    assert [f["format"] for f in json.loads(result.out)["files"]] == ["gdelt"] * 3
    assert rows(
        db,
        """SELECT source_ref, strftime(occurred_at, '%Y-%m-%d'), time_precision, cameo_code, event_class,
                  actor_countries, actor1, actor1_role, actor2, location_country, quad_class, goldstein,
                  sources, strftime(recorded_at, '%Y-%m-%dT%H:%MZ')
           FROM diplomatic_events WHERE cameo_code IN ('0874', '054', '046') ORDER BY occurred_at""",
    ) == [
        # a GDELT 1.0 daily row (58 columns): DATEADDED is a day
        (
            "1020110001",
            "2022-01-10",
            "day",
            "046",
            "talks",
            ["RUS", "USA"],
            "UNITED STATES",
            "GOV",
            "RUSSIA",
            "CHE",
            1,
            7.0,
            30,
            "2022-01-10T00:00Z",
        ),
        (
            "1020110002",
            "2022-01-12",
            "day",
            "046",
            "talks",
            ["RUS"],
            "NATO",
            "IGO",
            "RUSSIA",
            "BEL",
            1,
            7.0,
            25,
            "2022-01-12T00:00Z",
        ),
        # the pullback announcement: leading zero kept, 087 de-escalation -> military, FIPS RS -> RUS
        (
            "1029844101",
            "2022-02-15",
            "day",
            "0874",
            "military",
            ["RUS"],
            "RUSSIAN",
            "MIL",
            None,
            "RUS",
            2,
            10.0,
            38,
            "2022-02-15T17:15Z",
        ),
        # from the published zip
        (
            "1030212301",
            "2022-02-21",
            "day",
            "054",
            "recognition",
            ["RUS", "UKR"],
            "RUSSIA",
            "GOV",
            "DONETSK",
            "RUS",
            1,
            6.0,
            80,
            "2022-02-21T19:00Z",
        ),
    ]
    assert scalar(db, "SELECT title FROM diplomatic_events WHERE cameo_code = '043'") == (
        "RUSSIA: Host a visit: GERMANY"
    )


def test_the_filter_runs_in_duckdb_and_counts_what_it_leaves_out(db, tmp_path):
    folder = tmp_path / "feed"
    folder.mkdir()
    shutil.copy(FEB15, folder)
    config = _config(tmp_path, "feed", '[sources.filter]\nactor_countries = ["UKR", "RUS"]\nmin_sources = 2\n')
    summary = json.loads(run("nightly", "--config", config, "--db", db, "--json").out)
    assert summary["files"][0]["skipped"] == {"outside the source's filter": 2}
    assert (summary["inserted"], summary["rejected"]) == (7, 0)
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE list_contains(actor_countries, 'BRA')") == 0


@pytest.mark.parametrize(
    ("filter_toml", "message"),
    [
        ('cameo_roots = ["4"]', "sources.0.filter.cameo_roots.0: String should match pattern"),
        ('event_classes = ["summit"]', "sources.0.filter.event_classes.0: Input should be 'talks', 'visit',"),
        ('actor_countries = ["Ruritania"]', "sources.0.filter.actor_countries.0: 'Ruritania' is not an ISO 3166"),
        ("min_sources = -1", "sources.0.filter.min_sources: Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_filter_is_a_config_error(tmp_path, filter_toml, message):
    result = run("nightly", "--config", _config(tmp_path, "feed", f"[sources.filter]\n{filter_toml}\n"))
    assert result.code == 2
    assert message in result.err


def test_only_event_data_takes_a_filter(tmp_path):
    config = tmp_path / "cyberlog.toml"
    config.write_text('[[sources]]\nname = "s"\nformat = "stix"\npath = "*.json"\n[sources.filter]\nmin_sources = 1\n')
    result = run("nightly", "--config", config)
    assert (result.code, result.err) == (
        2,
        f"cyberlog: error: {config}: sources.0: format stix takes no filter (formats that do: gdelt)\n",
    )


def test_a_drop_folder_loads_new_batches_once_in_time_order(db, tmp_path):
    folder = tmp_path / "feed"
    folder.mkdir()
    config = _config(tmp_path, "feed")
    shutil.copy(GOOD / "20220221190000.export.CSV.zip", folder)
    shutil.copy(FEB15, folder)
    assert run("nightly", "--config", config, "--db", db).code == 0
    shutil.copy(GOOD / "20220113.export.CSV", folder)  # a late file sorts first: by name is by time
    second = json.loads(run("nightly", "--config", config, "--db", db, "--json").out)
    assert (second["files_loaded"], second["files_skipped"]) == (1, 2)
    assert [p.rsplit("/", 1)[1] for (p,) in rows(db, "SELECT path FROM ingest_files ORDER BY started_at")] == [
        "20220215171500.export.CSV",
        "20220221190000.export.CSV.zip",
        "20220113.export.CSV",
    ]


def test_a_gzipped_file_and_a_third_party_header(db, tmp_path):
    header = "\t".join(f"col{i}" for i in range(61)) + "\n"
    gz = tmp_path / "batch.export.CSV.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as out:
        out.write(header + FEB15.read_text("utf-8"))
    summary = json.loads(run("ingest", gz, "--db", db, "--json").out)
    assert summary["files"][0]["format"] == "gdelt"
    assert summary["files"][0]["skipped"] == {"header line (GDELT files have none; a copy added it)": 1}
    assert (summary["inserted"], summary["rejected"]) == (9, 0)
    assert rows(db, "SELECT min(line), max(line) FROM diplomatic_events") == [(2, 10)]


def test_a_changed_row_updates_and_a_repeated_id_is_a_reject(db, tmp_path):
    assert run("ingest", FEB15, "--db", db).code == 0
    lines = FEB15.read_text("utf-8").splitlines(keepends=True)
    changed = tmp_path / "changed.export.CSV"
    changed.write_text(lines[0].replace("\t112\t38\t112\t", "\t150\t52\t150\t") + lines[0] + lines[1], "utf-8")
    summary = json.loads(run("ingest", changed, "--db", db, "--json").out)
    assert (summary["updated"], summary["unchanged"], summary["rejected"]) == (1, 1, 1)
    assert rows(db, "SELECT line, reason FROM rejects") == [
        (2, 'duplicate ref "1029844101" in this file: the record on line 1 is kept')
    ]
    assert scalar(db, "SELECT sources FROM diplomatic_events WHERE source_ref = '1029844101'") == 52


def test_a_zip_of_several_files_is_refused_with_the_reason(db, tmp_path):
    bundle = tmp_path / "two.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("a.export.CSV", FEB15.read_text("utf-8"))
        archive.writestr("b.export.CSV", FEB15.read_text("utf-8"))
    summary = json.loads(run("ingest", bundle, "--format", "gdelt", "--db", db, "--json").out)
    assert summary["files"][0]["error"] == (
        "the zip holds 2 files; cyberlog reads zips of exactly one file (unpack it and ingest the files)"
    )
    assert summary["exit_code"] == 3


def test_cameo_codes_are_a_table_sql_can_join(fixture_store):
    assert rows(
        fixture_store,
        "SELECT e.cameo_code, c.label, c.quad_class, c.goldstein FROM diplomatic_events e "
        "JOIN cameo_codes c ON c.code = e.cameo_code WHERE e.source = 'gdelt' AND e.cameo_code = '0874'",
    ) == [("0874", "Retreat or surrender militarily", 2, 10.0)]


def test_a_renamed_copy_is_staged_then_found_by_its_digest_and_skipped(db, tmp_path):
    assert run("ingest", FEB15, "--db", db).code == 0
    copy = tmp_path / "copy.export.CSV"
    shutil.copy(FEB15, copy)
    summary = json.loads(run("ingest", copy, "--db", db, "--json").out)
    assert [(f["status"], f["inserted"], f["skipped"]) for f in summary["files"]] == [("skipped", 0, {})]
    assert rows(db, "SELECT count(*), count(DISTINCT file_id) FROM diplomatic_events") == [(9, 1)]
    assert scalar(db, "SELECT count(*) FROM ingest_files") == 1


def test_lines_duckdb_cannot_read_are_rejects_and_the_rest_load_with_their_lines(db, tmp_path):
    lines = FEB15.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"Moscow", b"Moskv\xe0", 1)  # Latin-1, not UTF-8
    lines[3] = lines[3][:40] + b"\r" + lines[3][40:]  # a carriage return inside the line
    lines[5] = lines[5][:40] + b"\x00" + lines[5][40:]
    path = tmp_path / "dirty.export.CSV"
    path.write_bytes(b"".join(lines))
    result = run("ingest", path, "--db", db, "--json")
    summary = json.loads(result.out)
    assert result.code == 3 and "Traceback" not in result.err
    assert (summary["files"][0]["records_read"], summary["inserted"], summary["rejected"]) == (9, 6, 3)
    found = rows(db, "SELECT line, field, reason FROM rejects ORDER BY line")
    assert [(line, field) for line, field, _ in found] == [(2, "(record)"), (4, "(record)"), (6, "(record)")]
    assert found[0][2].startswith("byte 0xe0 at column ") and "is not valid utf-8: pass --encoding" in found[0][2]
    assert found[1][2] == "control character 0x0d at column 41 inside the line"
    assert found[2][2] == "control character 0x00 at column 41 inside the line"
    assert rows(db, "SELECT list(line ORDER BY line) FROM diplomatic_events") == [([1, 3, 5, 7, 8, 9],)]
    assert scalar(db, "SELECT count(*) FROM rejects WHERE raw LIKE '%Moskv\ufffd,%'") == 1  # kept, shown replaced


def test_a_latin1_or_utf16_export_loads_when_told_or_by_its_bom(tmp_path):
    text = FEB15.read_text("utf-8").replace("Moscow", "Moskvà")
    latin1, utf16 = tmp_path / "latin1.export.CSV", tmp_path / "utf16.export.CSV"
    latin1.write_bytes(text.encode("latin-1"))
    utf16.write_bytes(text.encode("utf-16"))
    assert run("ingest", latin1, "--encoding", "latin-1", "--db", tmp_path / "a.duckdb").code == 0
    assert run("ingest", utf16, "--db", tmp_path / "b.duckdb").code == 0
    for db in (tmp_path / "a.duckdb", tmp_path / "b.duckdb"):
        assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE location LIKE 'Moskvà%'") >= 1
        assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 9
