"""Rejected records after their load: the filter `rejects list` and `rejects replay` share,
the files whose outstanding rejects a replay reads again, and marking those rejects
replayed once their file loaded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingest.errors import UsageError
from ingest.load.ledger import sha256_of

_WHERE = """($source IS NULL OR source = $source) AND ($run IS NULL OR run_id = $run)
    AND ($file IS NULL OR file_id = $file OR path = $file) AND ($reason IS NULL OR contains(reason, $reason))"""

# where and why first: a table on a terminal shows the leading columns that fit
_LIST = f"""SELECT reject_id, coalesce(line::VARCHAR, pointer) AS at, field, reason, source, path, format,
                   rejected_at, outstanding
            FROM v_rejects WHERE ($all OR outstanding) AND {_WHERE}
            ORDER BY rejected_at DESC, path, line, pointer"""


@dataclass(frozen=True)
class RejectFilter:
    """Which rejects: each field narrows them, None leaves them all."""

    source: str | None = None
    run: str | None = None  # its run_id
    file: str | None = None  # its file_id, or its path
    reason: str | None = None  # text the reason contains

    def params(self) -> dict[str, Any]:
        file = self.file
        if file and Path(file).exists():
            file = str(Path(file).resolve())  # rejects keep the resolved path
        return {"source": self.source, "run": self.run, "file": file, "reason": self.reason}


def listing(which: RejectFilter, *, replayed_too: bool = False) -> tuple[str, dict[str, Any]]:
    """The query of `rejects list` and its params: newest first, outstanding ones unless `replayed_too`."""
    return _LIST, {**which.params(), "all": replayed_too}


def show(con: duckdb.DuckDBPyConnection, reject_id: str) -> list[tuple[str, Any]]:
    """One reject whole, as (column, value) pairs."""
    cursor = con.execute("SELECT * FROM v_rejects WHERE reject_id = $id", {"id": reject_id})
    columns = [d[0] for d in cursor.description or []]
    found = cursor.fetchall()
    if not found:
        raise UsageError(f"no reject {reject_id!r}: see `cyberlog rejects list`")
    return list(zip(columns, found[0], strict=True))


@dataclass(frozen=True)
class RejectedFile:
    """A file with outstanding rejects, as the ledger knows it."""

    file_id: str
    path: Path
    source: str
    format: str
    sha256: str | None
    rejects: int

    def unchanged(self) -> bool:
        """Still there with the bytes it was loaded with: its rejects can be read again."""
        return self.path.is_file() and not (self.sha256 and sha256_of(self.path) != self.sha256)


def rejected_files(con: duckdb.DuckDBPyConnection, which: RejectFilter) -> list[RejectedFile]:
    """The files of the outstanding rejects `which` selects, by path."""
    found = con.execute(
        f"""SELECT f.file_id, f.path, f.source, f.format, f.sha256, count(*) AS n
            FROM (SELECT file_id FROM v_rejects WHERE outstanding AND {_WHERE}) r
            JOIN ingest_files f USING (file_id)
            GROUP BY ALL ORDER BY f.path""",
        which.params(),
    ).fetchall()
    return [RejectedFile(file_id, Path(path), src, fmt, sha, n) for file_id, path, src, fmt, sha, n in found]


def mark_replayed(con: duckdb.DuckDBPyConnection, file_id: str, run_id: str) -> None:
    """The file's outstanding rejects were read again by this run: replayed, not deleted."""
    con.execute(
        "UPDATE rejects SET replayed_at = now(), replay_run = $run WHERE file_id = $file AND replayed_at IS NULL",
        {"run": run_id, "file": file_id},
    )


# A replay reads the whole file again; without --all-records only the lines (or pointers) of the
# file's outstanding rejects are merged, so every record that loaded before is left as it is.
_OLD_REJECT = """EXISTS (SELECT 1 FROM rejects r WHERE r.file_id = $old AND r.replayed_at IS NULL
                      AND r.line IS NOT DISTINCT FROM {t}.line AND r.pointer IS NOT DISTINCT FROM {t}.pointer)"""


def only_rejects(con: duckdb.DuckDBPyConnection, old_file_id: str) -> int:
    """Inside a replay's merge, after its keys (stage_keyed): the staged records and rejects
    that are not the old file's outstanding rejects are dropped. Returns the records left
    as they were loaded."""
    params = {"old": old_file_id}
    left = con.execute(
        f"""SELECT count(*) FROM stage_keyed k JOIN stage_main s USING (seq)
            WHERE k.copy_no = 1 AND NOT {_OLD_REJECT.format(t="s")}""",
        params,
    ).fetchall()[0][0]
    con.execute(
        f"DELETE FROM stage_keyed WHERE seq IN (SELECT seq FROM stage_main s WHERE NOT {_OLD_REJECT.format(t='s')})",
        params,
    )
    drop_other_rejects(con, old_file_id)
    return int(left)


def drop_other_rejects(con: duckdb.DuckDBPyConnection, old_file_id: str) -> None:
    """A replay's staged rejects that were not rejects before: their records are in the store."""
    con.execute(f"DELETE FROM stage_rejects WHERE NOT {_OLD_REJECT.format(t='stage_rejects')}", {"old": old_file_id})


def only_reject_lines(con: duckdb.DuckDBPyConnection, old_file_id: str) -> list[int]:
    """The lines of a log's outstanding rejects: a replay of a log merges only these."""
    found = con.execute(
        "SELECT line FROM rejects WHERE file_id = $old AND replayed_at IS NULL AND line IS NOT NULL",
        {"old": old_file_id},
    ).fetchall()
    return [int(line) for (line,) in found]


def replaced(con: duckdb.DuckDBPyConnection) -> list[tuple[int | None, str | None, str]]:
    """After a merge's plan (stage_plan): the records stored before that it replaces, by where
    they are in the file and their ref; a replay says each one."""
    found = con.execute(
        """SELECT s.line, s.pointer, s.source_ref FROM stage_plan p JOIN stage_main s USING (seq)
           WHERE p.action = 'update' ORDER BY s.line, s.pointer"""
    ).fetchall()
    return [(line, pointer, str(ref)) for line, pointer, ref in found]
