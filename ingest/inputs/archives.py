"""Compressed inputs: a gzip file or a one-member zip is read as the file inside it.

Feeds ship compressed (GDELT publishes zips; mirrors gzip everything), so every format
takes them. The content is unpacked into the run's temporary folder, under a name that is
only ever a plain base name there (`plain_name`); a zip whose member is named outside it
(`../x`, `/etc/x`) or is a symbolic link is refused before anything is read, as no real
feed makes one. A zip's declared size is checked before a byte is unpacked, and everything is counted
as it streams: past MAX_RATIO times the compressed size (and at least MIN_LIMIT), the file
is refused as a decompression bomb before it can fill the disk. The ledger keeps the
archive's own sha256, so a re-sent archive is skipped like any file. A format that reads
a zip of several files as one (a POLECAT year of months) unpacks them all with
`unpack_members`, under the same checks and one limit for them all.
"""

from __future__ import annotations

import gzip
import re
import stat
import zipfile
import zlib
from collections import Counter
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

from ingest.errors import FileUnreadable
from ingest.inputs.guard import NOT_A_ZIP, open_regular


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


MAX_RATIO = 100  # real feeds compress 5-20x; a bomb 1,000x and more
MIN_LIMIT = 256 << 20  # small archives may unpack to this much whatever their ratio
CHUNK = 1 << 20
_MAX_FILES = 1_000  # a zip read as one file (a POLECAT year holds 12): more is not such a zip


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


WORKBOOK_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})


def is_workbook(archive: zipfile.ZipFile) -> bool:
    """An Office Open XML workbook (.xlsx): a zip of many parts, read as it is by its format
    (dcid), which bounds its parts' declared sizes itself before openpyxl opens it."""
    return set(archive.namelist()) >= WORKBOOK_PARTS


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
    target = workdir / plain_name(path.name)
    limit = limit_for(path)
    try:
        with open_regular(path) as raw:
            if found == "gzip":
                with gzip.GzipFile(fileobj=raw) as source:
                    _copy(source, target, limit, path)
            else:
                with zipfile.ZipFile(raw) as archive:
                    if is_workbook(archive):
                        return path
                    member = only_member(archive, path)
                    target = workdir / plain_name(member.filename, fallback=target.name)
                    if member.file_size > limit:  # declared: refused before a byte is unpacked
                        raise FileUnreadable(bomb(limit), path=path)
                    with archive.open(member) as source:
                        _copy(source, target, limit, path)
    except (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile, NotImplementedError, RuntimeError) as exc:
        what = "gzip" if found == "gzip" else "zip"
        raise FileUnreadable(f"not a readable {what} file: {exc or type(exc).__name__}", path=path) from None
    return target


_SAFE_NAME = re.compile(r"[\w.-]{1,128}", re.ASCII)


def plain_name(name: str, fallback: str = "unpacked") -> str:
    """The name the unpacked copy gets, so a format that reads something from the name (a
    DDoSia capture time, a POLECAT or UCDP release) reads it from a packed file too: a zip's
    member's own base name, or the archive's name less `.gz` or `.zip`; only plain ASCII
    letters, digits, `.`, `_` and `-`, else `fallback`. It is only ever a name inside the
    run's own temporary folder."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if dot and suffix.lower() in ("gz", "zip"):
        base = stem
    return base if _SAFE_NAME.fullmatch(base) and base.strip(".") else fallback


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
    _check_entries(archive, path)
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


def _check_entries(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse the zip if any entry is named outside the archive or is a symbolic link."""
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


def unpack_members(path: Path, workdir: Path) -> list[tuple[str, Path]]:
    """Every file of a zip, unpacked into `workdir`: (its name in the zip, the copy), in the
    zip's order. For a format that reads a zip of several files as one (a POLECAT year of
    monthly files). Every entry is checked as for `only_member` (none named outside the
    archive, none a symbolic link, none encrypted), and a name given twice or a member that
    is itself a zip or gzip is refused; a folder entry holds nothing and is passed over. All
    members together unpack to no more than `limit_for(path)`: their declared sizes are
    checked before a byte is unpacked, and what is written is counted. Each copy keeps its
    member's base name (`plain_name`), in a folder of its own so that no two collide."""
    limit, written, unpacked = limit_for(path), 0, []
    try:
        with open_regular(path) as raw, zipfile.ZipFile(raw) as archive:
            files = _files_of(archive, path)
            if sum(member.file_size for member in files) > limit:
                raise FileUnreadable(bomb(limit), path=path)
            for number, member in enumerate(files, 1):
                (workdir / str(number)).mkdir()
                target = workdir / str(number) / plain_name(member.filename, fallback=plain_name(path.name))
                with archive.open(member) as source:
                    try:
                        _copy(source, target, limit - written, path)
                    except FileUnreadable:  # past what the members before it left: the archive's limit
                        raise FileUnreadable(bomb(limit), path=path) from None
                written += target.stat().st_size
                with target.open("rb") as copy:
                    if copy.read(4).startswith((b"\x1f\x8b", b"PK\x03\x04")):
                        raise FileUnreadable(
                            f"zip member {member.filename[:200]!r} is itself an archive: "
                            "unpack it yourself and ingest the files inside",
                            path=path,
                        )
                unpacked.append((member.filename, target))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise FileUnreadable(f"not a readable zip file: {exc or type(exc).__name__}", path=path) from None
    return unpacked


def first_member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    """The file a zip is recognised by: its one file, or the first of several (a POLECAT year),
    once every entry is checked. Whether its format reads a zip of several is its own affair."""
    return _files_of(archive, path)[0]


def _files_of(archive: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """The zip's files (not its folders), once every entry is checked; at least one, none
    encrypted, no name given twice."""
    _check_entries(archive, path)
    files = [m for m in archive.infolist() if not m.is_dir()]
    if not files:
        raise FileUnreadable("the zip holds no files", path=path)
    if any(m.flag_bits & 0x1 for m in files):
        raise FileUnreadable("the zip is encrypted: unpack it first", path=path)
    if len(files) > _MAX_FILES:
        raise FileUnreadable(
            f"the zip holds {len(files):,} files, more than {_MAX_FILES:,}: unpack it yourself", path=path
        )
    if twice := sorted(name for name, n in Counter(m.filename for m in files).items() if n > 1):
        raise FileUnreadable(f"the zip holds two files named {twice[0][:200]!r}: refused, nothing read", path=path)
    return files


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
