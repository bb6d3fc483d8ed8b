"""The DuckDB store: where it is, opening it safely, making it or migrating it to the schema.

DuckDB lets one process write a file, or many read it, never both; a lock conflict is
the normal sign of a busy store (a nightly still running, an analyst's query), so it
becomes `StoreBusy` (exit 5) with the holder named, not a traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from ingest import __version__, snapshot
from ingest.errors import StoreBusy, StoreDamaged, StoreError

# A new store is made from sql/schema.sql at this version; an older one is brought to it by
# sql/migrations/NNNN_what.sql, one file per version from 2, in order, in one transaction.
SCHEMA_VERSION = 4
_MIGRATION = re.compile(r"(?P<version>\d{4})_[a-z0-9_]+\.sql")
DEFAULT_DB = Path("cyberlog.duckdb")
# DuckDB's share of memory while ingesting; past it, staging spills to <store>.tmp/.
# Python's own batches add about 250 MB. $CYBERLOG_MEMORY_LIMIT overrides (e.g. 2GB).
INGEST_MEMORY_LIMIT = "512MB"
READ_MEMORY_LIMIT = "1GB"  # queries and reports: big sorts and joins spill to disk past it
_HOLDER = re.compile(r"Conflicting lock is held in (?P<prog>.*?) \(PID (?P<pid>\d+)\)")


def statements(text: str) -> list[str]:
    """The statements of a SQL text as DuckDB's own parser splits them, each from its first
    token to its last: without the comments around it or its closing `;` (comment-only
    parts give none)."""
    found = (_code(statement.query) for statement in duckdb.extract_statements(text))
    return [statement for statement in found if statement]


def _code(query: str) -> str:
    """A statement's text from its first token to its last. DuckDB gives a statement the
    comments before it (a file's header, a note on its purpose) and, for the last, those
    after its `;`. Callers bind the parameters a statement names (a `$name` in a file's
    header is none of them), and the lake hands statements to sqlglot."""
    tokens = duckdb.tokenize(query)
    code = [i for i, (_, kind) in enumerate(tokens) if kind != duckdb.token_type.comment]
    if not code:
        return ""
    end = tokens[code[-1] + 1][0] if code[-1] + 1 < len(tokens) else len(query)
    return query[tokens[code[0]][0] : end].strip().removesuffix(";").rstrip()


def sections(text: str) -> dict[str, list[str]]:
    """The statements of a SQL file in named parts, each opened by a `/* name */` line
    (anything before the first is the file's header)."""
    parts = re.split(r"^/\* ([a-z ]+) \*/$", text, flags=re.MULTILINE)
    return {name: statements(body) for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def sql_dir() -> Path:
    """`sql/` beside the package in a checkout, or inside it in an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "sql", here.parent / "sql"):
        if (candidate / "schema.sql").is_file():
            return candidate
    raise StoreError("cyberlog's sql/ folder is missing from this installation")


def resolve_db(db: Path | None) -> Path:
    """--db, else $CYBERLOG_DB, else ./cyberlog.duckdb."""
    if db is not None:
        return db
    env = os.environ.get("CYBERLOG_DB")
    return Path(env) if env else DEFAULT_DB


# a truncated file, or blocks whose checksum fails: not the user's doing, the machine's
_DAMAGED = re.compile(r"Corrupt database file|Could not read enough bytes|checksum", re.IGNORECASE)
_RESTORE = "restore it from a backup, or move it aside and run the nightly to build it again"


def damage(exc: BaseException, path: Path | None = None) -> StoreDamaged | None:
    """DuckDB's word that the store file is damaged, as the error to report (exit 6): on
    opening it, or from any statement that reads a block failing its checksum."""
    if isinstance(exc, duckdb.Error) and _DAMAGED.search(str(exc)):
        return StoreDamaged(f"the store is damaged ({str(exc).splitlines()[0]}): {_RESTORE}", path=path)
    return None


def interrupted_query(exc: BaseException) -> bool:
    """DuckDB's answer to SIGINT during a statement: it stops the statement and raises this
    in place of the KeyboardInterrupt, which must still end the run, not fail one file nor
    send a reader down another path."""
    return isinstance(exc, duckdb.InterruptException) or (type(exc) is RuntimeError and str(exc) == "Query interrupted")


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "Could not set lock" in text:
            holder = _HOLDER.search(text)
            who = f" (PID {holder['pid']})" if holder else ""
            raise StoreBusy(
                f"store is busy: another cyberlog process{who} has it open for writing; try again when it finishes",
                path=path,
            ) from None
        if damaged := damage(exc, path):
            raise damaged from None
        raise StoreError(f"cannot open the store: {text}", path=path) from None
    except duckdb.Error as exc:
        if damaged := damage(exc, path):
            raise damaged from None
        raise StoreError(f"cannot open the store: {exc}", path=path) from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def execute_all(con: duckdb.DuckDBPyConnection, found: list[str], params: dict[str, Any]) -> None:
    """Each statement in turn, bound to the parameters it uses (DuckDB refuses one it does not)."""
    for statement in found:
        con.execute(statement, {name: value for name, value in params.items() if f"${name}" in statement})


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> Any:
    """The single value of a one-row query (fetching it all, as DuckDB wants)."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0][0] if rows else None


def _set_memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> None:
    try:
        con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
    except duckdb.Error as exc:
        raise StoreError(f"CYBERLOG_MEMORY_LIMIT={limit!r} is not a memory size such as 512MB or 2GB ({exc})") from None


def _stored(con: duckdb.DuckDBPyConnection) -> tuple[int | None, str | None]:
    """The store's schema version and the fingerprint of the schema files last applied: one
    query for a store at any version since the fingerprint came (2), a second for one before."""
    for fingerprint in ("fingerprint", "NULL"):
        try:
            found = con.execute(
                f"SELECT version, {fingerprint} FROM schema_version ORDER BY version DESC, applied_at DESC LIMIT 1"
            ).fetchall()
        except duckdb.CatalogException:  # no schema_version table: a new store, or not cyberlog's
            return None, None
        except duckdb.BinderException:  # a version 1 store, before the fingerprint column
            continue
        return (int(found[0][0]), found[0][1]) if found else (None, None)
    return None, None


def _fingerprint() -> str:
    """A digest of the shipped files a store's macros, views and CAMEO codes are made from."""
    data = resources.files("ingest").joinpath("data")
    parts = [sql_dir() / "schema.sql", sql_dir() / "views.sql", data / "cameo_codes.csv", data / "cameo_classes.csv"]
    return hashlib.sha256(b"\0".join(part.read_bytes() for part in parts)).hexdigest()


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int | None, str | None]:
    """The store's schema version and fingerprint (see `_stored`), refused when newer than this cyberlog."""
    version, fingerprint = _stored(con)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"store has schema version {version}, newer than this cyberlog ({__version__}, "
            f"schema {SCHEMA_VERSION}) understands: upgrade cyberlog",
            path=path,
        )
    return version, fingerprint


def apply_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Make a new store at SCHEMA_VERSION or migrate an older one to it, and rebuild what comes
    from the shipped files when they changed, all in one transaction. Nothing to do (the
    common case) costs a query."""
    version, applied = _check_version(con, path)
    fingerprint = _fingerprint()
    if version == SCHEMA_VERSION and applied == fingerprint:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if version is None:
            _create(con, path)
        else:
            _migrate(con, path, version)
        _refresh(con)
        con.execute(
            "INSERT INTO schema_version (version, fingerprint) VALUES ($v, $f)", {"v": SCHEMA_VERSION, "f": fingerprint}
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def migrations() -> dict[int, Path]:
    """sql/migrations/ by the schema version each file brings a store to: one for each of 2 up
    to SCHEMA_VERSION, or this installation is broken."""
    folder = sql_dir() / "migrations"
    found = {int(m["version"]): p for p in folder.glob("*.sql") if (m := _MIGRATION.fullmatch(p.name))}
    if sorted(found) != list(range(2, SCHEMA_VERSION + 1)):
        raise StoreError(
            f"cyberlog's {folder} should hold one NNNN_what.sql for each schema version from 2 to "
            f"{SCHEMA_VERSION}, not {sorted(found)}: reinstall cyberlog"
        )
    return found


def _create(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A new store, made from sql/schema.sql. A database with tables but no schema_version is
    someone else's: cyberlog does not write into it."""
    if scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary"):
        raise StoreError(
            "not a cyberlog store (tables, but no schema_version table): point --db at a store or a new file",
            path=path,
        )
    con.execute((sql_dir() / "schema.sql").read_text("utf-8"))


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, version: int) -> None:
    """Bring a store from `version` to SCHEMA_VERSION: each later migration, in order."""
    found = migrations()
    for target in range(version + 1, SCHEMA_VERSION + 1):
        try:
            con.execute(found[target].read_text("utf-8"))
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot migrate the store from schema {version} to {SCHEMA_VERSION}: "
                f"{found[target].name} failed ({exc}); the store is unchanged",
                path=path,
            ) from None


