"""Tables and views exported whole for notebooks and other engines: one Parquet file each
(or hive folders by source and month), or spreadsheet-safe CSV.

A file or folder appears only once it is complete: it is written beside the target under
a temporary name, then moved into place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from ingest.errors import UsageError
from ingest.reports import export, results

EXPORTED = (
    "incidents",
    "incident_targets",
    "incident_actors",
    "diplomatic_events",
    "alerts",
    "derived_incidents",
    "incident_links",
    "incident_clusters",
    "event_links",
    "event_clusters",
    "ingest_runs",
    "ingest_files",
    "rejects",
    "cameo_codes",
    "v_incidents",
    "v_clusters",
    "v_events",
    "v_event_clusters",
    "v_timeline",
)
MONTH_OF = {"incidents": "started_at", "diplomatic_events": "occurred_at", "alerts": "observed_at"}


def chosen(names: list[str] | None) -> list[str]:
    """The tables asked for (all when none), refusing any the export does not know."""
    names = names or list(EXPORTED)
    unknown = [n for n in names if n not in EXPORTED]
    if unknown:
        raise UsageError(f"cannot export {', '.join(unknown)}: choose from {', '.join(EXPORTED)}")
    return names


def target(folder: Path, name: str, fmt: str, partition: bool) -> Path:
    """Where a table goes: a hive folder when partitioned by month, else one file."""
    return folder / (name if partition and name in MONTH_OF else f"{name}.{fmt}")


def export_table(
    con: duckdb.DuckDBPyConnection, name: str, folder: Path, fmt: str, partition: bool, *, crlf: bool = False
) -> Path:
    """One table or view as `fmt` ("parquet" or "csv", LF or `crlf` line ends) in `folder`;
    returns what was written."""
    chosen([name])
    written = target(folder, name, fmt, partition)
    if fmt == "csv":
        results.emit(con, f"SELECT * FROM {_quoted(name)}", {}, "csv", written, export.Look(crlf=crlf))
    else:
        _copy_parquet(con, name, written, partition and name in MONTH_OF)
    return written


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _copy_parquet(con: duckdb.DuckDBPyConnection, name: str, target: Path, partition: bool) -> None:
    """COPY to a temporary name beside the target, then into place: never half a file or folder."""
    temp = target.with_name(f".{target.name}.part")
    _remove(temp)
    if partition:
        query = f"SELECT *, strftime({_quoted(MONTH_OF[name])}, '%Y-%m') AS month FROM {_quoted(name)}"
        options = "FORMAT parquet, PARTITION_BY (source, month)"
    else:
        query, options = f"SELECT * FROM {_quoted(name)}", "FORMAT parquet"
    con.execute(f"COPY ({query}) TO $path ({options})", {"path": str(temp)})
    _remove(target)
    temp.replace(target)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
