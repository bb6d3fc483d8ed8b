"""Staging: the temporary tables a file's records wait in for the merge, and the one place
that runs a format's SQL on the store.

A format only declares (ingest/formats/base.py). Validated records come here as Arrow
batches; a format staged inside DuckDB has its SQL file run here on the file's lines: the
whole file at once (`SqlStage`: GDELT), or a chunk of lines at a time, each batch handed
to the merge as it goes (`SqlStream`: security telemetry). DuckDB's reader stops a file at
the first line it cannot take (invalid UTF-8, a carriage return or NUL inside a line, a line
too long): the SQL is then run again on a clean copy, and those lines are rejects.
"""

from __future__ import annotations

import codecs
import gzip
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from ingest.canon.filters import EventFilter
from ingest.errors import FileUnreadable
from ingest.formats import telemetry
from ingest.formats.base import Format, SqlStage, SqlStream
from ingest.inputs import archives, lines
from ingest.inputs.guard import pinned
from ingest.load.columns import Batch
from ingest.store import sections, sql_dir, statements

CHUNK_LINES = 300_000  # a log's lines parsed at a time: about 140 MB of EVE text
# Lines handed to the merge at a time, per thread DuckDB inserts on (a batch waits in Arrow
# for its insert). Fewer than about 400,000 a thread, and DuckDB writes the inserted rows
# again when it checkpoints, on one thread: 10M EVE lines in batches of 500,000 on 2 threads
# spent 10.3 s closing the store, in batches of 1,000,000 0.07 s.
MERGE_ROWS_PER_THREAD = 500_000
# The stage tables (or views) a file may leave: its records and rejects, their keys and plan
# (the merge), and every line checked (a SqlStage's stage_lines, which its stage_main views).
_STAGED = ("main", "also", "targets", "actors", "rejects", "keyed", "plan", "lines", "done")

Merge = Callable[[pa.Table, pa.Table], None]  # a batch of parsed lines, the attack types of their words
Where = Mapping[str, str]  # the lines to read: {"path", "compression"}


@dataclass(frozen=True)
class StageOptions:
    zone: ZoneInfo | None
    encoding: str
    progress: Callable[[int], None] | None
    event_filter: EventFilter


@cache
def parts(name: str) -> dict[str, list[str]]:
    """The statements of the SQL file sql/`name`, by the names of its parts."""
    return sections((sql_dir() / name).read_text("utf-8"))


@cache
def script(name: str) -> list[str]:
    """The statements of the SQL file sql/`name`."""
    return statements((sql_dir() / name).read_text("utf-8"))


def bound(statement: str, params: Mapping[str, object]) -> dict[str, object]:
    """The parameters the statement uses: DuckDB refuses one it does not."""
    return {name: value for name, value in params.items() if f"${name}" in statement}


def run(con: duckdb.DuckDBPyConnection, found: list[str], params: Mapping[str, object]) -> None:
    for statement in found:
        con.execute(statement, bound(statement, params))


def create(con: duckdb.DuckDBPyConnection, fmt: Format) -> None:
    """Empty stage tables for the file's records. A stream has no stage_main: each of its
    batches is found under that name by replacement scan (sql/merge_chunk.sql). The first
    file of a kind makes them from Arrow's empty tables, and each file after from the DDL
    DuckDB gave them: a few milliseconds less a file, which a nightly of small batches feels."""
    key = (fmt.kind, fmt.mixed)
    if key in _DDL:
        for statement in _DDL[key]:
            con.execute(statement)
    else:
        made = []
        for name, table in Batch.empty_tables(fmt.kind, fmt.mixed).items():
            con.register("_empty", table)
            con.execute(f'CREATE OR REPLACE TEMP TABLE "stage_{name}" AS SELECT * FROM _empty')
            con.unregister("_empty")
            columns = con.execute(f'DESCRIBE "stage_{name}"').fetchall()
            made.append(
                f'CREATE OR REPLACE TEMP TABLE "stage_{name}" ('
                + ", ".join(f'"{column}" {kind}' for column, kind, *_ in columns)
                + ")"
            )
        _DDL[key] = made
    if fmt.streams:
        con.execute("DROP TABLE stage_main")


_DDL: dict[tuple[str, bool], list[str]] = {}  # the stage tables of each (kind, mixed), as DuckDB made them


