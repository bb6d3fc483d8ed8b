"""Loading one file: one file, one transaction.

Records are read, validated in batches with the format's TypeAdapter, converted, and
staged through Arrow into temporary tables; one set-based merge then inserts new
records, replaces changed ones and leaves re-sent ones alone. A crash or an unreadable
file rolls the whole file back, so the store never holds half a file.
"""

from __future__ import annotations

import gc
import json
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from ingest import formats
from ingest.canon.filters import EventFilter
from ingest.canon.records import RecordError, Skip
from ingest.errors import FileUnreadable
from ingest.formats.base import Format, SqlStage, SqlStream
from ingest.inputs import archives
from ingest.inputs.guard import regular_file
from ingest.inputs.readers import RawRecord, json_text
from ingest.load import checked, rejects, staging
from ingest.load.columns import ALSO, REJECT, Batch, clean_text
from ingest.load.ledger import FileResult, Ledger, sha256_of
from ingest.load.staging import StageOptions
from ingest.store import scalar

SUPERSEDED = "older version of a record given again in this file"
NO_FILTER = EventFilter()
Status = Literal["loaded", "skipped", "failed"]


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    run_id: str,
    fmt: Format | None = None,
    source: str | None = None,
    zone: ZoneInfo | None = None,
    encoding: str = "utf-8",
    progress: Callable[[int], None] | None = None,
    event_filter: EventFilter = NO_FILTER,
    ledger: Ledger | None = None,
    force: bool = False,
    replay_of: str | None = None,
) -> FileResult:
    """Load one file in its own transaction; skip it when its bytes were loaded before
    (unless `force`: `rejects replay` loads a known file again, so its records that now
    pass are merged, exactly once, and the others rejected again). `replay_of` (a replay
    without --all-records) merges only the records that were outstanding rejects of that
    file_id: every record loaded before is left as it is, and counted as left."""
    result = FileResult(path, "failed", source, fmt.name if fmt else None)
    started = datetime.now(UTC)
    ledger = ledger or Ledger(con)
    try:
        stat = regular_file(path)  # a FIFO, device, folder or symlink loop is refused before it is opened
        fmt = fmt or formats.detect(path)
        result.format, result.source = fmt.name, source or fmt.default_source
        # same path, size and mtime as a loaded file: skip without reading a byte
        if not force and ledger.same_file(path, result.source):
            result.status = "skipped"
            return result
        with ThreadPoolExecutor(1) as hasher:
            # A big file stages inside DuckDB while its digest is computed beside it (hashing
            # releases the GIL); a renamed copy of a loaded file is then found after staging,
            # its stage dropped. Python-staged files are small: their digest comes first.
            digest = hasher.submit(sha256_of, path)
            # a capture (DDoSia) with the bytes of an earlier one is a new observation at its own time
            if (
                not force
                and fmt.stage is None
                and fmt.snapshot is None
                and ledger.same_bytes(result.source, digest.result())
            ):
                result.status = "skipped"
                return result
            result.file_id = str(uuid.uuid4())
            options = StageOptions(zone, encoding, progress, event_filter)
            if fmt.streams:
                status = _load_streaming(
                    con, path, fmt, options, result, run_id, digest, ledger, force, replay_of, started
                )
                if status == "loaded":  # its transaction is still open for the ledger row
                    try:
                        _record_file(con, result, run_id, stat.st_size, stat.st_mtime_ns, started)
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                    ledger.loaded(result, stat.st_size, stat.st_mtime_ns)
                result.status = status
                return result
            records_read = _stage_file(con, path, fmt, options, result.skipped)
            result.sha256 = digest.result()
        if not force and fmt.snapshot is None and ledger.same_bytes(result.source, result.sha256):
            staging.drop(con)
            result.status, result.file_id, result.skipped = "skipped", None, {}
            return result
        con.execute("BEGIN TRANSACTION")
        try:
            result.counts = _merge_file(con, path, fmt, result, run_id, encoding, replay_of, force, started)
            result.counts["records_read"] = records_read
            _record_file(con, result, run_id, stat.st_size, stat.st_mtime_ns, started)
            con.execute("COMMIT")
            ledger.loaded(result, stat.st_size, stat.st_mtime_ns)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            staging.drop(con)
        result.status = "loaded"
    except (OSError, FileUnreadable, UnicodeError) as exc:
        if isinstance(exc, FileUnreadable):
            result.error = exc.message
        elif isinstance(exc, UnicodeDecodeError):  # e.g. a UTF-16 BOM on an odd number of bytes
            result.error = f"cannot decode the file as {exc.encoding}: {exc.reason}"
        elif isinstance(exc, UnicodeError):
            result.error = f"cannot decode the file: {exc}"
        else:
            result.error = f"cannot read the file: {exc.strerror or exc}"
        staging.drop(con)
        result.file_id = result.file_id or str(uuid.uuid4())
        _record_file(con, result, run_id, None, None, started)
    return result