def _refresh(con: duckdb.DuckDBPyConnection) -> None:
    """What is rebuilt from the shipped files whenever they change: sql/schema.sql's macros,
    the views, the CAMEO code table and the event classes it gives."""
    for statement in statements((sql_dir() / "schema.sql").read_text("utf-8")):
        if re.search(r"^CREATE OR REPLACE MACRO", statement, re.MULTILINE):
            con.execute(statement)
    con.execute((sql_dir() / "views.sql").read_text("utf-8"))
    _fill_cameo(con)
    _reclass_coded_events(con)


def _fill_cameo(con: duckdb.DuckDBPyConnection) -> None:
    """The CAMEO code table, refreshed when the shipped list or class mapping changed."""
    import pyarrow as pa

    from ingest.canon import cameo

    rows = cameo.codes()
    stored = con.execute("SELECT code, event_class FROM cameo_codes").fetchall()
    if sorted(stored) == sorted((r["code"], r["event_class"]) for r in rows):
        return
    table = pa.Table.from_pylist(
        [
            {
                "code": r["code"],
                "label": r["label"],
                "quad_class": int(r["quad_class"]),
                "goldstein": float(r["goldstein"]),
                "event_class": r["event_class"],
            }
            for r in rows
        ]
    )
    con.execute("DELETE FROM cameo_codes")
    con.register("_cameo", table)
    con.execute("INSERT INTO cameo_codes BY NAME SELECT * FROM _cameo")
    con.unregister("_cameo")


