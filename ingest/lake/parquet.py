"""The Parquet lake: the store's tables as hive-partitioned Parquet, for engines beyond one
machine (Spark, Trino, a notebook), written incrementally.

Layout of a lake folder:

    manifest.json                                  what every partition holds (below)
    incidents/source=cfr/month=2022-02/part-<uuid>.parquet
    diplomatic_events/source=gdelt/month=2022-02/part-<uuid>.parquet
    alerts/source=ids/month=2022-02/part-<uuid>.parquet
    incident_targets/source=cfr/month=2022-02/...  (by their incident's source and month)
    cameo_codes/part-<uuid>.parquet                (small tables: one partition, no folders)

Every file holds all its table's columns, `source` and `month` included, so a file read on
its own is whole. The manifest is the lake's truth: per table its columns (with the
store's types) and per partition its rows, a fingerprint (an XOR of DuckDB row hashes:
order-free, so it changes when any row is added, removed or changed), its time range and
its files. An export compares the store's fingerprints with the manifest's and writes only
the partitions that differ; a reader that goes by the manifest sees one export or the
next, never half of one, because a partition's new files get new names, the manifest is
swapped in whole, and only then are the old files removed.

Writers: for inputs too big for one machine, many machines ingest disjoint file sets, each
into its own working store, and each adds its share to the same lake under a writer name
(`cyberlog ingest FILES --lake DIR --writer NAME`, or `export --lake DIR --writer NAME`):

    writers/<name>.json                            that writer's manifest, as above
    diplomatic_events/source=gdelt/month=2022-02/part-<name>-<uuid>.parquet

A writer compares with and replaces only its own partitions and files, under its own lock,
so writers never wait for each other; readers take every manifest together, each
writer's rows beside the others'. Every id cyberlog makes is the same in any store (a
content hash, or a UUID for runs and files), so shares never collide; but each store
recognises the same incident across sources only among its own rows, so a writer's
clusters join its own incidents: give each writer whole sources (all of one SOC's logs,
all of a feed's days) and shares add up to what one store would hold. The CAMEO code list
(STORE_ONLY), the same in every store, comes from the main export only: a writer records
its columns, never its rows.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingest.errors import StoreBusy, UsageError
from ingest.store import sql_dir, statements

LAKE_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class LakeTable:
    name: str
    time: str | None = None  # partitioned by source and the month (UTC) of this column
    parent: str | None = None  # partitioned as the parent incident's row: a child table of incidents

    @property
    def partitioned(self) -> bool:
        return self.time is not None or self.parent is not None


TABLES = (
    LakeTable("incidents", "started_at"),
    LakeTable("incident_targets", parent="incidents"),
    LakeTable("incident_actors", parent="incidents"),
    LakeTable("diplomatic_events", "occurred_at"),
    LakeTable("alerts", "observed_at"),
    LakeTable("derived_incidents"),
    LakeTable("incident_links"),
    LakeTable("incident_clusters"),
    LakeTable("event_links"),
    LakeTable("event_clusters"),
    LakeTable("cameo_codes"),
    LakeTable("ingest_runs"),
    LakeTable("ingest_run_sources"),
    LakeTable("ingest_files"),
    LakeTable("rejects"),
)
BY_NAME = {t.name: t for t in TABLES}
# The same in every store: a writer's share leaves it out, or each writer would repeat it.
STORE_ONLY = frozenset({"cameo_codes"})
WRITERS = "writers"
_WRITER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_writer(name: str) -> str:
    if not _WRITER_NAME.fullmatch(name):
        raise UsageError(
            f"writer name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def default_writer() -> str:
    """This machine's name, made a valid writer name."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()).strip(".-_")[:64]
    return name or "writer"


# Types Parquet or Spark cannot hold as they are (Spark has no unsigned 64-bit integer):
# written as text, read back as the store's type.
AS_TEXT = ("UHUGEINT", "HUGEINT", "UBIGINT", "JSON")


def _month(column: str) -> str:
    return f"strftime(timezone('UTC', {column}), '%Y-%m')"