def insert(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """A batch of rows into stage table `name` (main, targets, actors or rejects)."""
    assert name in _STAGED, name
    con.register("_batch", table)
    con.execute(f'INSERT INTO "stage_{name}" SELECT * FROM _batch')
    con.unregister("_batch")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()}
    for name in _STAGED:
        kind = "VIEW" if f"stage_{name}" in views else "TABLE"  # a SqlStage's stage_main is a view
        con.execute(f'DROP {kind} IF EXISTS "stage_{name}"')


def stage_sql(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: Format,
    options: StageOptions,
    skipped: dict[str, int],
    workdir: Path,
) -> int:
    """The file through its format's SQL (see `SqlStage`); returns how many lines it read."""
    assert isinstance(fmt.stage, SqlStage)
    sql = parts(fmt.stage.file)
    params = fmt.stage.params(options.event_filter)
    tables = fmt.stage.tables()
    attempts = 0

    def read_stage(where: Where) -> None:
        nonlocal attempts
        attempts += 1
        if attempts > 1:  # again, on a clean copy: from empty stage tables
            drop(con)
            create(con, fmt)
        run(con, sql["stage"], {**params, **where})

    for name, table in tables.items():
        con.register(name, table)
    try:
        unreadable = _read_lines(
            con,
            path,
            options.encoding,
            workdir,
            read_stage,
            lambda: int(con.execute(sql["read"][0]).fetchall()[0][0]),
        )
        [(read,)] = con.execute(sql["read"][0]).fetchall()
        for reason, n in con.execute(sql["skipped"][0]).fetchall():
            skipped[reason] = int(n)
    finally:
        for name in tables:
            con.unregister(name)
        run(con, sql["done"], params)
    return int(read) + unreadable


def stream(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    stage: SqlStream,
    options: StageOptions,
    skipped: dict[str, int],
    workdir: Path,
    merge: Merge,
    restart: Callable[[], None],
) -> int:
    """A log through its format's SQL a chunk of lines at a time (see `SqlStream`), each
    batch handed to `merge` inside the file's transaction; `restart` undoes what was merged
    (to read a clean copy from its first line). Returns how many lines it read."""
    work = con.cursor()  # a connection of its own: its tables come and go outside the file's transaction
    try:
        log = _Log(con, work, stage, options.zone, skipped, merge, restart)
        unreadable = _read_lines(con, path, options.encoding, workdir, log.read, lambda: log.counted)
        labels = stage.labels
        if labels:
            con.executemany("UPDATE stage_rejects SET field = ? WHERE field = ?", [(v, k) for k, v in labels.items()])
        _explain_malformed(con)
        con.execute("UPDATE stage_rejects SET errors = json_array(json_object('field', field, 'reason', reason))")
    finally:
        work.close()
    return log.counted + unreadable


