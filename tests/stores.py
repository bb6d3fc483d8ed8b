"""Stores for the library's own tests, made through the library (no CLI): real DuckDB files
loaded from the bundled fixtures by `ingest.run.orchestrate`."""

from __future__ import annotations

from pathlib import Path

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
    jobs, warnings = orchestrate.nightly_jobs(config, settings)
    rules = orchestrate.Rules(settings.max_rejects, settings.identity.settings(), settings.bursts.settings())
    return orchestrate.run_jobs(db, "nightly", config, jobs, warnings, rules, wait=None, say=lambda line: None)


def bad_sectors(path: Path, rows: int) -> Path:
    """A curated CSV whose every row names a sector no vocabulary knows: `rows` rejects."""
    lines = ["ref,title,attack_types,started_at,time_precision,target_org,target_country,target_sector"]
    lines += [f"r{n},DDoS number {n},ddos,2022-02-{1 + n % 28:02d},day,Bank {n},UKR,banks" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path
