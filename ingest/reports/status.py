"""What a store holds at a glance (`cyberlog status`): the store and its runs, one row per
source (`sql/status.sql`), and the actor names the MISP galaxies do not know.

It reads stores older than the tables and views it asks about: what such a store lacks
reads as empty, not as an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingest import snapshot
from ingest.reports import export
from ingest.store import resolve_db, scalar, sql_dir


@dataclass(frozen=True)
class Status:
    store: dict[str, Any]  # the store and its runs, name -> value
    actors_unresolved: list[str]
    columns: list[str]  # of the sources' rows
    sources: list[tuple[Any, ...]]


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name", {"name": name}))


def read(con: duckdb.DuckDBPyConnection, db: Path | None) -> Status:
    """The status of the store `db` names, read over `con` (read-only will do)."""
    _stand_in_for_missing(con)
    store = store_summary(con, db)
    unresolved = unresolved_actors(con)
    cursor = con.execute((sql_dir() / "status.sql").read_text("utf-8"))
    columns = [d[0] for d in cursor.description or []]
    return Status(store, unresolved, columns, cursor.fetchall())


def _stand_in_for_missing(con: duckdb.DuckDBPyConnection) -> None:
    """Empty temporary views for what an older store lacks."""
    if not has_table(con, "fetch_state"):  # a store no nightly has written since remote sources came
        con.execute(
            "CREATE TEMP VIEW fetch_state AS SELECT NULL AS source, NULL AS item, "
            "NULL::TIMESTAMPTZ AS fetched_at WHERE false"
        )
    if not scalar(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'v_unmapped'"):
        # a store no write has opened since unmapped words were kept: none known yet
        con.execute("CREATE TEMP VIEW v_unmapped AS SELECT NULL AS source, NULL AS id WHERE false")


def unresolved_actors(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Actor names the MISP galaxies do not know (stored tidied, not canonical), most records
    first: candidates for a synonym upstream, or names a source spells its own way."""
    from ingest.canon import galaxy

    names = con.execute("SELECT actor FROM incident_actors GROUP BY actor ORDER BY count(*) DESC, actor").fetchall()
    return [name for (name,) in names if not galaxy.known_actor(name)]


def store_summary(con: duckdb.DuckDBPyConnection, db: Path | None) -> dict[str, Any]:
    """The store file, its schema and its runs: the last one and those not finished, matched or derived."""
    path = resolve_db(db)
    found = con.execute(
        """SELECT count(*), max(started_at), arg_max(finished_at IS NOT NULL, started_at),
                  arg_max(exit_code, started_at), arg_max(command, started_at),
                  count(*) FILTER (WHERE finished_at IS NULL),
                  count(*) FILTER (WHERE identity_done_at IS NULL), count(*) FILTER (WHERE bursts_done_at IS NULL),
                  (SELECT max(version) FROM schema_version)
           FROM ingest_runs"""
    ).fetchall()[0]
    runs, last_started, last_finished, last_exit, last_command, unfinished, unmatched, underived, version = found
    return {
        "store": str(path),
        "size_bytes": path.stat().st_size,
        "schema_version": version,
        "runs": runs,
        "last_run": last_command and f"{last_command} at {export.text(last_started)}",
        "last_run_exit": last_exit if last_finished else None,  # a run still going, or killed, has none
        "runs_unfinished": unfinished,
        "runs_not_matched": unmatched,
        "runs_not_derived": underived,
        "snapshot": snapshot.age(path) or "none yet (the next run that changes the store publishes one)",
    }