def abandon(con: duckdb.DuckDBPyConnection) -> None:
    """After an exception escaped `load_file`: no transaction left open, no stage left over,
    so the file's rows are gone and the next file starts clean."""
    with suppress(duckdb.TransactionException):  # load_file rolled its own transaction back on the way out
        con.execute("ROLLBACK")
    staging.drop(con)


def record_failure(con: duckdb.DuckDBPyConnection, result: FileResult, run_id: str) -> None:
    """A file that failed outside `load_file`'s own checks (a remote source that could not be
    fetched, a bug caught by the run's guard), in the ledger like any file that failed."""
    result.file_id = result.file_id or str(uuid.uuid4())
    now = datetime.now(UTC)
    _record_file(con, result, run_id, None, None, now)


def _load_streaming(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: Format,
    options: StageOptions,
    result: FileResult,
    run_id: str,
    digest: Future[str],
    ledger: Ledger,
    force: bool,
    replay_of: str | None,
    started: datetime,
) -> Status:
    """A big log (security telemetry) read and merged batch by batch inside the file's one
    transaction, so neither the file nor its staged records need to fit in memory. Returns
    "loaded" with the transaction still open for the ledger row, or "skipped" (a renamed
    copy of loaded bytes, found once its digest is known) rolled back."""
    assert isinstance(fmt.stage, SqlStream)
    staging.create(con, fmt)
    params = {"source": result.source, "run": run_id, "file": result.file_id, "now": started}
    merge = ChunkMerge(con, params, rejects.only_reject_lines(con, replay_of) if replay_of else None)
    con.execute("BEGIN TRANSACTION")
    try:
        with tempfile.TemporaryDirectory(prefix="cyberlog-stage-") as work:
            plain = archives.unpack(path, Path(work), gzip_too=False)
            records_read = staging.stream(
                con, plain, fmt.stage, options, result.skipped, Path(work), merge, merge.restart
            )
        result.sha256 = digest.result()
        if not force and ledger.same_bytes(result.source or "", result.sha256):
            con.execute("ROLLBACK")
            result.file_id, result.skipped = None, {}
            return "skipped"
        counts = merge.finish()
        if replay_of:
            rejects.drop_other_rejects(con, replay_of)
            counts["left_as_loaded"] = merge.left
        rejected = _keep_rejects(con, path, fmt, options.encoding, params)
        result.counts = {**counts, "records_read": records_read, "rejected": rejected}
        return "loaded"
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        staging.drop(con)


