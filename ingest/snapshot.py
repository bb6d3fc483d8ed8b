"""The store's read-only snapshot: what readers open while a nightly writes.

DuckDB lets one process write a file or many read it, never both, so a query during the
nightly used to wait or exit 5. After each run that changed the store, the writer publishes
a snapshot beside it (`cyberlog.duckdb.snapshot`): a CHECKPOINT puts every committed change
in the store's file, the file is cloned to `….snapshot.part` (`copy_file_range`, which is a
reflink on filesystems that share blocks, an in-kernel copy on others), and the part is
renamed over the old snapshot in one step. The last snapshot stays whole until the new one is
complete, and a reader that opened it keeps reading it after a newer one lands (POSIX keeps
a renamed-over file for those who hold it open). A run is published whole or not at all:
the snapshot is taken after the run's last commit, never in the middle of one.

Readers (`query`, `report run`, `status`, `clusters`, `export`, the notebook API) open the
store itself when it is free and the snapshot when it is busy, and say so with its age.
`CYBERLOG_SNAPSHOT` chooses: `busy` (the default), `always` (read the snapshot whenever
there is one: a reader then never holds the store's lock, so it never delays a nightly), or
`never` (neither publish nor read one).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.errors import StoreError

SUFFIX = ".snapshot"
MODES = ("busy", "always", "never")
log = logging.getLogger("cyberlog.snapshot")


def path_of(store: Path) -> Path:
    return store.with_name(store.name + SUFFIX)


def mode() -> str:
    """$CYBERLOG_SNAPSHOT: when readers use the snapshot, and whether writers publish one."""
    chosen = os.environ.get("CYBERLOG_SNAPSHOT", "busy").strip().lower() or "busy"
    if chosen not in MODES:
        raise StoreError(f"CYBERLOG_SNAPSHOT must be one of {', '.join(MODES)}, not {chosen!r}")
    return chosen


def publish(con: duckdb.DuckDBPyConnection, store: Path) -> Path | None:
    """Checkpoint the store and put a copy of it beside it, atomically: the snapshot readers
    open while the store is busy. Returns the snapshot, or None when publishing is off."""
    if mode() == "never":
        return None
    con.execute("CHECKPOINT")  # every committed change in the file, the WAL emptied
    target = path_of(store)
    part = target.with_name(target.name + ".part")
    try:
        _clone(store, part)
        part.replace(target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target


def refresh(con: duckdb.DuckDBPyConnection, store: Path) -> str | None:
    """Publish after a change was committed; a snapshot that could not be written (a full
    disk) leaves the change standing and the last snapshot as it was: returns what to warn."""
    try:
        publish(con, store)
    except OSError as exc:
        return f"the snapshot readers use while the store is busy was not updated: {exc}"
    return None


def _clone(source: Path, target: Path) -> None:
    """A byte copy made by the kernel: blocks shared where the filesystem can (btrfs, XFS),
    copied without passing through Python elsewhere."""
    with source.open("rb") as src, target.open("wb") as dst:
        size = os.fstat(src.fileno()).st_size
        done = 0
        try:
            while done < size:
                moved = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                if moved == 0:
                    break
                done += moved
        except OSError:  # a filesystem or kernel without copy_file_range: copy in user space
            src.seek(done)
            dst.seek(done)
            while chunk := src.read(16 << 20):
                dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


def age(store: Path) -> str | None:
    """When the snapshot was published and how long ago, for the notice and `status`."""
    snapshot = path_of(store)
    try:
        published = snapshot.stat().st_mtime
    except OSError:
        return None
    when = datetime.fromtimestamp(published, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"published {when}, {_ago(time.time() - published)} ago"


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def said(store: Path, why: str) -> None:
    """The one line a reader of the snapshot gets: that it did, why, and how fresh it is."""
    log.warning("%s: read its snapshot, %s; a run in progress is not in it", why, age(store) or "of unknown age")
