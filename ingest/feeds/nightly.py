"""The nightly's remote side: the downloads a run loads as they arrive, and the plan of
`nightly --dry-run` (the local files the ledger does not know, and what each remote
source would fetch: its list or manifest is read; nothing is downloaded or written).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import duckdb

from ingest.feeds import FeedRun, FetchError, dry_run
from ingest.load.ledger import Ledger
from ingest.run.config import Config
from ingest.run.jobs import Job, RunResult
from ingest.run.orchestrate import OnFile, Remote
from ingest.store import open_store, resolve_db, scalar


def remote_jobs(settings: Config, config_path: Path) -> Remote | None:
    """What starts the remote sources' downloads inside a run, or None if the config has none."""
    if not any(src.url for src in settings.sources):
        return None

    def start(con: duckdb.DuckDBPyConnection, run: RunResult, on_failure: OnFile) -> FeedRun:
        return FeedRun(con, run, settings, config_path, on_failure)

    return start


def plan(
    db: Path | None, config_path: Path, settings: Config, jobs: list[Job], warnings: list[str]
) -> dict[str, list[Any]]:
    """What a nightly would do now, as JSON-ready lists: `ingest` (local files), `fetch`
    (remote items), `failed` (remote sources that cannot say) and `warnings`."""
    found: dict[str, list[Any]] = {"ingest": [], "fetch": [], "failed": [], "warnings": warnings}
    with ExitStack() as stack:
        con = stack.enter_context(open_store(db, write=False)) if resolve_db(db).exists() else None
        ledger = Ledger(con) if con is not None else None
        for job in jobs:
            if ledger is None or not ledger.same_file(job.path, job.source):
                found["ingest"].append({"source": job.source, "format": job.format_label(), "path": str(job.path)})
        state = con if con is not None and _has_fetch_state(con) else None
        for src in settings.sources:
            if src.url is None:
                continue
            try:
                items = dry_run(settings, config_path, state, src)
            except (FetchError, ValueError) as exc:
                found["failed"].append({"source": src.name, "error": getattr(exc, "message", str(exc))})
                continue
            found["fetch"] += [{"source": src.name, "format": src.format, "what": what} for what in items]
    return found


def _has_fetch_state(con: duckdb.DuckDBPyConnection) -> bool:
    """False for a store no nightly has written since remote sources came."""
    return bool(scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'fetch_state'"))