class _Log:
    """A log being read through the SQL on `work`, and how many of its lines are staged."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        work: duckdb.DuckDBPyConnection,
        stage: SqlStream,
        zone: ZoneInfo | None,
        skipped: dict[str, int],
        merge: Merge,
        restart: Callable[[], None],
    ) -> None:
        self.con, self.work, self.stage, self.skipped = con, work, stage, skipped
        self.merge, self.restart = merge, restart
        self.sql = parts("telemetry.sql")
        self.params: dict[str, object] = {
            "zone": zone.key if zone else None,
            "latest": datetime.now(UTC) + timedelta(days=1),
            "digests": stage.digest_refs,
        }
        # IP addresses as numbers cross to the merge as DuckDB's own 128-bit integers: as
        # Arrow's decimal128(38) (the default), one of 2^127 or more (fe80::, ff02::,
        # every IPv6 address from 8000::) came back negative and failed its whole file.
        self.work.execute("SET SESSION arrow_lossless_conversion = true")
        self.counted = self.attempts = 0

    def read(self, where: Where) -> None:
        """Stream the lines from DuckDB's reader and stage them a chunk at a time; each
        chunk's tables replace the last's, so memory stays a chunk's whatever the size of
        the file. Started again from nothing (restart) on a clean copy."""
        self.attempts += 1
        if self.attempts > 1:
            self.restart()
            self.skipped.clear()
        self.counted = 0
        run(self.work, self.sql["each file"], {})
        # texts found more than once in the file: their copies are numbered across chunks
        run(self.work, self.sql["repeated lines" if self.stage.digest_refs else "no repeated lines"], where)
        reader = self.con.cursor()
        try:
            batches = reader.sql(self.sql["read"][0], params=dict(where)).to_arrow_reader(CHUNK_LINES)
            pending: list[pa.Table] = []
            waiting = line = 0
            [(threads,)] = self.work.execute("SELECT current_setting('threads')").fetchall()
            merge_rows = MERGE_ROWS_PER_THREAD * max(1, int(threads))
            for chunk in _chunks(batches, CHUNK_LINES):
                numbers = pa.array(range(line + 1, line + chunk.num_rows + 1), pa.int64())
                line += chunk.num_rows
                staged = self._chunk(chunk.append_column("line", numbers))
                del chunk, numbers  # the chunk's text is not needed while its alerts are merged
                self.counted += staged.num_rows
                pending.append(staged)
                waiting += staged.num_rows
                if waiting >= merge_rows:
                    self.merge(pa.concat_tables(pending), _known_categories(self.work))
                    pending, waiting = [], 0
            if pending:
                self.merge(pa.concat_tables(pending), _known_categories(self.work))
        finally:
            reader.close()

    def _chunk(self, chunk: pa.Table) -> pa.Table:
        """One chunk of lines through the format's SQL: its rejects go to the store's
        stage_rejects, its skipped records are counted; returns every line parsed (tl_all),
        for the merge to insert the alerts among them."""
        work, sql, params = self.work, self.sql, self.params
        work.register("tl_chunk", chunk)
        try:
            run(work, sql["each chunk"], params)
            run(work, script(self.stage.file), {})  # the format's table macro over the chunk's lines: tl_format
            [parse] = sql["parse"]
            tl_all = work.sql(parse, params=bound(parse, params)).to_arrow_table()
        finally:
            work.unregister("tl_chunk")
        # The statements below find the parse by DuckDB's replacement scan, under its local name.
        for statement in sql["after parse"]:
            work.execute(statement, bound(statement, params))
        _categories(work)
        found_bad = work.sql(sql["rejects"][0]).to_arrow_table()
        if found_bad.num_rows:  # by replacement scan: registered, it would live until the transaction ends
            self.con.execute("INSERT INTO stage_rejects SELECT * FROM found_bad")
        for reason, n in work.execute(sql["skipped"][0]).fetchall():
            self.skipped[reason] = self.skipped.get(reason, 0) + int(n)
        return tl_all


def _known_categories(work: duckdb.DuckDBPyConnection) -> pa.Table:
    """The attack type of every (category_raw, signature) pair the file has given so far."""
    return work.sql("SELECT category_raw, signature, category FROM tl_categories").to_arrow_table()


def _categories(work: duckdb.DuckDBPyConnection) -> None:
    """Attack types from the alerts' words, once per distinct pair in the file."""
    pairs = work.execute("SELECT category_raw, signature FROM tl_terms").fetchall()
    if not pairs:
        return
    schema = pa.schema([("category_raw", pa.string()), ("signature", pa.string()), ("category", pa.string())])
    table = pa.table(
        {
            "category_raw": [raw for raw, _ in pairs],
            "signature": [signature for _, signature in pairs],
            "category": [telemetry.attack_type(raw, signature) for raw, signature in pairs],
        },
        schema=schema,
    )
    work.register("_categories", table)
    work.execute("INSERT INTO tl_categories SELECT * FROM _categories")
    work.unregister("_categories")


