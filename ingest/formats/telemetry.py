"""What the security-telemetry formats share (CEF, ECS, OCSF, Suricata EVE): logs of
millions of lines, streamed a chunk at a time and checked and converted inside DuckDB.

A format is one SQL file, `sql/telemetry/<name>.sql`, that turns a chunk's lines
(`tl_lines`: line, raw) into the columns `sql/telemetry.sql` lists; the
checks every alert must pass (a time in range, IP addresses, ports, counts), the rejects,
the attack type and the stage for the merge are common, in `sql/telemetry.sql`. The
loader merges the batches inside the file's transaction (`ingest.load.ChunkMerge`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import duckdb
import pyarrow as pa

from ingest.canon import vocab
from ingest.formats.base import Format, Reader, Stager, StageRequest
from ingest.inputs import lines
from ingest.store import sections, sql_dir

MALFORMED = "malformed JSON"


CHUNK_LINES = 300_000  # lines parsed at a time: about 140 MB of EVE text
# Lines handed to the merge at a time, per thread DuckDB inserts on (a batch waits in Arrow
# for its insert). Fewer than about 400,000 a thread, and DuckDB writes the inserted rows
# again when it checkpoints, on one thread: 10M EVE lines in batches of 500,000 on 2 threads
# spent 10.3 s closing the store, in batches of 1,000,000 0.07 s.
MERGE_ROWS_PER_THREAD = 500_000


@dataclass(frozen=True)
class _Sql:
    read: str  # the file's lines, as DuckDB reads them
    chunk: list[str]  # for each chunk of lines (tl_chunk), before its parse
    parse: str  # the chunk's lines parsed and checked (tl_all)
    after: list[str]  # what the chunks after need of this one's parse
    rejects: str  # the chunk's rejects
    skipped: str  # the chunk's valid records that are not alerts, by reason


@cache
def _statements(name: str) -> _Sql:
    common = (sql_dir() / "telemetry.sql").read_text("utf-8")
    own = (sql_dir() / "telemetry" / f"{name}.sql").read_text("utf-8")
    parts = sections(common.replace("/* format */", own))
    return _Sql(parts["read"][0], parts["each chunk"], parts["parse"][0], parts["after parse"], parts["rejects"][0],
                parts["skipped"][0])  # fmt: skip


def stager(name: str, labels: Mapping[str, str] | None = None, digest_refs: bool = True) -> Stager:
    """The stage function of telemetry format `name`; `labels` names the checked fields as
    the format does (src_ip -> src for CEF); `digest_refs`: lines may lack an id of the
    format's own, and are then known by their digest and occurrence."""

    def stage(request: StageRequest) -> int:
        assert request.merge is not None and request.restart is not None  # telemetry streams
        merge, restart = request.merge, request.restart
        con = request.con
        sql = _statements(name)
        params: dict[str, object] = {
            "zone": request.zone.key if request.zone else None,
            "latest": datetime.now(UTC) + timedelta(days=1),
            "digests": digest_refs,
        }
        work = con.cursor()  # a connection of its own: its tables come and go outside the file's transaction
        # IP addresses as numbers cross to the merge as DuckDB's own 128-bit integers: as
        # Arrow's decimal128(38) (the default), one of 2^127 or more (fe80::, ff02::,
        # every IPv6 address from 8000::) came back negative and failed its whole file.
        work.execute("SET SESSION arrow_lossless_conversion = true")
        counted = 0
        attempts = 0

        def run(where: Mapping[str, str]) -> None:
            """Stream the lines from DuckDB's reader and stage them a chunk at a time; each
            chunk's tables replace the last's, so memory stays a chunk's whatever the size
            of the file. Started again from nothing (restart) on a clean copy."""
            nonlocal counted, attempts
            attempts += 1
            if attempts > 1:
                restart()
                request.skipped.clear()
            counted = 0
            for table in ("tl_ips", "tl_seen", "tl_categories", "tl_repeats"):
                work.execute(f"DROP TABLE IF EXISTS {table}")
            work.execute("CREATE TEMP TABLE tl_seen (digest VARCHAR, n BIGINT)")
            work.execute("CREATE TEMP TABLE tl_categories (category_raw VARCHAR, signature VARCHAR, category VARCHAR)")
            if digest_refs:  # texts found more than once in the file: their copies are numbered across chunks
                work.execute(f"CREATE TEMP TABLE tl_repeats AS SELECT hash(raw) AS h FROM ({sql.read}) "
                             "GROUP BY ALL HAVING count(*) > 1", dict(where))  # fmt: skip
            else:
                work.execute("CREATE TEMP TABLE tl_repeats (h UBIGINT)")
            reader = con.cursor()
            try:
                batches = reader.sql(sql.read, params=dict(where)).to_arrow_reader(CHUNK_LINES)
                pending: list[pa.Table] = []
                waiting = line = 0
                merge_rows = MERGE_ROWS_PER_THREAD * max(
                    1, int(work.execute("SELECT current_setting('threads')").fetchall()[0][0])
                )
                for chunk in _chunks(batches, CHUNK_LINES):
                    numbers = pa.array(range(line + 1, line + chunk.num_rows + 1), pa.int64())
                    line += chunk.num_rows
                    staged = _stage_chunk(work, sql, chunk.append_column("line", numbers), params, request)
                    del chunk, numbers  # the chunk's text is not needed while its alerts are merged
                    counted += staged.num_rows
                    pending.append(staged)
                    waiting += staged.num_rows
                    if waiting >= merge_rows:
                        merge(pa.concat_tables(pending), _known_categories(work))
                        pending, waiting = [], 0
                if pending:
                    merge(pa.concat_tables(pending), _known_categories(work))
            finally:
                reader.close()

        try:
            unreadable = lines.stage_lines(con, request.path, request.encoding, request.workdir, run)
            if labels:
                con.executemany(
                    "UPDATE stage_rejects SET field = ? WHERE field = ?", [(v, k) for k, v in labels.items()]
                )
            _explain_malformed(con)
            con.execute("UPDATE stage_rejects SET errors = json_array(json_object('field', field, 'reason', reason))")
        finally:
            work.close()
        return counted + unreadable

    return stage


