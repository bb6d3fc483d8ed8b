"""The linked objects of one big JSON document (a STIX bundle), in memory or on disk.

A bundle's incidents can only be assembled once all of it has been read: a relationship,
a report or a newer version of an object may come anywhere. `ObjectGraph` keeps the objects
a format chooses, in memory while the document is small, and in a temporary SQLite file
once it is not, so a document of gigabytes is read in the memory of one of a hundred
megabytes. Objects are STIX-shaped: an `id`, a `type`, relationships (`source_ref` to
`target_ref`) and reports naming objects (`object_refs`).
"""

from __future__ import annotations

import functools
import itertools
import marshal
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest.inputs.readers import RawRecord

Obj = dict[str, Any]


class NoRoom(OSError):
    """The disk under $TMPDIR filled up while a big document's objects were written there."""


def _writing(method: Callable[..., None]) -> Callable[..., None]:
    """A method that writes to the temporary file: SQLite's "database or disk is full" as NoRoom."""

    def written(self: ObjectGraph, *args: Any) -> None:
        try:
            method(self, *args)
        except sqlite3.OperationalError as exc:
            if "full" not in str(exc):
                raise
            raise NoRoom(
                f"no space left in $TMPDIR ({self.folder.parent}) for the objects of a document this big"
            ) from None

    return written


_IN_MEMORY = 128 << 20  # bytes of a bundle read before its graph moves from memory to disk
_BATCH = 5_000  # objects written to disk at a time
_CACHED = 8_192  # objects and edge lists an assembly looks up again on disk (shared actors, places)
_DISK = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -65536;
CREATE TABLE o (
    first INTEGER PRIMARY KEY,  -- where the id first appears: the order a reader meets the objects in
    id TEXT NOT NULL,
    idx INTEGER NOT NULL,       -- where its kept (newest) version is: its JSON pointer
    type TEXT NOT NULL,
    src TEXT,                   -- a relationship's source_ref, target_ref and relationship_type
    dst TEXT,
    rtype TEXT,
    modified TEXT,
    body BLOB NOT NULL          -- the compacted object, marshalled
);
CREATE TABLE bad (pointer TEXT, text TEXT, problem TEXT);
BEGIN;
"""
Row = tuple[int, int, Obj]  # where an id first appears, where its kept version is, that version


def _loads(body: bytes) -> Any:
    """An object as `ObjectGraph` marshalled it: bytes this process wrote moments before to its
    own temporary file, never a file's bytes, so marshal (fast) is safe here."""
    return marshal.loads(body)  # noqa: S302


