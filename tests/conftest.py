"""Shared test helpers: run the real CLI in-process against real DuckDB files."""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import random
import shutil
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest import cli
from ingest.store import open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
REALWORLD = ROOT.parent / "shared" / "realworld"
# What `nightly --config fixtures/cyberlog.toml` loads: keep in step with fixtures/
FIXTURE_FILES = 20
FIXTURE_INCIDENTS = 29  # 26 reported, 3 derived from bursts of the telemetry fixtures' alerts
FIXTURE_EVENTS = 53  # 20 curated, 16 GDELT kept by the filter, 10 ICEWS, 7 ACLED
CURATED_INCIDENTS = 9  # fixtures/incidents_csv/good/ukraine-2022.csv
GOOD = {  # one good fixture per format, for the tests every format must pass (they check it has one)
    "acled": "acled/good/acled-2022-02.csv",
    "cef": "cef/good/waf01-2022-02-15.cef",
    "cfr_tracker": "cfr_tracker/good/cfr-2022.csv",
    "cissm": "cissm/good/cissm-2022.csv",
    "dcid": "dcid/good/DCID_2.0_Release_update_February_2023.xlsx",
    "ddosia": "ddosia/good/2023-06-06_08-00-00_DDoSia-target-list-full.json",
    "ecs": "ecs/good/siem-2022-02-15.ndjson",
    "eurepoc": "eurepoc/good/eurepoc-2022.csv",
    "events_csv": "events_csv/good/ukraine-2022.csv",
    "eve": "eve/good/ids01-2022-02-15.json",
    "gdelt": "gdelt/good/20220215171500.export.CSV",
    "icews": "icews/good/icews-2022-02.tab",
    "incidents_csv": "incidents_csv/good/ukraine-2022.csv",
    "misp": "misp/good/events-2022-01.json",
    "ocsf": "ocsf/good/soar-2022-02-15.ndjson",
    "polecat": "polecat/good/ngecEvents.20220221093000.Release642.DV.txt",
    "stix": "stix/good/cert-ukraine-2022-02.json",
    "ucdp_ged": "ucdp_ged/good/GEDEvent_v24_1.csv",
    "veris": "veris/good/vcdb-ukraine-2022.json",
    "viina": "viina/good/event_labels_latest_2022.csv",
}