def _rows(table: LakeTable, columns: list[tuple[str, str]]) -> str:
    """The table's rows as written to the lake: types Parquet lacks as text, plus the
    partition columns (source, month)."""
    cols = ", ".join(f't."{name}"::VARCHAR AS "{name}"' if kind in AS_TEXT else f't."{name}"' for name, kind in columns)
    if table.parent:
        parent = BY_NAME[table.parent]
        return (
            f"SELECT {cols}, coalesce(p.source, '(no incident)') AS source, "
            f"coalesce({_month(f'p.{parent.time}')}, '(none)') AS month "
            f"FROM {table.name} t LEFT JOIN {parent.name} p USING (incident_id)"
        )
    if table.time:
        return f"SELECT {cols}, {_month(f't.{table.time}')} AS month FROM {table.name} t"
    return f"SELECT {cols} FROM {table.name} t"


@dataclass
class Partition:
    source: str | None
    month: str | None
    rows: int
    fingerprint: str
    first: str | None = None  # the earliest and latest of the table's time column, UTC
    last: str | None = None
    files: list[str] = field(default_factory=list)  # relative to the lake folder
    written_at: str | None = None

    @property
    def key(self) -> tuple[str | None, str | None]:
        return (self.source, self.month)

    def folder(self, table: str) -> str:
        return f"{table}/source={self.source}/month={self.month}" if self.source is not None else table

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "month": self.month,
            "rows": self.rows,
            "fingerprint": self.fingerprint,
            "first": self.first,
            "last": self.last,
            "files": self.files,
            "written_at": self.written_at,
        }


@dataclass
class Manifest:
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {columns, partitions}
    exported_at: str | None = None
    store: str | None = None
    schema_version: int | None = None

    def partitions(self, table: str) -> dict[tuple[str | None, str | None], Partition]:
        found = self.tables.get(table, {}).get("partitions", [])
        return {(p["source"], p["month"]): Partition(**p) for p in found}

    def columns(self, table: str) -> list[tuple[str, str]]:
        return [(c["name"], c["type"]) for c in self.tables[table]["columns"]]

    def files(self, table: str) -> list[str]:
        return [f for p in self.tables.get(table, {}).get("partitions", []) for f in p["files"]]

    def as_json(self) -> dict[str, Any]:
        return {
            "lake_version": LAKE_VERSION,
            "exported_at": self.exported_at,
            "store": self.store,
            "schema_version": self.schema_version,
            "tables": self.tables,
        }


def manifest_path(lake: Path, writer: str | None = None) -> Path:
    return lake / MANIFEST if writer is None else lake / WRITERS / f"{writer}.json"


def is_lake(lake: Path) -> bool:
    return manifest_path(lake).is_file() or any((lake / WRITERS).glob("*.json"))


def read_lake(lake: Path) -> Manifest:
    """The whole lake as readers see it: the main manifest and every writer's, each table's
    partitions side by side (a source and month may have files from several writers)."""
    paths = [manifest_path(lake)] if manifest_path(lake).is_file() else []
    paths += sorted((lake / WRITERS).glob("*.json"))
    merged = Manifest()
    for path in paths:
        part = _read(path)
        merged.exported_at = max(merged.exported_at or "", part.exported_at or "") or None
        merged.schema_version = merged.schema_version or part.schema_version
        for name, table in part.tables.items():
            if name not in merged.tables:
                merged.tables[name] = {**table, "partitions": list(table["partitions"])}
            elif merged.tables[name]["columns"] != table["columns"]:
                raise UsageError(
                    f"{path}: table {name} has other columns than in the lake's other manifests: "
                    "export every share with the same cyberlog version"
                )
            else:
                merged.tables[name]["partitions"] += table["partitions"]
    return merged


def read_manifest(lake: Path, writer: str | None = None) -> Manifest:
    return _read(manifest_path(lake, writer))


def _read(path: Path) -> Manifest:
    if not path.exists():
        return Manifest()
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a cyberlog lake manifest: {exc}") from None
    if not isinstance(data, dict) or data.get("lake_version") != LAKE_VERSION:
        found = data.get("lake_version") if isinstance(data, dict) else None
        raise UsageError(f"{path}: not a cyberlog lake of version {LAKE_VERSION} (lake_version {found!r})")
    return Manifest(data["tables"], data.get("exported_at"), data.get("store"), data.get("schema_version"))


