"""Compressed inputs: a gzip file or a one-member zip is read as the file inside it.

Feeds ship compressed (GDELT publishes zips; mirrors gzip everything), so every format
takes them. The content is unpacked into the run's temporary folder under a fixed name —
never a name from the archive, so a member called `../../etc/cron.d/x` lands nowhere but
there — and counted as it streams: past MAX_RATIO times the compressed size (and at least
MIN_LIMIT), the file is refused as a decompression bomb before it can fill the disk. The
ledger keeps the archive's own sha256, so a re-sent archive is skipped like any file.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

from ingest.errors import FileUnreadable


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


MAX_RATIO = 100  # real feeds compress 5-20x; a bomb 1,000x and more
MIN_LIMIT = 256 << 20  # small archives may unpack to this much whatever their ratio
CHUNK = 1 << 20


def kind(path: Path) -> str | None:
    """'gzip' or 'zip' by the file's magic bytes (not its name), else None."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def limit_for(path: Path) -> int:
    return max(MIN_LIMIT, MAX_RATIO * path.stat().st_size)


def unpack(path: Path, workdir: Path, *, gzip_too: bool = True) -> Path:
    """The path to read: `path` itself, or its content unpacked into `workdir`."""
    found = kind(path)
    if found is None or (found == "gzip" and not gzip_too):
        return path
    target = workdir / "unpacked"
    limit = limit_for(path)
    try:
        if found == "gzip":
            with gzip.open(path, "rb") as source:
                _copy(source, target, limit, path)
        else:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    raise FileUnreadable(
                        f"the zip holds {len(members)} files; cyberlog reads zips of exactly one file "
                        "(unpack it and ingest the files)",
                        path=path,
                    )
                if members[0].flag_bits & 0x1:
                    raise FileUnreadable("the zip is encrypted: unpack it first", path=path)
                with archive.open(members[0]) as source:
                    _copy(source, target, limit, path)
    except (zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile, NotImplementedError, RuntimeError) as exc:
        what = "gzip" if found == "gzip" else "zip"
        raise FileUnreadable(f"not a readable {what} file: {exc or type(exc).__name__}", path=path) from None
    return target


def _copy(source: _Readable, target: Path, limit: int, path: Path) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise FileUnreadable(
                    f"unpacks to more than {limit:,} bytes ({MAX_RATIO}x its compressed size): refused as a "
                    "decompression bomb; unpack it yourself if it is genuine",
                    path=path,
                )
            out.write(chunk)