# Slow by nature: the README's test command leaves them out (`-m "not slow"` in pyproject),
# .ci/run runs them too, and `pytest -m slow` runs them alone (`pytest -m ""` runs all).
SLOW_MODULES = frozenset(
    {
        "test_spark",  # a Spark session and every report on it
        "test_fuzz",  # hypothesis over every format
        "test_odd_inputs",  # every encoding and line end, for every format
        "test_crash",  # nightlies killed at random moments
        "test_concurrency",  # real processes holding and waiting for the store's lock
        "test_lake",  # parallel writers into a Parquet lake
        "test_calibration",  # the correlation reports over many seeded null and planted worlds
        "test_page",  # a headless browser
        "test_page_lags",  # the statistical reports' pictures, in the browser
        "test_page_tallies",  # the tallies' pictures, in the browser
        "test_serve_browser",  # the web app of `cyberlog serve`, in the browser
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(*args: str | Path) -> Result:
    """`cyberlog ARGS` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["cyberlog", *map(str, args)]
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return Result(code, out.getvalue(), err.getvalue())


def rows(db: Path, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def scalar(db: Path, sql: str, params: dict[str, object] | None = None) -> object:
    return rows(db, sql, params)[0][0]


def ip_number(text: str) -> int:
    """An address as the store numbers it (ip_num): IPv4 inside ::ffff:0:0/96, by Python's ipaddress."""
    address = ipaddress.ip_address(text)
    return int(address) + (0xFFFF00000000 if address.version == 4 else 0)


def check_golden(request: pytest.FixtureRequest, path: Path, actual: str) -> None:
    """Compare with a golden file; `pytest --update-golden` rewrites it (read the diff)."""
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"no golden file {path}: run pytest --update-golden and review it"
    assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}"


def to_csv(header: list[str], data: list[tuple[object, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(data)
    return buffer.getvalue()


def copy_store(store: Path, to: Path) -> Path:
    """A copy of a closed store at `to`: its file, and its WAL if it has one."""
    shutil.copyfile(store, to)
    wal = store.with_name(store.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, to.with_name(to.name + ".wal"))
    return to


def _digest(store: Path) -> tuple[str, bool]:
    wal = store.with_name(store.name + ".wal")
    return hashlib.sha256(store.read_bytes()).hexdigest(), wal.exists()


# Stores are built once per test run and copied, never built again for each test: a test
# that writes gets its own copy in its tmp_path; one that only reads may share the original.


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the schema and nothing else, made as the first write to a new store
    makes it; applying the schema is a good part of a small test's first ingest."""
    db = tmp_path_factory.mktemp("empty-store") / "store.duckdb"
    with open_store(db, write=True):
        pass
    return db


@pytest.fixture
def db(empty_store: Path, tmp_path: Path) -> Path:
    """This test's own new, empty store (a copy of `empty_store`)."""
    return copy_store(empty_store, tmp_path / "store.duckdb")


@pytest.fixture(scope="session")
def shared_fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The store after `nightly --config fixtures/cyberlog.toml`, built once per test run.
    Tests read it through `fixture_store`; a test that writes takes `loaded`, its own copy."""
    db = tmp_path_factory.mktemp("fixture-store") / "store.duckdb"
    result = run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db)
    assert result.code == 0, result.err
    with duckdb.connect(str(db)) as con:
        con.execute("CHECKPOINT")  # everything in the one file, none of it in a WAL
    built = _digest(db)
    yield db
    assert _digest(db) == built, "a test wrote to the shared fixture store: give it `loaded`, a copy"


@pytest.fixture
def fixture_store(shared_fixture_store: Path) -> Iterator[Path]:
    """The shared store of the bundled fixtures, for a test that only reads it (the CLI's
    readers and `rows` open it read-only); the test fails if it changed the store."""
    before = _digest(shared_fixture_store)
    yield shared_fixture_store
    assert _digest(shared_fixture_store) == before, "this test wrote to the shared fixture store: use `loaded`"


@pytest.fixture
def loaded(shared_fixture_store: Path, db: Path) -> Path:
    """This test's own copy of the store with the bundled fixtures loaded by the nightly job."""
    return copy_store(shared_fixture_store, db)


ORGS = ["Ministry of Defence", "PrivatBank", "Oschadbank", "Ukrenergo", "Kyivstar", "Naftogaz", "Ukrposhta"]


def _curated(path: Path, source: str, first: int, rows: int) -> None:
    rng = random.Random(first)
    with path.open("w", encoding="utf-8") as out:
        out.write("ref,title,attack_types,started_at,time_precision,target_org,target_domain,target_country\n")
        for n in range(first, first + rows):
            org = ORGS[n % len(ORGS)]
            day = f"2022-{1 + n % 12:02d}-{1 + (n // 12) % 28:02d}"
            domain = f"{org.lower().replace(' ', '')}-{n % 97}.gov.ua"
            kind = "ddos" if n % 3 else "wiper"
            title = f"{source} report {n}: {kind} against {org} {rng.randrange(10**6)}"
            out.write(f"{source[0]}{n},{title},{kind},{day},day,{org} {n % 97},{domain},UKR\n")


@pytest.fixture(scope="session")
def big_feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config over feeds big enough to take a few seconds: three curated CSVs from one
    source, two from another describing the same attacks (so matching has work), three
    GDELT exports of 40,000 rows with a real feed's faults (so there are rejects), and an
    IDS log of 120,000 Suricata EVE lines (alerts, and incidents derived from them)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gdelt_synth  # the benchmark's generator: real CAMEO codes, a real feed's faults

    folder = tmp_path_factory.mktemp("feeds")
    for i in range(3):
        _curated(folder / f"alpha-{i}.csv", "alpha", i * 1500, 1500)
    for i in range(2):
        _curated(folder / f"beta-{i}.csv", "beta", i * 1500, 1500)
    for i in range(3):
        export = folder / f"2022020{i + 1}000000.export.CSV"
        gdelt_synth.write(export, 40_000, seed=i, first_id=1_000_000_000 + i * 10**6)
    import bench_telemetry  # a DDoS in Suricata EVE: streamed and merged inside its transaction

    bench_telemetry.write_eve(folder / "ids.json", 120_000, seed=3)
    config = folder / "cyberlog.toml"
    config.write_text(
        "max_rejects = 1000000\n"
        '[[sources]]\nname = "alpha"\nformat = "incidents_csv"\npath = "alpha-*.csv"\n'
        '[[sources]]\nname = "beta"\nformat = "incidents_csv"\npath = "beta-*.csv"\n'
        '[[sources]]\nname = "gdelt"\nformat = "gdelt"\npath = "*.export.CSV"\n'
        '[[sources]]\nname = "ids"\nformat = "eve"\npath = "ids.json"\n'
        "[bursts]\nmin_per_minute = 60\nmin_alerts = 300\n",
        "utf-8",
    )
    return config


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (the dev extras); skips, saying why, without them."""
    from browser import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras")
    if CHROMIUM is None:
        pytest.skip("no chromium here (.ci/run installs Debian's)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
