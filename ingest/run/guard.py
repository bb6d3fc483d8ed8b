"""The guard around each file of a run: whatever goes wrong inside one file's load ends as
that file failed (rolled back, in the ledger, one line said) and the run goes on to the next
file, and still derives bursts and matches identities.

A failure that is the input's fault (a `CyberlogError`, an `OSError`) is data: exit 3. Any
other exception is a bug in cyberlog: its traceback is appended to the store's error log
(`<store>.errors.log`, beside the store), the file's line names that log, and the run ends
with exit 1 when it is done, never halfway. SIGINT and SIGTERM are not caught here: they
unwind the run, which records them as 130 or 143.
"""

from __future__ import annotations

import errno
import re
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ingest import __version__
from ingest.errors import CyberlogError, MachineFault, stopped_statement
from ingest.load.ledger import FileResult
from ingest.store import damage, interrupted_query, resolve_db

if TYPE_CHECKING:
    from ingest.formats.base import Format


def errors_log(db: Path | None) -> Path:
    """Where the tracebacks of a store's bugs go: beside the store, `<store>.errors.log`."""
    store = resolve_db(db)
    return store.with_name(store.name + ".errors.log").absolute()


_DISK = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_DISK_TEXT = re.compile(r"No space left on device|File too large|Disk quota exceeded|database has been invalidated")
_ORIGINAL = re.compile(r'Original error: "(.*)"', re.S)


def machine_fault(exc: BaseException) -> MachineFault | None:
    """A full disk (or file size limit) under the store, or DuckDB's store made unusable by
    one: the machine's fault, to stop the run with exit 6 rather than fail file after file."""
    if isinstance(exc, OSError) and exc.errno in _DISK:
        why = exc.strerror or str(exc)
    elif damaged := damage(exc):  # a block of the store failed its checksum while it was read
        return damaged
    elif isinstance(exc, duckdb.Error) and _DISK_TEXT.search(str(exc)):
        original = _ORIGINAL.search(str(exc))  # an invalidated database names what did it
        why = original[1] if original else str(exc).splitlines()[0]
    else:
        return None
    return MachineFault(
        f"the machine: a write failed ({why}): free some space and run again; "
        "the file being loaded was rolled back, the files before it are kept"
    )


def detected(path: Path) -> Format | None:
    """The format of a file whose load failed, to name it in the failure; None if unknown."""
    from ingest import formats

    try:
        return formats.detect(path)
    except Exception:  # only a label: the failure itself is being recorded already
        return None


def failed(con: duckdb.DuckDBPyConnection, run_id: str, log: Path, result: FileResult, exc: Exception) -> FileResult:
    """A file whose load raised `exc`: rolled back, its reason said and kept in the ledger."""
    from ingest.load.files import abandon, record_failure

    if interrupted_query(exc):
        raise stopped_statement() from exc
    if fault := machine_fault(exc):
        raise fault from exc
    abandon(con)
    result.status, result.file_id, result.counts, result.skipped = "failed", None, {}, {}
    result.bug = not isinstance(exc, CyberlogError | OSError)
    result.error = _bug(log, run_id, result, exc) if result.bug else _input_fault(exc)
    record_failure(con, result, run_id)
    return result


def _input_fault(exc: Exception) -> str:
    if isinstance(exc, CyberlogError):
        return exc.message
    if isinstance(exc, OSError):
        return f"cannot read the file: {exc.strerror or exc}"
    return str(exc)


def _bug(log: Path, run_id: str, result: FileResult, exc: Exception) -> str:
    """The one-line reason of a bug; its traceback appended to the error log."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    header = (
        f"--- {datetime.now(UTC).isoformat(timespec='seconds')} cyberlog {__version__}, run {run_id}, "
        f"file {result.path} ({result.format or 'format unknown'})\n"
    )
    try:
        with log.open("a", encoding="utf-8") as out:
            out.write(header + "".join(traceback.format_exception(exc)))
    except OSError as err:
        return f"{reason} — a bug: the traceback could not be written to {log}: {err.strerror or err}"
    return f"{reason} — a bug: traceback in {log}"
