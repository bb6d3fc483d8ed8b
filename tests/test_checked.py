"""The curated CSVs checked inside DuckDB (ingest/load/checked.py, sql/checked_csv.sql with
sql/incidents_csv.sql or sql/events_csv.sql) store exactly what the careful path (every row
through the pydantic model) stores, and reject the same rows with the same words: every file
is loaded both ways into real stores and the stores compared, digests and load ids aside."""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, copy_store, run

from ingest import formats
from ingest.load import checked, files, staging
from ingest.load.staging import StageOptions

STAGE = checked.stage  # the real one: the tests below also load the careful way, without it
HEADER = [
    "ref", "title", "description", "attack_types", "started_at", "ended_at", "time_precision", "evidence",
    "severity", "target_org", "target_domain", "target_country", "target_sector", "actor", "actor_role",
    "attributed_by", "attributed_at", "url",
]  # fmt: skip
# Cells in every form the model takes or refuses, the common ones (which SQL reads) first:
# each cell is one of the odd forms (left to Python, which reads or rejects it) now and then.
TIMES = (
    ["2022-02-15", "2022-02", "2022", "2022-02-15T13:05Z", "2022-02-15T13:05:09Z", "2022-02-15T13:05+02:00",
     "2022-02-15T13:05:09-05:30", "2021-12-31T23:30-01:00", "2024-02-29", "2022-02-28T23:59:59+00:30"],
    [" 2022-02-15 ", "2022-02-15T13:05+0200", "2022-02-15 13:05Z", "2022-02-15T13Z", "2022-02-15T13:05:09.5Z",
     "2022-02-30", "2022-02-15T13:05", "15/02/2022", "2022-02-15T24:00Z", "0001-01-01", "9999-12-31",
     "2022-02-15T13:05+23:59", "2022-02-15T13:05z", "2023-02-29"],
)  # fmt: skip
PRECISIONS = (["", "", "", "hour", "day", "month", "year"], ["minute", "second", "week", " day"])
COUNTRIES = (["UKR", "POL", "DEU", "UKR;POL"], ["Ukraine", "ua", "UA", "United Kingdom", "NATO", "XXX", "ukr", ";UKR"])
SECTORS = (["government", "finance", "military", "", "government;finance"], ["banks", "Finance", ";finance"])
ATTACKS = (["ddos", "wiper", "ddos;defacement", "ddos; wiper"], ["ddos;;wiper", "DDoS", "", ";"])
ORGS = (["Ministry of Defence", "PrivatBank", "Oschadbank", "Ministry of Defence & Armed Forces", "НБУ"], [""])
DOMAINS = (["mil.gov.ua", "PRIVATBANK.UA.", "", "oschadbank.ua"], ["not a domain", "bank", "пример.укр", "a..b"])
ACTORS = (["", "", "Sandworm", "APT28", "Fancy Bear", "UNC1151;Ghostwriter", "Sandworm;Sandworm"], ["Sandworm;"])
ROLES = (["", "attributed", "claimed", "suspected"], ["maybe", "Claimed"])
BYS = (["", "SBU", "SBU;CERT-UA"], [";SBU"])
URLS = (["", "https://cert.gov.ua/article/1", "HTTP://example.org/x"], ["ftp://example.org", "https://a b"])
TEXTS = (["", "plain", "with, a comma", 'with "quotes"', "  padded  "], ["a\u00a0non-breaking space", "tab\there"])
EVIDENCE = (["", "", "claimed", "reported", "confirmed"], ["rumoured", " claimed"])
SEVERITY = (["", "", "low", "critical"], ["huge"])


def _pick(rng: random.Random, forms: tuple[list[str], list[str]], odd: float = 0.01) -> str:
    return rng.choice(forms[1] if rng.random() < odd else forms[0])


def _row(rng: random.Random, i: int) -> list[str]:
    n = rng.choice([1, 1, 2, 3])
    actors = _pick(rng, ACTORS)
    by = _pick(rng, BYS) if actors else ("" if rng.random() < 0.99 else "SBU")
    return [
        f"r{i}" if rng.random() < 0.98 else rng.choice([f"r{i // 7}", "", " "]),  # duplicate and blank refs too
        rng.choice(["DDoS on the ministry", "Wiper, then a leak", '"Quoted" title']) if rng.random() < 0.99 else "",
        _pick(rng, TEXTS),
        _pick(rng, ATTACKS),
        _pick(rng, TIMES),
        _pick(rng, (["", "", *TIMES[0][:5]], TIMES[1])),
        _pick(rng, PRECISIONS),
        _pick(rng, EVIDENCE),
        _pick(rng, SEVERITY),
        ";".join(_pick(rng, ORGS) for _ in range(n)),
        ";".join(_pick(rng, DOMAINS) for _ in range(rng.choice([0, 1, n, n + (rng.random() < 0.02)]))),
        ";".join(_pick(rng, COUNTRIES) for _ in range(rng.choice([1, 1, n]))),
        ";".join(_pick(rng, SECTORS) for _ in range(rng.choice([0, 1, n]))),
        actors,
        _pick(rng, ROLES) if actors else "",
        by,
        _pick(rng, (["", *TIMES[0][:8]], TIMES[1])) if by else "",
        _pick(rng, URLS),
    ]


