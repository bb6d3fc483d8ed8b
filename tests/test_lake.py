"""The Parquet lake (`cyberlog export --lake`): every table, hive-partitioned by source and
month, written incrementally, described by its manifest, and read back by DuckDB with the
same answers as the store."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, GOOD, run

from ingest.lake import parquet as lakes
from ingest.reports import catalog as reports


def _export(db: Path, lake: Path) -> dict[str, dict[str, int]]:
    result = run("export", "--lake", lake, "--json", "--db", db)
    assert result.code == 0, result.err
    return {t["name"]: t for t in json.loads(result.out)["tables"]}


def _files(lake: Path) -> dict[str, float]:
    return {str(p.relative_to(lake)): p.stat().st_mtime_ns for p in lake.rglob("*.parquet")}


@pytest.fixture
def exported(loaded: Path, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    _export(loaded, lake)
    return lake


def test_every_table_is_in_the_lake_as_in_the_store(loaded: Path, exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["lake_version"] == 1 and set(manifest["tables"]) == {t.name for t in lakes.TABLES}
    store = duckdb.connect(str(loaded), read_only=True)
    with lakes.duckdb_over_lake(exported) as lake:
        for table in lakes.TABLES:
            columns = [c["name"] for c in manifest["tables"][table.name]["columns"]]
            order = ", ".join(f'"{c}"' for c in columns)
            want = store.execute(f"SELECT {order} FROM {table.name} ORDER BY ALL").fetchall()
            got = lake.execute(f"SELECT {order} FROM {table.name} ORDER BY ALL").fetchall()
            assert got == want, table.name
            described = f"SELECT column_name, column_type FROM (DESCRIBE {table.name})"
            assert lake.execute(described).fetchall() == store.execute(described).fetchall(), table.name
            rows = sum(p["rows"] for p in manifest["tables"][table.name]["partitions"])
            assert rows == len(want), table.name


def test_partitions_are_hive_folders_by_source_and_month(exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text())
    incidents = manifest["tables"]["incidents"]
    assert incidents["partitioned_by"] == ["source", "month"] and incidents["month_of"] == "started_at"
    for part in incidents["partitions"]:
        for file in part["files"]:
            assert file.startswith(f"incidents/source={part['source']}/month={part['month']}/part-"), file
            assert (exported / file).is_file()
        assert part["first"][:7] == part["month"] == part["last"][:7]
    feb = {p["source"] for p in incidents["partitions"] if p["month"] == "2022-02"}
    assert {"cfr", "derived", "cert-stix"} <= feb
    # a child table goes by its incident's partition; small tables are one file each
    targets = manifest["tables"]["incident_targets"]
    assert {(p["source"], p["month"]) for p in targets["partitions"]} <= {
        (p["source"], p["month"]) for p in incidents["partitions"]
    }
    assert len(manifest["tables"]["cameo_codes"]["partitions"]) == 1
    assert manifest["tables"]["cameo_codes"]["partitions"][0]["files"][0].startswith("cameo_codes/part-")
    # each file is whole on its own: source and month are in it, not only in its path
    one = exported / incidents["partitions"][0]["files"][0]
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{one}', hive_partitioning = false)")
    names = [r[0] for r in described.fetchall()]
    assert "source" in names and "month" in names


def test_a_second_export_writes_nothing(loaded: Path, exported: Path) -> None:
    before = _files(exported)
    tables = _export(loaded, exported)
    assert sum(t["written"] for t in tables.values()) == 0
    assert sum(t["removed"] for t in tables.values()) == 0
    assert _files(exported) == before


def test_new_records_write_only_their_partitions(loaded: Path, exported: Path, tmp_path: Path) -> None:
    before = _files(exported)
    feed = tmp_path / "more.csv"
    feed.write_text(
        "ref,title,attack_types,started_at,evidence,target_org,target_country\n"
        "n-1,DDoS on a port authority,ddos,2023-05-02,reported,Port of Odesa,UKR\n",
        encoding="utf-8",
    )
    assert run("ingest", feed, "--format", "incidents_csv", "--source", "late-feed", "--db", loaded).code == 0
    tables = _export(loaded, exported)
    assert tables["incidents"]["written"] == 1 and tables["incidents"]["rows_written"] == 1
    assert tables["diplomatic_events"]["written"] == 0 and tables["alerts"]["written"] == 0
    after = _files(exported)
    added = set(after) - set(before)
    assert any(f.startswith("incidents/source=late-feed/month=2023-05/") for f in added)
    # every file of an untouched partition is the same file, not rewritten
    untouched = [f for f in before if f.startswith(("incidents/source=cfr/", "alerts/", "diplomatic_events/"))]
    assert untouched and all(after.get(f) == before[f] for f in untouched)
    with lakes.duckdb_over_lake(exported) as lake:
        assert lake.execute("SELECT count(*) FROM incidents WHERE source = 'late-feed'").fetchall() == [(1,)]


def test_a_changed_row_replaces_its_partition_and_its_old_file_goes(loaded: Path, exported: Path) -> None:
    manifest = lakes.read_manifest(exported)
    [old] = [p for k, p in manifest.partitions("incidents").items() if k == ("cfr", "2022-02")]
    con = duckdb.connect(str(loaded))
    february = "source = 'cfr' AND started_at >= '2022-02-01'"
    con.execute(f"UPDATE incidents SET title = title || ' (updated)' WHERE {february}")
    con.close()
    tables = _export(loaded, exported)
    assert tables["incidents"]["written"] == 1
    [new] = [p for k, p in lakes.read_manifest(exported).partitions("incidents").items() if k == ("cfr", "2022-02")]
    assert new.fingerprint != old.fingerprint and new.files != old.files
    assert not any((exported / f).exists() for f in old.files)
    with lakes.duckdb_over_lake(exported) as lake:
        titles = lake.execute(f"SELECT title FROM incidents WHERE {february}").fetchall()
    assert titles and all(t.endswith(" (updated)") for (t,) in titles)


def test_rows_gone_from_the_store_leave_the_lake(loaded: Path, exported: Path) -> None:
    con = duckdb.connect(str(loaded))
    con.execute("DELETE FROM alerts WHERE source = 'ids'")
    con.close()
    tables = _export(loaded, exported)
    assert tables["alerts"]["removed"] >= 1
    assert not (exported / "alerts" / "source=ids").exists()
    assert ("ids", "2022-02") not in lakes.read_manifest(exported).partitions("alerts")


def test_every_report_gives_the_stores_answers_over_the_lake(loaded: Path, exported: Path) -> None:
    for report in reports.all_reports():
        for given in ({}, {"since": "2022-02-14", "until": "2022-02-16"}):
            if not set(given) <= {p.name for p in report.params}:
                continue
            store = run("report", "run", report.name, *_pairs(given), "--format", "csv", "--db", loaded)
            lake = run("report", "run", report.name, *_pairs(given), "--format", "csv", "--lake", exported)
            assert store.code == lake.code == 0, (report.name, store.err, lake.err)
            assert lake.out == store.out, report.name


def _pairs(given: dict[str, str]) -> list[str]:
    return [arg for key, value in given.items() for arg in ("-p", f"{key}={value}")]


def test_a_lake_can_be_moved(loaded: Path, exported: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    shutil.move(exported, moved)
    result = run("report", "run", "timeline", "--format", "csv", "--lake", moved)
    assert result.code == 0, result.err
    assert result.out == run("report", "run", "timeline", "--format", "csv", "--db", loaded).out


def test_two_exports_into_one_lake_at_once_are_refused(loaded: Path, exported: Path) -> None:
    with (exported / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run("export", "--lake", exported, "--db", loaded)
    assert result.code == 5  # busy, as for a store: a cron job tries again later
    assert "another export is writing the lake" in result.err and "Traceback" not in result.err


def test_a_broken_manifest_is_a_clear_error(loaded: Path, exported: Path) -> None:
    (exported / "manifest.json").write_text("{not json", encoding="utf-8")
    for args in (("export", "--lake", exported, "--db", loaded), ("report", "run", "timeline", "--lake", exported)):
        result = run(*args)
        assert result.code == 2 and "not a cyberlog lake manifest" in result.err, result.err
    (exported / "manifest.json").write_text('{"lake_version": 99, "tables": {}}', encoding="utf-8")
    result = run("export", "--lake", exported, "--db", loaded)
    assert result.code == 2 and "lake_version 99" in result.err


def test_usage_mistakes(loaded: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    cases = [
        (("export", "--lake", lake, tmp_path / "folder", "--db", loaded), "--lake writes every table"),
        (("export", "--lake", lake, "--format", "csv", "--db", loaded), "--lake writes every table"),
        (("export", "--db", loaded), "give a folder to export into, or --lake DIR"),
        (("report", "run", "timeline", "--lake", tmp_path / "none"), "holds no cyberlog lake"),
        (("report", "run", "timeline", "--engine", "spark"), "--engine spark runs over a lake"),
        (("report", "run", "timeline", "--master", "local[2]", "--db", loaded), "--master is for --engine spark"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.code == 2, (args, result.err)
        assert message in result.err, (args, result.err)


def test_an_empty_store_makes_a_lake_reports_can_read(db: Path, tmp_path: Path) -> None:
    assert run("ingest", FIXTURES / GOOD["eve"], "--format", "eve", "--db", db).code == 0
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM alerts")
    con.close()
    lake = tmp_path / "lake"
    _export(db, lake)
    result = run("report", "run", "timeline", "--format", "csv", "--lake", lake)
    assert result.code == 0, result.err
    assert result.out == run("report", "run", "timeline", "--format", "csv", "--db", db).out


# many writers: `ingest --lake DIR --writer NAME` on machines with disjoint file sets ------

GDELT = sorted((FIXTURES / "gdelt" / "good").iterdir())
TELEMETRY = [FIXTURES / GOOD[f] for f in ("cef", "eve", "ecs", "ocsf")]
# a store's own bookkeeping: when and in which run its rows were loaded
STORE_DEPENDENT = {"run_id", "file_id", "first_loaded_at", "loaded_at", "updated_at", "finished_at", "decided_at"}


def _comparable(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    described = con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()
    dependent = STORE_DEPENDENT | ({"started_at"} if table == "ingest_files" else set())
    kept = ", ".join(f'"{c}"' for (c,) in described if c not in dependent)
    return con.execute(f"SELECT {kept} FROM {table} ORDER BY ALL").fetchall()


def test_machines_ingesting_disjoint_files_add_up_to_one_store(tmp_path: Path) -> None:
    """Two writers in parallel processes (as on two machines) into one lake: the lake holds
    what one store that ingested every file holds, and reports say the same."""
    lake = tmp_path / "lake"
    shares = {"gdelt-1": GDELT, "soc-kyiv": TELEMETRY}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ingest",
                "ingest",
                *map(str, files),
                "--lake",
                str(lake),
                "--writer",
                name,
                "--db",
                str(tmp_path / f"{name}.duckdb"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, files in shares.items()
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        assert "partitions written" in err
    assert sorted(p.name for p in (lake / "writers").glob("*.json")) == ["gdelt-1.json", "soc-kyiv.json"]
    assert not (lake / "manifest.json").exists()
    names = [p.name for p in lake.rglob("*.parquet")]
    assert names and all(n.startswith(("part-gdelt-1-", "part-soc-kyiv-")) for n in names)

    one = tmp_path / "one.duckdb"
    assert run("ingest", *GDELT, *TELEMETRY, "--db", one).code == 0
    store = duckdb.connect(str(one), read_only=True)
    with lakes.duckdb_over_lake(lake) as pooled:
        for table in lakes.TABLES:
            if table.name in lakes.STORE_ONLY:
                assert pooled.execute(f"SELECT count(*) FROM {table.name}").fetchall() == [(0,)]
            elif table.name not in ("ingest_runs", "ingest_run_sources"):  # one run against two
                assert _comparable(pooled, table.name) == _comparable(store, table.name), table.name
        assert pooled.execute("SELECT count(*) FROM ingest_runs").fetchall() == [(2,)]
    assert store.execute("SELECT count(*) FROM diplomatic_events").fetchall()[0][0] > 0
    store.close()
    for name in ("timeline", "lag_profile", "ingest_health"):
        want = run("report", "run", name, "--format", "csv", "--db", one)
        got = run("report", "run", name, "--format", "csv", "--lake", lake)
        assert got.code == want.code == 0, got.err
        if name != "ingest_health":  # per run and file: two runs here, one there
            assert got.out == want.out, name


def test_a_writer_replaces_only_its_own_share(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    for name, files in (("a", GDELT[:1]), ("b", GDELT[1:])):
        assert run("ingest", *files, "--lake", lake, "--writer", name, "--db", tmp_path / f"{name}.duckdb").code == 0
    b_files = {p for p in lake.rglob("part-b-*.parquet")}
    a_before = lakes.read_manifest(lake, "a")
    # writer a's store loses its rows (a source withdrawn): its share goes, b's stays
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    con.execute("DELETE FROM diplomatic_events")
    con.close()
    result = run("export", "--lake", lake, "--writer", "a", "--db", tmp_path / "a.duckdb")
    assert result.code == 0, result.err
    assert {p for p in lake.rglob("part-b-*.parquet")} == b_files
    assert not any(lake.joinpath(f).exists() for f in a_before.files("diplomatic_events"))
    with lakes.duckdb_over_lake(lake) as pooled, duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True) as b:
        assert _comparable(pooled, "diplomatic_events") == _comparable(b, "diplomatic_events")
    # a rerun of b's ingest loads nothing: only the ledger's new run reaches the lake
    again = run("ingest", *GDELT[1:], "--lake", lake, "--writer", "b", "--db", tmp_path / "b.duckdb")
    assert again.code == 0 and "lake ingest_runs: 1 partition written" in again.err, again.err
    assert "lake diplomatic_events" not in again.err
    events = {p for p in b_files if p.relative_to(lake).parts[0] == "diplomatic_events"}
    assert events and events <= set(lake.rglob("part-b-*.parquet"))


def test_writer_mistakes_are_clear(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    db = tmp_path / "w.duckdb"
    cases = [
        (("ingest", GDELT[0], "--writer", "a", "--db", db), "use it with --lake DIR"),
        (("export", tmp_path / "out", "--writer", "a", "--db", db), "use it with --lake DIR"),
        (("ingest", GDELT[0], "--lake", lake, "--writer", "../x", "--db", db), "writer name '../x'"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.code == 2 and message in result.err, (args, result.err)
    assert not lake.exists()
    with (lake / "writers").mkdir(parents=True) or (lake / "writers" / ".a.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run("ingest", GDELT[0], "--lake", lake, "--writer", "a", "--db", db)
        assert result.code == 5 and "writer a's share of the lake" in result.err, result.err
        assert run("ingest", GDELT[1], "--lake", lake, "--writer", "b", "--db", tmp_path / "b.duckdb").code == 0