def _reclass_coded_events(con: duckdb.DuckDBPyConnection) -> None:
    """Events whose class the CAMEO table gave (GDELT, ICEWS) follow the table when it changes,
    as a new load would; a class a curated file states is its own and stays."""
    con.execute(
        "UPDATE diplomatic_events AS e SET event_class = c.event_class FROM cameo_codes AS c "
        "WHERE e.cameo_code = c.code AND e.event_class <> c.event_class "
        "AND e.file_id IN (SELECT file_id FROM ingest_files WHERE format IN ('gdelt', 'icews'))"
    )


def wait_seconds(wait: float | None) -> float:
    """--wait, else $CYBERLOG_WAIT, else 0: how long to wait for a busy store."""
    if wait is not None:
        return wait
    text = os.environ.get("CYBERLOG_WAIT", "").strip()
    try:
        return max(0.0, float(text)) if text else 0.0
    except ValueError:
        raise StoreError(f"CYBERLOG_WAIT must be a number of seconds, not {text!r}") from None


def _connect_waiting(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Connect, retrying while another process holds the store, for up to `wait` seconds."""
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return _connect(path, read_only=read_only)
        except StoreBusy as busy:
            left = deadline - time.monotonic()
            if left <= 0:
                if wait > 0:
                    raise StoreBusy(f"{busy.message} (waited {wait:g} s)", path=path) from None
                raise
            time.sleep(min(pause, left))
            pause = min(pause * 2, 1.0)


def _reader(path: Path, wait: float | None) -> duckdb.DuckDBPyConnection:
    """A read-only connection: to the store when it is free, to its snapshot when another
    process writes it (or always, as $CYBERLOG_SNAPSHOT says); with no snapshot, the store
    after waiting up to `wait` seconds."""
    chosen = snapshot.mode()
    published = snapshot.path_of(path)
    if chosen == "always" and published.exists():
        con = _connect(published, read_only=True)
        snapshot.said(path, "CYBERLOG_SNAPSHOT=always")  # the store's lock is left to writers
        return con
    try:
        return _connect(path, read_only=True)
    except StoreBusy as busy:
        if chosen == "never" or not published.exists():
            if (seconds := wait_seconds(wait)) <= 0:
                raise
            return _connect_waiting(path, read_only=True, wait=seconds)
        con = _connect(published, read_only=True)
        holder = re.search(r"\(PID \d+\)", busy.message)
        snapshot.said(path, "the store is busy" + (f": another process {holder[0]} writes it" if holder else ""))
        return con


@contextmanager
def open_store(db: Path | None, *, write: bool, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the store; writers create it and apply the schema first.

    DuckDB lets one process write a store or many read it, never both: a busy store is
    retried for `wait` seconds (default $CYBERLOG_WAIT, else none) before StoreBusy.
    """
    path = resolve_db(db)
    if not write and not path.exists():
        raise StoreError(
            "no store here yet: run `cyberlog nightly` or `cyberlog ingest` first, or point --db / CYBERLOG_DB at one",
            path=path,
        )
    con = _connect_waiting(path, read_only=False, wait=wait_seconds(wait)) if write else _reader(path, wait)
    try:
        if write:
            _set_memory_limit(con, os.environ.get("CYBERLOG_MEMORY_LIMIT") or INGEST_MEMORY_LIMIT)
            apply_schema(con, path)
        elif _check_version(con, path)[0] is None:
            raise StoreError("not a cyberlog store (no schema_version table)", path=path)
        else:  # big reports spill to <store>.tmp/ past the cap instead of growing without bound
            _set_memory_limit(con, os.environ.get("CYBERLOG_MEMORY_LIMIT") or READ_MEMORY_LIMIT)
        yield con
    finally:
        con.close()