def _stage_chunk(
    work: duckdb.DuckDBPyConnection, sql: _Sql, chunk: pa.Table, params: Mapping[str, object], request: StageRequest
) -> pa.Table:
    """One chunk of lines through the format's SQL: its rejects go to the store's
    stage_rejects, its skipped records are counted; returns every line parsed (tl_all),
    for the merge to insert the alerts among them."""

    def bound(statement: str) -> dict[str, object]:
        return {k: v for k, v in params.items() if f"${k}" in statement}

    work.register("tl_chunk", chunk)
    try:
        for statement in sql.chunk:
            work.execute(statement, bound(statement))
        tl_all = work.sql(sql.parse, params=bound(sql.parse)).to_arrow_table()
    finally:
        work.unregister("tl_chunk")
    # The statements below find the parse by DuckDB's replacement scan, under its local name.
    for statement in sql.after:
        work.execute(statement, bound(statement))
    _categories(work)
    found_bad = work.sql(sql.rejects).to_arrow_table()
    if found_bad.num_rows:  # by replacement scan: registered, it would live until the transaction ends
        request.con.execute("INSERT INTO stage_rejects SELECT * FROM found_bad")
    for reason, n in work.execute(sql.skipped).fetchall():
        request.skipped[reason] = request.skipped.get(reason, 0) + int(n)
    return tl_all


def _known_categories(work: duckdb.DuckDBPyConnection) -> pa.Table:
    """The attack type of every (category_raw, signature) pair the file has given so far."""
    return work.sql("SELECT category_raw, signature, category FROM tl_categories").to_arrow_table()


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
    Raised as DuckDB's own again, so the line formats' fallback (`lines.stage_lines`: a
    clean copy, or a failed file with the reason) holds wherever in the file the line is."""
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


def _categories(work: duckdb.DuckDBPyConnection) -> None:
    """Attack types from the alerts' words, once per distinct pair in the file, through the
    vocabulary every other format uses: the category first, then the signature's words."""
    pairs = work.execute("SELECT category_raw, signature FROM tl_terms").fetchall()
    if not pairs:
        return
    mapped = [
        (raw, signature, (raw and vocab.attack_type(raw)) or (signature and vocab.attack_type(signature)) or "other")
        for raw, signature in pairs
    ]
    table = pa.table(
        {name: [row[i] for row in mapped] for i, name in enumerate(("category_raw", "signature", "category"))},
        schema=pa.schema([("category_raw", pa.string()), ("signature", pa.string()), ("category", pa.string())]),
    )
    work.register("_categories", table)
    work.execute("INSERT INTO tl_categories SELECT * FROM _categories")
    work.unregister("_categories")


def _explain_malformed(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB says only that a line is not JSON; Python's parser says where and why."""
    found = con.execute(f"SELECT line, raw FROM stage_rejects WHERE reason = '{MALFORMED}'").fetchall()
    if not found:
        return
    why = []
    for line, raw in found:
        try:
            json.loads(raw)
            why.append((line, "not a JSON object"))
        except ValueError as exc:
            why.append((line, f"{MALFORMED}: {exc}"))
        except RecursionError:
            why.append((line, f"{MALFORMED}: nested deeper than can be read"))
    con.register("_why", pa.table({"line": [w[0] for w in why], "why": [w[1] for w in why]}))
    con.execute("UPDATE stage_rejects SET reason = w.why FROM _why w WHERE stage_rejects.line = w.line")
    con.unregister("_why")


def telemetry_format(
    name: str, description: str, sniff: Callable[[bytes], bool], labels: Mapping[str, str] | None = None,
    reader: Reader = lines.read_lines, digest_refs: bool = True,
) -> Format:  # fmt: skip
    return Format(name, "alert", description, name, None, None, reader, sniff,
                  stage=stager(name, labels, digest_refs), streams=True)  # fmt: skip