class ChunkMerge:
    """Merges a streaming format's batches (Arrow tables shaped like stage_main) into the
    alerts table inside the file's transaction, then reconciles the file with itself and
    with the store once (`finish`): sql/merge_chunk.sql."""

    def __init__(self, con: duckdb.DuckDBPyConnection, params: dict[str, Any], lines: list[int] | None = None) -> None:
        self.con, self.params = con, params
        self.sql = staging.parts("merge_chunk.sql")
        self.inserted = 0
        self.lines = pa.array(lines, pa.int64()) if lines is not None else None  # a replay: only these lines
        self.left = 0  # a replay: good lines left as they were loaded

    def restart(self) -> None:
        """Undo every batch merged so far: the file is read again from its first line."""
        self.con.execute("ROLLBACK")
        self.con.execute("BEGIN TRANSACTION")
        self.con.execute("DELETE FROM stage_rejects")
        self.inserted = self.left = 0

    def _statements(self, section: str) -> list[tuple[str, dict[str, Any]]]:
        return [(statement, staging.bound(statement, self.params)) for statement in self.sql[section]]

    # Arrow tables are found by DuckDB's replacement scan under the local names the SQL uses
    # (stage_main, stage_categories, twice, repeated, stored), so the statements run in the methods that
    # hold them: registered instead, each would be kept alive until the transaction ends.

    def __call__(self, batch: pa.Table, categories: pa.Table) -> None:
        """Insert the alerts among a batch of parsed lines (bad and skipped lines are left
        out), each with its attack type from `categories`."""
        con = self.con
        if self.lines is not None:
            replayed = batch.filter(pc.is_in(batch.column("line"), value_set=self.lines))
            good = pc.and_(pc.is_null(batch.column("bad_field")), pc.invert(batch.column("skipped")))
            self.left += (pc.sum(good.cast(pa.int64())).as_py() or 0) - replayed.num_rows
            batch = replayed
        stage_main, stage_categories = batch, categories  # noqa: F841
        # Rows of a batch may land in any order (every query orders what it shows): the
        # insert then runs on every core instead of one, twice as fast.
        con.execute("SET SESSION preserve_insertion_order = false")  # this connection only
        try:
            for statement, params in self._statements("apply"):
                self.inserted += int(con.execute(statement, params).fetchall()[0][0])
        finally:
            con.execute("RESET SESSION preserve_insertion_order")

    def finish(self) -> dict[str, int]:
        """The file's refs given in two batches (the first copy stays), then those stored
        before it (unchanged: left as they were; changed: replaced). Returns the counts."""
        con = self.con
        dropped = same = changed = 0
        [(query, params)] = self._statements("twice")
        twice = con.sql(query, params=params).to_arrow_table()
        if twice.num_rows:
            [(query, params)] = self._statements("repeated")
            repeated = con.sql(query, params=params).to_arrow_table()
            for statement, params in self._statements("drop repeated"):
                con.execute(statement, params)
            dropped = pc.sum(pc.greater(repeated.column("line"), repeated.column("kept_line"))).as_py() or 0
        [(query, params)] = self._statements("others")
        if con.execute(query, params).fetchall()[0][0]:
            [(query, params)] = self._statements("stored")
            stored = con.sql(query, params=params).to_arrow_table()
            for statement, params in self._statements("settle stored"):
                con.execute(statement, params)
            same = pc.sum(stored.column("same").cast(pa.int64())).as_py() or 0
            changed = stored.num_rows - same
        return {"inserted": self.inserted - dropped - same - changed, "updated": changed, "unchanged": same}


def _record_file(
    con: duckdb.DuckDBPyConnection,
    r: FileResult,
    run_id: str,
    size: int | None,
    mtime_ns: int | None,
    started: datetime,
) -> None:
    con.execute(
        "INSERT INTO ingest_files (file_id, run_id, source, format, path, sha256, size_bytes, mtime_ns, status, "
        "error, records_read, inserted, updated, unchanged, rejected, skipped, skip_reasons, started_at, "
        "finished_at) VALUES ($id, $run, $source, $format, $path, $sha, $size, $mtime, $status, $error, $read, "
        "$ins, $upd, $unch, $rej, $skipped, $reasons, $started, $finished)",
        {
            "id": r.file_id,
            "run": run_id,
            "source": r.source or "",
            "format": r.format,
            "path": r.stored_path,
            "sha": r.sha256,
            "size": size,
            "mtime": mtime_ns,
            "status": "failed" if r.error else "loaded",
            "error": r.error,
            "read": r.count("records_read"),
            "ins": r.count("inserted"),
            "upd": r.count("updated"),
            "unch": r.count("unchanged"),
            "rej": r.count("rejected"),
            "skipped": sum(r.skipped.values()),
            "reasons": json.dumps(r.skipped, sort_keys=True) if r.skipped else None,
            "started": started,
            "finished": datetime.now(UTC),
        },
    )