def _write(path: Path, rows: int, seed: int, newline: str = "\n") -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator=newline)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(_row(rng, i))
            if rng.random() < 0.02:
                stream.write(newline)  # a blank line is not a record
    return path


TABLES = {
    "incidents": "* EXCLUDE (content_hash, run_id, file_id, first_loaded_at, loaded_at)",
    "incident_targets": "* EXCLUDE (run_id, file_id)",
    "incident_actors": "* EXCLUDE (run_id, file_id)",
    "diplomatic_events": "* EXCLUDE (content_hash, run_id, file_id, first_loaded_at, loaded_at)",
    "rejects": "line, pointer, field, reason, errors::VARCHAR, raw",
}


def _columns(con: duckdb.DuckDBPyConnection, table: str, select: str) -> str:
    names = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    if select.startswith("* EXCLUDE"):
        dropped = {name.strip() for name in select[len("* EXCLUDE (") : -1].split(",")}
        return ", ".join(f'"{name}"' for name in names if name not in dropped)
    return select


def _stored(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            table: sorted(con.execute(f"SELECT {_columns(con, table, select)} FROM {table}").fetchall(), key=repr)
            for table, select in TABLES.items()
        }


def _both_ways(
    path: Path, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, fmt: str = "incidents_csv"
) -> list[bool]:
    """Load `path` checked in DuckDB and careful (every row through the model): same store."""
    fast, careful = copy_store(store, tmp_path / "fast.duckdb"), copy_store(store, tmp_path / "careful.duckdb")
    used: list[bool] = []

    def counted(*a: object, **k: object) -> int | None:
        read = STAGE(*a, **k)  # type: ignore[arg-type]
        used.append(read is not None)
        return read

    monkeypatch.setattr(checked, "stage", counted)
    first = run("ingest", path, "--db", fast, "--format", fmt, *args)
    monkeypatch.setattr(checked, "stage", lambda *a, **k: None)
    second = run("ingest", path, "--db", careful, "--format", fmt, *args)
    assert (first.code, first.err.count("rejected")) == (second.code, second.err.count("rejected")), first.err
    assert _stored(fast) == _stored(careful)
    return used


def _both_paths_used(path: Path, name: str) -> None:
    """Most of the file's 600 rows were staged by SQL and some left to the model, so the
    comparison above covered both ways."""
    fmt, seen = formats.get(name), []
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        staging.create(con, fmt)
        options = StageOptions(None, "utf-8", None, files.NO_FILTER)
        assert STAGE(con, path, fmt, options, lambda c, s: seen.extend(s)) == 600
        by_sql = con.execute("SELECT count(*) FROM stage_main").fetchall()[0][0]
    assert by_sql > 300 and len(seen) > 30 and by_sql + len(seen) == 600


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_checked_in_duckdb_stores_what_the_model_stores(empty_store, tmp_path, monkeypatch, seed):
    path = _write(tmp_path / "incidents.csv", 600, seed)
    assert _both_ways(path, empty_store, tmp_path, monkeypatch) == [True]  # through the SQL, not around it
    _both_paths_used(path, "incidents_csv")


def test_crlf_files_are_checked_in_duckdb_too(empty_store, tmp_path, monkeypatch):
    path = _write(tmp_path / "incidents.csv", 300, 4, newline="\r\n")
    assert _both_ways(path, empty_store, tmp_path, monkeypatch) == [True]


@pytest.mark.parametrize(
    "path",
    sorted(p for fmt in ("incidents_csv", "events_csv") for p in (FIXTURES / fmt).rglob("*.csv")),
    ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}",
)
def test_every_fixture_loads_the_same_both_ways(empty_store, tmp_path, monkeypatch, path):
    _both_ways(path, empty_store, tmp_path, monkeypatch, fmt=path.parent.parent.name)


def test_a_cell_over_several_lines_sends_the_file_the_careful_way(empty_store, tmp_path, monkeypatch):
    path = _write(tmp_path / "incidents.csv", 50, 5)
    with path.open("a", newline="", encoding="utf-8") as stream:
        csv.writer(stream, lineterminator="\n").writerow(
            ["multi", "Two lines", "first\nsecond", "ddos", "2022-02-15", *[""] * 13]
        )
    assert _both_ways(path, empty_store, tmp_path, monkeypatch) == [False]


def test_a_declared_time_zone_sends_the_file_the_careful_way(empty_store, tmp_path, monkeypatch):
    path = _write(tmp_path / "incidents.csv", 200, 6)
    assert _both_ways(path, empty_store, tmp_path, monkeypatch, "--timezone", "Europe/Kyiv") == [False]