def _write_manifest(path: Path, manifest: Manifest) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with temp.open("w", encoding="utf-8") as out:
        json.dump(manifest.as_json(), out, indent=1, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)


@contextmanager
def _locked(lake: Path, writer: str | None) -> Iterator[None]:
    """One export into a lake (or into one writer's share of it) at a time; another waits
    for nothing and says so."""
    folder = lake if writer is None else lake / WRITERS
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / (".lock" if writer is None else f".{writer}.lock")).open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            whose = "the lake" if writer is None else f"writer {writer}'s share of the lake"
            raise StoreBusy(f"another export is writing {whose} {lake}: try again when it ends") from None
        yield


@dataclass
class TableResult:
    name: str
    written: int = 0  # partitions written (new or changed)
    unchanged: int = 0
    removed: int = 0
    rows_written: int = 0


def _store_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    found = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [(str(n), str(t)) for n, t in found]


Key = tuple[str | None, str | None]  # a partition's (source, month); (None, None) for a table of one partition


def _current(con: duckdb.DuckDBPyConnection, table: LakeTable, rows: str) -> dict[Key, Partition]:
    """Each partition of the store's table now: rows, fingerprint, time range."""
    span = f"min({table.time}), max({table.time})" if table.time else "NULL, NULL"
    keys = "source, month" if table.partitioned else "NULL, NULL"
    found = con.execute(
        f"SELECT {keys}, count(*), printf('%016x', bit_xor(hash(r))), {span} FROM ({rows}) r GROUP BY ALL"
    ).fetchall()
    return {(s, m): Partition(s, m, int(n), str(fp), _iso(first), _iso(last)) for s, m, n, fp, first, last in found}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))


def export(
    con: duckdb.DuckDBPyConnection, lake: Path, store: Path, schema_version: int | None, writer: str | None = None
) -> list[TableResult]:
    """Bring the lake (or a writer's share of it) up to date with the store: only
    partitions whose fingerprint differs from the manifest's are written; partitions gone
    from the store are removed."""
    lake = lake.resolve()
    results: list[TableResult] = []
    with _locked(lake, writer):
        before = read_manifest(lake, writer)
        after = Manifest(
            dict(before.tables), datetime.now(UTC).isoformat().replace("+00:00", "Z"), str(store), schema_version
        )
        stale: list[str] = []  # files of replaced or removed partitions: deleted once the new manifest is in
        staging = lake / f".staging-{uuid.uuid4().hex[:12]}"
        try:
            for table in TABLES:
                columns = _store_columns(con, table.name)
                if not columns:
                    continue
                result = TableResult(table.name)
                rows = _rows(table, columns)
                if writer is not None and table.name in STORE_ONLY:
                    rows += " LIMIT 0"
                now = _current(con, table, rows)
                old = before.partitions(table.name)
                if before.tables.get(table.name, {}).get("columns") != [{"name": n, "type": t} for n, t in columns]:
                    old = {
                        k: Partition(p.source, p.month, p.rows, "(columns changed)", files=p.files)
                        for k, p in old.items()
                    }
                changed = [p for k, p in now.items() if k not in old or old[k].fingerprint != p.fingerprint]
                result.unchanged = len(now) - len(changed)
                gone = [p for k, p in old.items() if k not in now]
                for p in [*gone, *(old[p.key] for p in changed if p.key in old)]:
                    stale.extend(p.files)
                result.removed = len(gone)
                if changed:
                    _write(con, table, rows, changed, lake, staging / table.name, writer)
                    result.written = len(changed)
                    result.rows_written = sum(p.rows for p in changed)
                kept = {k: old[k] for k in now if k not in {p.key for p in changed}}
                merged = {**kept, **{p.key: p for p in changed}}
                after.tables[table.name] = {
                    "columns": [{"name": n, "type": t} for n, t in columns],
                    "partitioned_by": ["source", "month"] if table.partitioned else [],
                    "month_of": (f"{table.parent}.{BY_NAME[table.parent].time}" if table.parent else table.time),
                    "partitions": [merged[k].as_json() for k in sorted(merged, key=lambda k: (k[0] or "", k[1] or ""))],
                }
                results.append(result)
            _write_manifest(manifest_path(lake, writer), after)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for relative in stale:
            (lake / relative).unlink(missing_ok=True)
        _prune_empty(lake, {(lake / f).parent for f in stale})
    return results