class ObjectGraph:
    """The kept objects of one bundle: the newest version of each id, looked up by id, by a
    relationship's source, or by a report's object_refs as each incident is assembled.

    They are held in memory until the bundle's first `_IN_MEMORY` bytes have been read;
    past that they move to a temporary SQLite file (in $TMPDIR) and the rest is appended
    there (every version; the newest of each id is chosen at the end), so a bundle of
    gigabytes needs no more memory than one of a hundred megabytes. Which objects an
    assembly looked up is kept as one byte per object, so the summary can say what no
    incident used."""

    def __init__(self, folder: Path, newer: Callable[[Obj, Obj], bool]) -> None:
        self.folder, self.newer = folder, newer
        self.memory: dict[str, Row] = {}
        self.bad: list[RawRecord] = []
        self.db: sqlite3.Connection | None = None
        self.pending: list[tuple[Any, ...]] = []
        self.read = 0  # bytes of the bundle read so far
        self.size = 0  # one past the last kept object's index in the bundle
        self.older: Counter[str] = Counter()  # versions left for a newer one, by type
        self.seen = bytearray()
        self.seen_elsewhere: set[str] = set()  # ids looked up that the bundle does not hold
        self.edges: dict[str, list[Obj]] = {}
        self.reports: dict[str, list[Obj]] = {}
        self.fetch: Callable[[str], tuple[int, Obj] | None] = self._fetch_memory
        self.out: Callable[[str], list[Obj]] = lambda oid: self.edges.get(oid, [])

    def __enter__(self) -> ObjectGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.db is not None:
            self.db.close()

    def counted(self, progress: Callable[[int], None] | None) -> Callable[[int], None]:
        """A progress callback that also counts the bytes read, for when to move to disk."""

        def count(n: int) -> None:
            self.read += n
            if progress is not None:
                progress(n)

        return count

    def add(self, index: int, obj: Obj) -> None:
        self.size = index + 1
        if self.db is None and self.read > _IN_MEMORY:
            self._to_disk()
        if self.db is not None:
            self.pending.append(self._row(index, index, obj))
            if len(self.pending) >= _BATCH:
                self._write()
            return
        found = self.memory.get(obj["id"])
        if found is None:
            self.memory[obj["id"]] = (index, index, obj)
            return
        self.older[obj["type"]] += 1
        self.memory[obj["id"]] = self._newer_of(found, (index, index, obj))

    @_writing
    def problem(self, pointer: str, text: str, problem: str | None) -> None:
        if self.db is None:
            self.bad.append(RawRecord(None, pointer, text, None, problem))
        else:
            self.db.execute("INSERT INTO bad VALUES (?, ?, ?)", (pointer, text, problem))

    @staticmethod
    def _row(first: int, idx: int, obj: Obj) -> tuple[Any, ...]:
        edge = obj["type"] == "relationship"
        source, target, kind = (
            (obj.get("source_ref"), obj.get("target_ref"), obj["relationship_type"]) if edge else (None, None, None)
        )
        return (first, obj["id"], idx, obj["type"], source, target, kind, str(obj.get("modified")), marshal.dumps(obj))

    @_writing
    def _to_disk(self) -> None:
        self.db = sqlite3.connect(self.folder / "graph.sqlite", isolation_level=None)
        self.db.executescript(_DISK)
        held = iter(self.memory.values())
        while batch := list(itertools.islice(held, _BATCH)):  # a batch at a time: not all of them twice over
            self.pending = [self._row(*row) for row in batch]
            self._write()
        self.db.executemany("INSERT INTO bad VALUES (?, ?, ?)", [(r.pointer, r.raw, r.problem) for r in self.bad])
        self.memory, self.bad = {}, []

    @_writing
    def _write(self) -> None:
        assert self.db is not None
        self.db.executemany("INSERT INTO o VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self.pending)
        self.pending.clear()

    @_writing
    def finish(self) -> None:
        """Every object read: what an assembly looks up by."""
        self.seen = bytearray(self.size)
        if self.db is None:
            for _first, _idx, obj in self.memory.values():
                if obj["type"] == "relationship":
                    self.edges.setdefault(obj["source_ref"], []).append(obj)
                elif obj["type"] == "report":
                    for ref in obj.get("object_refs") or []:
                        if isinstance(ref, str):
                            self.reports.setdefault(ref, []).append(obj)
            return
        self._write()
        db = self.db
        db.execute("CREATE INDEX o_id ON o (id)")
        for (oid,) in db.execute("SELECT id FROM o GROUP BY id HAVING count(*) > 1").fetchall():
            self._keep_newest(oid)
        db.execute("CREATE INDEX o_src ON o (src) WHERE type = 'relationship'")
        db.execute("CREATE INDEX o_event ON o (first) WHERE type = 'event'")
        db.execute("CREATE TABLE refs (ref TEXT, report TEXT, first INTEGER, pos INTEGER)")
        for report, first, body in db.execute("SELECT id, first, body FROM o WHERE type = 'report'").fetchall():
            refs = _loads(body).get("object_refs") or []
            db.executemany(
                "INSERT INTO refs VALUES (?, ?, ?, ?)",
                [(ref, report, first, pos) for pos, ref in enumerate(refs) if isinstance(ref, str)],
            )
        db.execute("CREATE INDEX refs_ref ON refs (ref)")
        db.execute("COMMIT")
        self.fetch = lru_cache(maxsize=_CACHED)(self._fetch_disk)
        self.out = lru_cache(maxsize=_CACHED)(self._out_disk)

    def _keep_newest(self, oid: str) -> None:
        """An id given more than once: its newest version (the first of equals), kept where
        the id first appears, as the bundle was read (`add`)."""
        assert self.db is not None
        found = self.db.execute("SELECT first, idx, body FROM o WHERE id = ? ORDER BY first", (oid,)).fetchall()
        versions = [(first, idx, _loads(body)) for first, idx, body in found]
        kept = functools.reduce(self._newer_of, versions)
        self.older[kept[2]["type"]] += len(versions) - 1
        self.db.execute("DELETE FROM o WHERE id = ?", (oid,))
        self.db.execute("INSERT INTO o VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._row(*kept))

    def _newer_of(self, kept: tuple[int, int, Obj], other: tuple[int, int, Obj]) -> tuple[int, int, Obj]:
        """Of two versions of an id (the second read later), the newer, the first of equals:
        in the first's place, so the objects keep the order in which their ids first came."""
        return (kept[0], other[1], other[2]) if self.newer(other[2], kept[2]) else kept

    def problems(self) -> Iterator[RawRecord]:
        yield from self.bad
        if self.db is not None:
            for pointer, text, problem in self.db.execute("SELECT pointer, text, problem FROM bad ORDER BY rowid"):
                yield RawRecord(None, pointer, text, None, problem)

    def _fetch_memory(self, oid: str) -> tuple[int, Obj] | None:
        found = self.memory.get(oid)
        return None if found is None else (found[1], found[2])

    def _fetch_disk(self, oid: str) -> tuple[int, Obj] | None:
        assert self.db is not None
        row = self.db.execute("SELECT idx, body FROM o WHERE id = ?", (oid,)).fetchone()
        return None if row is None else (row[0], _loads(row[1]))

    def _out_disk(self, oid: str) -> list[Obj]:
        """The relationships whose source is `oid`, in the bundle's order."""
        assert self.db is not None
        rows = self.db.execute("SELECT body FROM o WHERE src = ? AND type = 'relationship' ORDER BY first", (oid,))
        return [_loads(body) for (body,) in rows]

    def reported_in(self, oid: str) -> list[Obj]:
        """The reports whose object_refs name `oid` (once for each time they name it)."""
        if self.db is None:
            return self.reports.get(oid, [])
        rows = self.db.execute(
            "SELECT o.body FROM refs JOIN o ON o.id = refs.report WHERE refs.ref = ? ORDER BY refs.first, refs.pos",
            (oid,),
        )
        return [_loads(body) for (body,) in rows]

    def in_order(self, kinds: tuple[str, ...]) -> Iterator[tuple[str, int, Obj]]:
        """(id, pointer index, object) of the kept objects of these types, in the bundle's order."""
        if self.db is None:
            yield from ((oid, idx, obj) for oid, (_first, idx, obj) in self.memory.items() if obj["type"] in kinds)
            return
        marks = ", ".join("?" * len(kinds))
        rows = self.db.execute(f"SELECT id, idx, body FROM o WHERE type IN ({marks}) ORDER BY first", kinds)
        for oid, idx, body in rows:
            yield oid, idx, _loads(body)

    def links(self) -> Iterator[tuple[int, str, str | None, int | None, str | None, int | None, str | None]]:
        """Each kept object in the bundle's order as (index, type, and for a relationship its
        source id and index, target id and index, relationship_type); an index is None for
        an id the bundle does not hold."""
        if self.db is None:
            for _first, idx, obj in self.memory.values():
                if obj["type"] != "relationship":
                    yield idx, obj["type"], None, None, None, None, None
                    continue
                source, target = self.memory.get(obj["source_ref"]), self.memory.get(obj.get("target_ref") or "")
                yield (
                    idx,
                    "relationship",
                    obj["source_ref"],
                    source and source[1],
                    obj.get("target_ref"),
                    target and target[1],
                    obj["relationship_type"],
                )
            return
        yield from self.db.execute(
            "SELECT o.idx, o.type, o.src, s.idx, o.dst, t.idx, o.rtype FROM o"
            " LEFT JOIN o s ON s.id = o.src LEFT JOIN o t ON t.id = o.dst ORDER BY o.first"
        )


class Seen:
    """The graph as an assembly reads it, remembering which objects it looked up."""

    def __init__(self, graph: ObjectGraph) -> None:
        self.graph = graph

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.graph.fetch(key) is not None

    def __getitem__(self, key: str) -> Obj:
        found: Obj | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Any = None) -> Any:
        found = self.graph.fetch(key) if isinstance(key, str) else None
        if found is None:
            if isinstance(key, str):
                self.graph.seen_elsewhere.add(key)
            return default
        self.graph.seen[found[0]] = 1
        return found[1]


class Edges:
    """A relationship's source id -> its relationships, looked up as needed."""

    def __init__(self, graph: ObjectGraph) -> None:
        self.graph = graph

    def get(self, key: str, default: list[Obj] | None = None) -> list[Obj]:
        return self.graph.out(key) if isinstance(key, str) else (default or [])