def _explain_malformed(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB says only that a line is not JSON; the format says where and why."""
    found = con.execute(
        "SELECT line, raw FROM stage_rejects WHERE reason = $reason", {"reason": telemetry.MALFORMED}
    ).fetchall()
    if not found:
        return
    why = pa.table({"line": [line for line, _ in found], "why": [telemetry.malformed(raw) for _, raw in found]})
    con.register("_why", why)
    con.execute("UPDATE stage_rejects SET reason = w.why FROM _why w WHERE stage_rejects.line = w.line")
    con.unregister("_why")


def _chunks(batches: pa.RecordBatchReader, size: int) -> Iterator[pa.Table]:
    """DuckDB's record batches (a few thousand rows each) gathered into tables of `size` rows."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in _as_duckdb_raises(batches):
        pending.append(batch)
        rows += batch.num_rows
        if rows >= size:
            rows = 0
            yield _gathered(pending)
    if pending:
        yield _gathered(pending)


# DuckDB's errors by the prefix of their message
_DUCKDB_ERRORS: tuple[tuple[str, type[duckdb.Error]], ...] = (
    ("Invalid Input Error: ", duckdb.InvalidInputException),
    ("IO Error: ", duckdb.IOException),
)


def _as_duckdb_raises(batches: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches. An error DuckDB meets before the first batch is its own
    exception; one it meets later (a bad line far into the file, sooner or later depending
    on the threads) comes through Arrow's reader as a plain OSError with DuckDB's message.
    Raised as DuckDB's own again, so the fallback for lines DuckDB cannot read (a clean
    copy, or a failed file with the reason) holds wherever in the file the line is."""
    try:
        yield from batches
    except OSError as exc:
        text = str(exc)
        for prefix, error in _DUCKDB_ERRORS:
            if text.startswith(prefix):
                raise error(text) from exc
        raise


def _gathered(batches: list[pa.RecordBatch]) -> pa.Table:
    """The batches as one table, the list emptied: the caller alone holds the chunk, and
    frees it when done with it."""
    table = pa.Table.from_batches(batches)
    batches.clear()
    return table


def _read_lines(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    encoding: str,
    workdir: Path,
    read: Callable[[Where], None],
    lines_read: Callable[[], int],
) -> int:
    """Run the format's SQL through `read` ({"path", "compression"} to read), on the file
    itself or, when DuckDB cannot read it, on a clean copy. Returns how many lines were
    rejected as unreadable (already in stage_rejects). A file that cannot be read at all (a
    gzip cut short by a rotation or a download) raises FileUnreadable."""
    kind = archives.kind(path)
    what = f"{kind} file" if kind else "file"
    try:
        unreadable = _through_clean_copy(path, encoding, workdir, read, kind, lines_read)
    except duckdb.IOException as exc:  # DuckDB's own gunzip
        raise FileUnreadable(f"not a readable {what}: {_summary(exc)}") from exc
    except (zlib.error, EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as exc:  # Python's, for the clean copy
        raise FileUnreadable(f"not a readable {what}: {exc or type(exc).__name__}") from exc
    if unreadable:
        con.executemany(
            "INSERT INTO stage_rejects VALUES (?, NULL, '(record)', ?, json_array(json_object("
            "'field', '(record)', 'reason', ?::VARCHAR))::VARCHAR, ?)",
            [(line, reason, reason, raw) for line, reason, raw in unreadable],
        )
    return len(unreadable)


def _through_clean_copy(
    path: Path,
    encoding: str,
    workdir: Path,
    read: Callable[[Where], None],
    kind: str | None,
    lines_read: Callable[[], int],
) -> list[tuple[int, str, str]]:
    """The file read as it is when DuckDB can; else (or in another encoding than UTF-8) a
    UTF-8 copy without the lines it cannot take, and those lines (lines.clean_copy).

    DuckDB's reader can also read nothing, without an error, from a file that is one huge
    line (100 MB of NUL bytes, say): a file with something in it that gave no line is read
    through the clean copy too, which names the line or refuses the file, never "0 read"."""
    name = codecs.lookup(encoding).name
    if lines.head(path).startswith((b"\xff\xfe", b"\xfe\xff")):
        name = "utf-16"  # by its BOM, as for every text format
    clean = workdir / "clean.txt"
    if name != "utf-8":  # told otherwise: transcoded line by line to the UTF-8 DuckDB reads
        unreadable = lines.clean_copy(path, clean, name)
        read({"path": str(clean), "compression": "none"})
        return unreadable
    try:
        with pinned(path) as held:  # the file checked, whatever is swapped in at its path
            read({"path": held, "compression": "gzip" if kind == "gzip" else "none"})
        if lines_read() or not lines.head(path, 4096).strip():
            return []
    except duckdb.InvalidInputException:
        pass
    unreadable = lines.clean_copy(path, clean, name)
    try:
        read({"path": str(clean), "compression": "none"})
    except duckdb.InvalidInputException as exc:  # what the clean copy does not foresee
        raise FileUnreadable(f"DuckDB cannot read the file's lines: {_summary(exc)}") from exc
    return unreadable


def _summary(exc: duckdb.Error) -> str:
    """DuckDB's message without its class prefix and its dump of the reader's options."""
    first = str(exc).splitlines()[0]
    return first.split(" Error: ", 1)[1] if " Error: " in first else first
