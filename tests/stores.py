"""Stores for the library's own tests, made through the library (no CLI): real DuckDB files
loaded from the bundled fixtures by `ingest.run.orchestrate`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.reports import catalog, export, results
from ingest.reports.pictures import Drawing, Picture, picture
from ingest.run import orchestrate
from ingest.run.jobs import RunResult
from ingest.store import open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CURATED = FIXTURES / "incidents_csv" / "good" / "ukraine-2022.csv"  # 9 incidents
CFR = FIXTURES / "cfr_tracker" / "good" / "cfr-2022.csv"  # 3 incidents, with actors the galaxies do not all know
UNKNOWN_SECTOR = FIXTURES / "incidents_csv" / "bad" / "unknown_sector.csv"  # 2 good rows, line 3 rejected


def empty(db: Path) -> Path:
    """A store with the schema and nothing in it."""
    with open_store(db, write=True):
        pass
    return db


def load(
    db: Path, *paths: Path, said: list[str] | None = None, verbose: bool = False, rules: orchestrate.Rules | None = None
) -> RunResult:
    """`cyberlog ingest PATHS` as the library runs it: each line it says goes to `said`."""
    jobs = orchestrate.file_jobs(list(paths), None, None, None, "utf-8")
    lines = said if said is not None else []
    return orchestrate.run_jobs(
        db, "ingest", None, jobs, [], rules or orchestrate.Rules(), wait=None, say=lines.append, verbose=verbose
    )


def nightly(db: Path, config: Path = FIXTURES / "cyberlog.toml") -> RunResult:
    """The nightly over the bundled fixtures (their local sources)."""
    from ingest.run.config import load_config

    settings = load_config(config)
    jobs, warnings = orchestrate.nightly_jobs(config, settings.local())
    rules = orchestrate.Rules(settings.max_rejects, settings.identity.settings(), settings.bursts.settings())
    return orchestrate.run_jobs(db, "nightly", config, jobs, warnings, rules, wait=None, say=lambda line: None)


def bad_sectors(path: Path, rows: int) -> Path:
    """A curated CSV whose every row names a sector no vocabulary knows: `rows` rejects."""
    lines = ["ref,title,attack_types,started_at,time_precision,target_org,target_country,target_sector"]
    lines += [f"r{n},DDoS number {n},ddos,2022-02-{1 + n % 28:02d},day,Bank {n},UKR,banks" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


WAF_START = datetime(2022, 2, 15, 14, 0, 7, tzinfo=UTC)


def aggregating_waf(folder: Path) -> Path:
    """A WAF's CEF log that says one alert a minute for 12 minutes, each standing for
    180,000 + m requests in `cnt`: a burst of events, never of alerts."""
    (folder / "waf").mkdir()
    lines = [
        f"<134>Feb 15 14:{m:02d}:07 waf01 CEF:0|Example|WAF|2.1|ddos-101|HTTP flood detected|9|"
        f"rt={int((WAF_START + timedelta(minutes=m)).timestamp() * 1000)} dst=198.51.100.20 dpt=443 "
        f"request=https://privatbank.ua/ act=blocked cnt={180_000 + m} cs1=PrivatBank cs1Label=targetOrg"
        for m in range(12)
    ]
    path = folder / "waf" / "waf01.cef"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def drawn(db: Path, name: str, **given: Any) -> tuple[Picture, list[dict[str, Any]]]:
    """A report's picture as its page would draw it (JSON the page can inline), and its rows as dicts."""
    report = catalog.get(name)
    params = report.bind({k: str(v) for k, v in given.items()})
    with results.reading(db) as con:
        columns, rows = results.report_rows(con, report, params)
        built = picture(Drawing(con, name, columns, rows, params))
    assert built is not None
    json.dumps(built.data, default=export.json_default)  # what the page inlines
    return built, [dict(zip(columns, r, strict=True)) for r in rows]