def _write(
    con: duckdb.DuckDBPyConnection,
    table: LakeTable,
    rows: str,
    changed: list[Partition],
    lake: Path,
    staging: Path,
    writer: str | None,
) -> None:
    """The changed partitions in one scan of the table, into a staging folder, then each
    file moved beside (not over) the partition's current files."""
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    staging.mkdir(parents=True, exist_ok=True)
    target = str(staging).replace("'", "''")
    prefix = "part-" if writer is None else f"part-{writer}-"  # a writer name is [A-Za-z0-9_.-]
    if table.partitioned:
        wanted = pa.table({"source": [p.source for p in changed], "month": [p.month for p in changed]})  # noqa: F841
        con.execute(
            f"COPY (SELECT * FROM ({rows}) r WHERE (r.source, r.month) IN (SELECT (source, month) FROM wanted)) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (source, month), "
            f"WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN '{prefix}{{uuid}}', OVERWRITE_OR_IGNORE true)"
        )
    else:
        con.execute(f"COPY ({rows}) TO '{target}/{prefix}{uuid.uuid4()}.parquet' (FORMAT parquet, COMPRESSION zstd)")
    for p in changed:
        source_folder = staging / (f"source={p.source}/month={p.month}" if table.partitioned else "")
        folder = lake / p.folder(table.name)
        p.files = []
        for written in sorted(source_folder.glob("*.parquet")):
            _move(written, folder / written.name)
            p.files.append(str((folder / written.name).relative_to(lake)))
        p.written_at = stamp


def _move(file: Path, to: Path) -> None:
    """Into a partition folder that another writer, pruning at that moment, may remove."""
    for attempt in range(5):
        to.parent.mkdir(parents=True, exist_ok=True)
        try:
            file.replace(to)
            return
        except FileNotFoundError:
            if attempt == 4:
                raise


def _prune_empty(lake: Path, folders: set[Path]) -> None:
    """Folders of removed files, and their parents inside the lake, once empty."""
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder != lake and lake in folder.parents:
            try:
                folder.rmdir()  # only when empty; a writer's new file keeps it
            except OSError:
                break
            folder = folder.parent


# reading a lake ---------------------------------------------------------------------------


def table_query(manifest: Manifest, lake: Path, table: str, read: str) -> str:
    """A query of one lake table with the store's columns, in the store's order and types.
    `read` formats a list of quoted file paths into the engine's Parquet reader."""
    files = [str(lake / f) for f in manifest.files(table)]
    return read.format(files=", ".join("'" + f.replace("'", "''") + "'" for f in files))


def duckdb_over_lake(lake: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are the lake's files (views over read_parquet) and
    whose views and macros are the store's: canned reports run on it unchanged."""
    manifest = read_lake(lake)
    if not manifest.tables:
        raise UsageError(f"{lake} holds no cyberlog lake: write one with `cyberlog export --lake {lake}`")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        if table.name not in manifest.tables:
            continue
        columns = manifest.columns(table.name)
        select = ", ".join(f'"{n}"::{t} AS "{n}"' if t in AS_TEXT else f'"{n}"' for n, t in columns)
        if manifest.files(table.name):
            source = table_query(manifest, lake, table.name, "read_parquet([{files}])")
            con.execute(f"CREATE VIEW {table.name} AS SELECT {select} FROM {source}")
        else:  # no rows: an empty table of the right shape
            con.execute(f"CREATE TABLE {table.name} ({', '.join(f'{chr(34)}{n}{chr(34)} {t}' for n, t in columns)})")
    for statement in statements((sql_dir() / "schema.sql").read_text("utf-8")):
        if re.search(r"^CREATE OR REPLACE MACRO", statement, re.MULTILINE):
            con.execute(statement)
    for statement in statements((sql_dir() / "views.sql").read_text("utf-8")):
        con.execute(statement)
    return con
