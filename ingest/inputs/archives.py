"""Compressed inputs: a gzip file or a one-member zip is read as the file inside it.

Feeds ship compressed (GDELT publishes zips; mirrors gzip everything), so every format
takes them. The content is unpacked into the run's temporary folder under a fixed name,
never a name from the archive; still, a zip whose member is named outside it (`../x`,
`/etc/x`) or is a symbolic link is refused before anything is read, as no real feed makes
one. A zip's declared size is checked before a byte is unpacked, and everything is counted
as it streams: past MAX_RATIO times the compressed size (and at least MIN_LIMIT), the file
is refused as a decompression bomb before it can fill the disk. The ledger keeps the
archive's own sha256, so a re-sent archive is skipped like any file.
"""

from __future__ import annotations

import gzip
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

from ingest.errors import FileUnreadable
from ingest.inputs.guard import NOT_A_ZIP, open_regular


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


MAX_RATIO = 100  # real feeds compress 5-20x; a bomb 1,000x and more
MIN_LIMIT = 256 << 20  # small archives may unpack to this much whatever their ratio
CHUNK = 1 << 20


def kind(path: Path) -> str | None:
    """'gzip' or 'zip' by the file's magic bytes (not its name), else None."""
    with open_regular(path) as stream:
        head = stream.read(4)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if path.suffix.lower() == ".zip":
        raise FileUnreadable(NOT_A_ZIP, path=path)
    return None


def limit_for(path: Path) -> int:
    return max(MIN_LIMIT, MAX_RATIO * path.stat().st_size)


def bomb(limit: int) -> str:
    return (
        f"unpacks to more than {limit:,} bytes ({MAX_RATIO}x its compressed size): refused as a "
        "decompression bomb; unpack it yourself if it is genuine"
    )


def unpack(path: Path, workdir: Path, *, gzip_too: bool = True) -> Path:
    """The path to read: `path` itself, or its content unpacked into `workdir`."""
    found = kind(path)
    if found == "gzip" and not gzip_too:
        _count_gzip(path)  # DuckDB gunzips it: bounded first, without writing a byte
        return path
    if found is None:
        return path
    target = workdir / "unpacked"
    limit = limit_for(path)
    try:
        with open_regular(path) as raw:
            if found == "gzip":
                with gzip.GzipFile(fileobj=raw) as source:
                    _copy(source, target, limit, path)
            else:
                with zipfile.ZipFile(raw) as archive:
                    member = only_member(archive, path)
                    if member.file_size > limit:  # declared: refused before a byte is unpacked
                        raise FileUnreadable(bomb(limit), path=path)
                    with archive.open(member) as source:
                        _copy(source, target, limit, path)
    except (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile, NotImplementedError, RuntimeError) as exc:
        what = "gzip" if found == "gzip" else "zip"
        raise FileUnreadable(f"not a readable {what} file: {exc or type(exc).__name__}", path=path) from None
    return target


def _count_gzip(path: Path) -> None:
    """Refuse a gzip that unpacks past its limit, counting as it streams (nothing kept):
    DuckDB's own gunzip has no such bound, and a 10 MB bomb would cost it minutes."""
    limit, total = limit_for(path), 0
    try:
        with open_regular(path) as raw, gzip.GzipFile(fileobj=raw) as source:
            while chunk := source.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise FileUnreadable(bomb(limit), path=path)
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        raise FileUnreadable(f"not a readable gzip file: {exc or type(exc).__name__}", path=path) from None


def only_member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    """The zip's one file, once every entry is checked: none named outside the archive,
    none a symbolic link, one file, not encrypted."""
    for info in archive.infolist():
        if _outside(info.filename):
            raise FileUnreadable(
                f"zip member {info.filename[:200]!r} is named outside the archive ('..' or an absolute path): "
                "refused, nothing read",
                path=path,
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise FileUnreadable(
                f"zip member {info.filename[:200]!r} is a symbolic link: refused, nothing read", path=path
            )
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        raise FileUnreadable(
            f"the zip holds {len(members)} files; cyberlog reads zips of exactly one file "
            "(unpack it and ingest the files)",
            path=path,
        )
    if members[0].flag_bits & 0x1:
        raise FileUnreadable("the zip is encrypted: unpack it first", path=path)
    return members[0]


def _outside(name: str) -> bool:
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    return posix.is_absolute() or bool(windows.drive or windows.root) or ".." in windows.parts


def _copy(source: _Readable, target: Path, limit: int, path: Path) -> None:
    """Stream into `target` in chunks, never writing more than `limit` bytes."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(min(CHUNK, limit + 1 - written)):
            written += len(chunk)
            if written > limit:
                raise FileUnreadable(bomb(limit), path=path)
            out.write(chunk)
