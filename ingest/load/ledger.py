"""What the ledger knows about files already loaded: the cheap checks that let a nightly
run over a folder of thousands of batches skip the old ones without reading them.

Kept free of the parsing machinery (pydantic, Arrow, the formats), so that a run with
nothing new costs little more than opening the store.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISLNK
from typing import Literal

import duckdb

from ingest.inputs.guard import open_regular

Status = Literal["loaded", "skipped", "failed"]


@dataclass
class FileResult:
    path: Path
    status: Status
    source: str | None = None
    format: str | None = None
    sha256: str | None = None
    file_id: str | None = None
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> records
    url: str | None = None  # a remote source that could not be fetched: what was asked for
    bug: bool = False  # failed by a bug in cyberlog, not by the input: the run ends with exit 1
    replaced: list[tuple[int | None, str | None, str]] = field(
        default_factory=list
    )  # stored before: line, pointer, ref

    @property
    def stored_path(self) -> str:
        """What the ledger keeps as the file's path (the URL of a remote source)."""
        return self.url or stored_path(self.path)

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)


def stored_path(path: Path) -> str:
    """The absolute path with its symlinks followed, as the ledger keeps it; a path whose
    symlinks loop (or cannot be followed) kept as given, made absolute, rather than raising."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # RuntimeError: Python < 3.13 on a symlink loop
        return str(path.absolute())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as stream:  # never a FIFO or a device: it could block or never end
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Ledger:
    """Loaded files by (source, path, size, mtime) and by (source, sha256), read once per run."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            "SELECT source, path, size_bytes, mtime_ns, sha256 FROM ingest_files WHERE status = 'loaded'"
        )
        self._by_stat: dict[tuple[str, int | None, int | None], set[str]] = {}
        self._by_sha: set[tuple[str, str]] = set()
        self._folders: dict[Path, str] = {}
        for source, path, size, mtime, sha in rows.fetchall():
            self._by_stat.setdefault((path, size, mtime), set()).add(source)
            if sha:
                self._by_sha.add((source, sha))

    def same_file(self, path: Path, source: str | None) -> str | None:
        """The source that loaded a file with this path, size and mtime (`source`, or any
        when none is given), without reading a byte of it; None when there is none."""
        try:
            stat = path.lstat()
            if S_ISLNK(stat.st_mode):  # a link: what it leads to, and where that is
                stat, where = path.stat(), stored_path(path)
            else:  # a file in a folder: the folder's real path, found once for all its files
                where = self._stored_in(path)
        except OSError:
            return None
        sources = self._by_stat.get((where, stat.st_size, stat.st_mtime_ns), set())
        if source is None:
            return min(sources) if len(sources) == 1 else None
        return source if source in sources else None

    def _stored_in(self, path: Path) -> str:
        """`stored_path` of a path that is not a link, by its folder's real path (a nightly
        over a folder of 9,000 batches followed every folder of every path once per file)."""
        folder = self._folders.get(path.parent)
        if folder is None:  # kept with its separator: "/" for the root, "/srv/feeds/" for a folder
            folder = self._folders[path.parent] = stored_path(path.parent).rstrip(os.sep) + os.sep
        return folder + path.name

    def same_bytes(self, source: str, sha256: str) -> bool:
        return (source, sha256) in self._by_sha

    def loaded(self, result: FileResult, size: int, mtime_ns: int) -> None:
        """Remember a file this run loaded, so the same bytes later in the run are skipped."""
        self._by_stat.setdefault((stored_path(result.path), size, mtime_ns), set()).add(str(result.source))
        if result.sha256:
            self._by_sha.add((str(result.source), result.sha256))