def test_only_rows_sql_cannot_vouch_for_reach_the_model(tmp_path):
    """A clean file: the model sees no row. A row in a form SQL leaves to Python (an offset
    without a colon, a country by name) is the only one it sees."""
    path = tmp_path / "incidents.csv"
    good = ["r1", "DDoS", "", "ddos", "2022-02-15T13:05+02:00", "", "", "", "", "MoD", "mil.gov.ua", "UKR", "military"]
    rare = ["r2", "DDoS", "", "ddos", "2022-02-15T13:05+0200", "", "", "", "", "MoD", "", "Ukraine", ""]
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER[:13])
        writer.writerows([good, rare, [*good[:1], "x", *good[2:]]])
    fmt = formats.get("incidents_csv")
    seen: list[int] = []
    with duckdb.connect() as con:
        staging.create(con, fmt)
        read = STAGE(con, path, fmt, StageOptions(None, "utf-8", None, files.NO_FILTER), lambda c, s: seen.extend(s))
        staged = con.execute("SELECT seq, source_ref FROM stage_main ORDER BY seq").fetchall()
    assert read == 3
    assert seen == [3]  # line 3, the rare row; line 4 repeats a ref, which the merge settles
    assert staged == [(2, "r1"), (4, "r1")]


EVENT_HEADER = [
    "ref", "occurred_at", "time_precision", "title", "event_class", "cameo_code", "actor_countries", "location",
    "url", "description",
]  # fmt: skip
CLASSES = (["", "", "talks", "sanction", "statement", "military"], ["Talks", "negotiation", " talks"])
CAMEO = (["", "", "046", "163", "112", "0211", "20"], ["46", "21", "abc", "04a", " 046", "00"])
ACTOR_COUNTRIES = (["", "UKR", "RUS;UKR", "USA;RUS;UKR", "RUS; DEU"], ["Russia", "UKR;", "EU", "ukr", ";"])


def _event_row(rng: random.Random, i: int) -> list[str]:
    return [
        f"e{i}" if rng.random() < 0.98 else rng.choice([f"e{i // 5}", "", " "]),
        _pick(rng, TIMES),
        _pick(rng, PRECISIONS),
        rng.choice(["Scholz meets Putin", "Duma vote, recognition", '"Quoted" title']) if rng.random() < 0.99 else "",
        _pick(rng, CLASSES),
        _pick(rng, CAMEO),
        _pick(rng, ACTOR_COUNTRIES),
        rng.choice(["", "Moscow, RUS", "Kyiv"]),
        _pick(rng, URLS),
        _pick(rng, TEXTS),
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_events_checked_in_duckdb_store_what_the_model_stores(empty_store, tmp_path, monkeypatch, seed):
    rng, path = random.Random(seed), tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(EVENT_HEADER)
        writer.writerows(_event_row(rng, i) for i in range(600))
    assert _both_ways(path, empty_store, tmp_path, monkeypatch, fmt="events_csv") == [True]
    _both_paths_used(path, "events_csv")


def test_rows_left_to_the_model_go_a_batch_at_a_time(empty_store, tmp_path, monkeypatch):
    """Many rows SQL cannot vouch for (here with a batch of 4): every batch is staged, in
    line order, as the careful path stages them."""
    monkeypatch.setitem(formats._REGISTRY, "incidents_csv", replace(formats.get("incidents_csv"), batch=4))
    path = tmp_path / "incidents.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER[:6])
        for i in range(30):  # naive times and names of countries: every row is the model's
            writer.writerow([f"r{i}", "DDoS", "", "ddos", "2022-02-15 13:05" if i % 3 else "2022-02-15T13:05+0200", ""])
    assert _both_ways(path, empty_store, tmp_path, monkeypatch) == [True]
    assert len(_stored(tmp_path / "fast.duckdb")["rejects"]) == 20


@pytest.mark.parametrize("name", ["incidents_csv", "gdelt", "stix", "cef", "ddosia", "veris"])
def test_stage_tables_made_again_from_their_ddl_are_the_first_ones(tmp_path: Path, name: str) -> None:
    # the first file of a kind makes its stage tables from Arrow; the files after, from the
    # DDL DuckDB gave them: the same columns, of the same types, in the same order
    fmt = formats.get(name)
    staging._DDL.pop((fmt.kind, fmt.mixed), None)
    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        tables = "SELECT table_name, column_name, data_type FROM information_schema.columns "
        tables += "WHERE table_name LIKE 'stage_%' ORDER BY table_name, ordinal_position"
        staging.create(con, fmt)
        first = con.execute(tables).fetchall()
        staging.drop(con)
        assert (fmt.kind, fmt.mixed) in staging._DDL
        staging.create(con, fmt)
        assert con.execute(tables).fetchall() == first
        assert len(first) > 10