def _batches(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    while chunk := list(islice(records, size)):
        yield chunk


def _stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, options: StageOptions, skipped: dict[str, int]
) -> int:
    """Read, validate and convert the file into temporary staging tables, batch by batch.

    Staging commits batch by batch, outside the file's transaction: temporary tables
    never reach the store, and committed ones can spill to disk under DuckDB's memory
    limit, so a large file does not need its size in memory. A format that stages
    inside DuckDB does all of it in SQL.
    """
    staging.create(con, fmt)
    with tempfile.TemporaryDirectory(prefix="cyberlog-stage-") as work:
        if isinstance(fmt.stage, SqlStage):  # DuckDB reads gzip itself; a zip is unpacked first
            plain = archives.unpack(path, Path(work), gzip_too=False)
            return staging.stage_sql(con, plain, fmt, options, skipped, Path(work))
        plain = path if fmt.reads_archives else archives.unpack(path, Path(work))
        context = {"zone": options.zone}

        def stage_records(chunk: list[RawRecord], seqs: Iterable[int]) -> None:
            """Records through the format's model and converter, into the stage tables."""
            with _paused_gc():
                batch = Batch()
                _validate(fmt, chunk, context, batch, seqs, skipped)
                tables = batch.tables(fmt.kind, fmt.mixed)
            for name, table in tables.items():
                staging.insert(con, name, table)

        if fmt.checked is not None:  # checked inside DuckDB; the model sees only the rows SQL cannot vouch for
            read = checked.stage(con, plain, fmt, options, stage_records)
            if read is not None:
                return read
        seq = 0
        for chunk in _batches(fmt.read(plain, options.encoding, options.progress), fmt.batch):
            stage_records(chunk, range(seq, seq + len(chunk)))
            seq += len(chunk)
        return seq


@contextmanager
def _paused_gc() -> Iterator[None]:
    """No cyclic GC while a batch is built: it only allocates, and a batch's objects are
    freed by reference counting when it is staged. Collections triggered by those
    allocations would otherwise scan every live object again and again (halving speed)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _merge_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: Format,
    result: FileResult,
    run_id: str,
    encoding: str,
    replay_of: str | None,
    replay: bool,
    started: datetime,
) -> dict[str, int]:
    """Inside the file's transaction: merge the staged records and keep its rejects; a
    `replay` notes each record stored before that it replaces. Its records are stamped as
    loaded when the file's load began (`started`, its ledger row's started_at)."""
    params = {"source": result.source, "run": run_id, "file": result.file_id, "now": started}
    listed = {"snapshot": fmt.snapshot(path)} if fmt.snapshot is not None else {}  # a claimed list's time
    kinds = [fmt.kind, *([ALSO[fmt.kind]] if fmt.mixed else [])]
    counts: dict[str, int] = {}
    for kind in kinds:
        if kind != fmt.kind:  # a mixed format's other records, merged by their own kind's rules
            con.execute("DROP TABLE IF EXISTS stage_done")
            con.execute("ALTER TABLE stage_main RENAME TO stage_done")
            con.execute("ALTER TABLE stage_also RENAME TO stage_main")
        found = _merge(con, kind, {**params, **listed}, replay_of)
        counts = {name: counts.get(name, 0) + n for name, n in found.items()}
        if replay:
            result.replaced += rejects.replaced(con)
        superseded = int(scalar(con, "SELECT count(*) FROM stage_keyed WHERE copy_no > 1 AND superseded"))
        if superseded:
            result.skipped[SUPERSEDED] = result.skipped.get(SUPERSEDED, 0) + superseded
    counts["rejected"] = _keep_rejects(con, path, fmt, encoding, params)
    return counts


def _keep_rejects(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, encoding: str, params: dict[str, Any]
) -> int:
    """Inside the file's transaction: its staged rejects, with their raw text, into `rejects`."""
    _fill_raw(con, path, fmt, encoding)
    con.execute(
        "INSERT INTO rejects SELECT $run, $file, $source, $format, $path, line, pointer, field, reason, "
        "errors::JSON, raw, $now, NULL, NULL FROM stage_rejects ORDER BY line, pointer",
        {**params, "format": fmt.name, "path": str(path.resolve())},
    )
    return int(scalar(con, "SELECT count(*) FROM stage_rejects"))


def _fill_raw(con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, encoding: str) -> None:
    """Raw text for rejects found after staging (duplicate refs), read back from the file."""
    wanted = {
        (line, pointer)
        for line, pointer in con.execute("SELECT line, pointer FROM stage_rejects WHERE raw IS NULL").fetchall()
    }
    if not wanted:
        return
    found = [
        (r.line, r.pointer, clean_text(_raw(r)))
        for r in fmt.read(path, encoding, None)
        if (r.line, r.pointer) in wanted
    ]
    schema = pa.schema([("line", pa.int64()), ("pointer", pa.string()), ("raw", pa.string())])
    con.register("_raw", pa.Table.from_pylist([dict(zip(schema.names, f, strict=True)) for f in found], schema))
    con.execute(
        "UPDATE stage_rejects SET raw = r.raw FROM _raw r "
        "WHERE stage_rejects.line IS NOT DISTINCT FROM r.line AND stage_rejects.pointer IS NOT DISTINCT FROM r.pointer"
    )
    con.unregister("_raw")


def _merge(
    con: duckdb.DuckDBPyConnection, kind: str, params: dict[str, Any], replay_of: str | None = None
) -> dict[str, int]:
    """Set-based upsert of the staged file: insert new, replace changed, keep re-sent. A
    replay of `replay_of`'s rejects merges only them (see `rejects.only_rejects`)."""
    sql = staging.parts("merge.sql")
    staging.run(con, sql["keys"], {**params, "kind": kind})
    left = rejects.only_rejects(con, replay_of) if replay_of else None
    staging.run(con, sql[kind], {**params, "kind": kind})
    rows = con.execute("SELECT action, count(*) FROM stage_plan GROUP BY action").fetchall()
    found = {str(action): int(n) for action, n in rows}
    return ({"left_as_loaded": left} if left is not None else {}) | {
        "inserted": found.get("insert", 0),
        "updated": found.get("update", 0),
        "unchanged": found.get("unchanged", 0) + found.get("stale", 0),
    }


def _field(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(record)"


def _reason(error: Any, text_record: bool) -> str:
    if error["type"] == "missing" or (error["input"] is None and error["type"].endswith("_type")):
        return "required, but blank" if text_record else "required, but missing"
    if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "required, but blank"
    if error["type"] in ("literal_error", "string_type", "int_parsing", "float_parsing", "enum"):
        shown = repr(error["input"])
        return f"{error['msg']}; got {shown[:80]}"
    return str(error["msg"])


def _validate(
    fmt: Format,
    chunk: list[RawRecord],
    context: dict[str, Any],
    batch: Batch,
    seqs: Iterable[int],
    skipped: dict[str, int],
) -> None:
    """The records through the format's model and converter; `seqs` numbers them in the file."""
    parsed: list[tuple[int, RawRecord]] = []
    for seq, record in zip(seqs, chunk, strict=True):
        if record.skip is not None:
            skipped[record.skip] = skipped.get(record.skip, 0) + 1
        elif record.fields is None:
            batch.reject(record.line, record.pointer, [(None, record.problem or "unreadable record")], record.raw)
        else:
            parsed.append((seq, record))
    models = fmt.adapter.validate_python([r.fields for _, r in parsed], context=context)  # not for DuckDB stagers
    good = []
    for item, model in zip(parsed, models, strict=True):
        if isinstance(model, ValidationError):
            errors: list[tuple[str | None, str]] = [
                (_field(e["loc"]), _reason(e, item[1].line is not None)) for e in model.errors(include_url=False)
            ]
            batch.reject(item[1].line, item[1].pointer, errors, _raw(item[1]))
        else:
            good.append((item, model))
    _convert(fmt, good, batch, skipped)


def _raw(record: RawRecord) -> str:
    """The record's own text; JSON records keep theirs only as parsed values until rejected."""
    return record.raw or (json_text(record.fields) if record.fields is not None else "")


def _convert(
    fmt: Format, pairs: Iterable[tuple[tuple[int, RawRecord], Any]], batch: Batch, skipped: dict[str, int]
) -> None:
    assert fmt.convert is not None  # formats without one stage inside DuckDB
    for (seq, record), model in pairs:
        try:
            canonical = fmt.convert(model)
        except RecordError as exc:
            batch.reject(record.line, record.pointer, [(exc.field, exc.reason)], _raw(record))
            continue
        except Skip as exc:
            skipped[exc.reason] = skipped.get(exc.reason, 0) + 1
            continue
        batch.add(seq, record.line, record.pointer, canonical)


__all__ = ["REJECT", "FileResult", "load_file", "sha256_of"]
