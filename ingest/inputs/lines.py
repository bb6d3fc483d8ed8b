"""Line-oriented files read by DuckDB itself (GDELT, JSON lines, CEF): the clean copy for
the lines its reader cannot take, and the bytes behind a compressed file.

DuckDB's `read_csv` stops a whole file at the first byte it cannot take: invalid UTF-8, a
carriage return or NUL inside a line. Such files are rare, so only then is a UTF-8 copy
made with those lines blanked (line numbers stay where they were), each of them to be staged
as a reject (ingest/load/staging.py); a file in another encoding is transcoded into that
copy the same way.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from ingest.errors import FileUnreadable
from ingest.inputs import archives
from ingest.inputs.guard import open_regular
from ingest.inputs.readers import ENCODING_HINT, RawRecord

_UNREADABLE = re.compile(rb"[\x00\r\x1e]")
# DuckDB's reader stops a file at a line of its max_line_size (2,000,000 bytes by default)
# or more, not counting the newline; such lines are blanked in the clean copy. A record that
# long is not a log line anyway.
MAX_LINE_BYTES = 2_000_000
_KEPT_OF_LONG_LINE = 65_536  # of an over-long line, this much text is kept with its reject


def clean_copy(path: Path, out: Path, encoding: str) -> list[tuple[int, str, str]]:
    """Copy the file as UTF-8, blanking the lines DuckDB's reader cannot take; (line,
    reason, raw) for each. Line numbers stay where they were: a blank line is ignored."""
    found: list[tuple[int, str, str]] = []
    with open_bytes(path) as stream, out.open("wb") as clean:
        lines = (
            _bounded(stream)
            if encoding == "utf-8"
            else ((line, len(line) - line.endswith(b"\n")) for line in _reencoded(stream, encoding))
        )
        for number, (line, size) in enumerate(lines, 1):
            body = line.rstrip(b"\n").removesuffix(b"\r")
            if number == 1:
                body = body.removeprefix(b"\xef\xbb\xbf")
            reason = None
            if size >= MAX_LINE_BYTES:
                clean.write(b"\n")
                kept = body[:_KEPT_OF_LONG_LINE].decode("utf-8", "replace")
                found.append(
                    (
                        number,
                        f"line of {size:,} bytes: DuckDB's reader takes lines under {MAX_LINE_BYTES:,} "
                        f"(its first {len(kept):,} characters are kept here)",
                        kept,
                    )
                )
                continue
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = (
                    f"byte 0x{body[exc.start]:02x} at column {exc.start + 1} is not valid {encoding}: {ENCODING_HINT}"
                )
            if reason is None and (bad := _UNREADABLE.search(body)):
                reason = f"control character 0x{bad.group()[0]:02x} at column {bad.start() + 1} inside the line"
            if reason is None:
                clean.write(body + b"\n")
            else:
                clean.write(b"\n")
                found.append((number, reason, body.decode("utf-8", "replace")))
    return found


def _bounded(stream: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """The stream's lines with their sizes in bytes before the newline; of a line of
    MAX_LINE_BYTES or more only the start is held in memory (the rest is read past), so one
    huge line cannot exhaust it."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        size = len(line)
        ended = line.endswith(b"\n")
        while not ended and size > MAX_LINE_BYTES and (rest := stream.readline(1 << 20)):
            size += len(rest)
            ended = rest.endswith(b"\n")
        yield line, size - ended


def _reencoded(stream: IO[bytes], encoding: str) -> Iterator[bytes]:
    """The lines of a file in another encoding, as UTF-8; undecodable bytes are kept as
    they were, so the check above still finds and names them."""
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="\n")
    for line in text:
        yield line.encode("utf-8", "surrogateescape")


def read_lines(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """The file's lines with their numbers: the reader of the line formats DuckDB stages,
    used for the raw text of rejects found after staging."""
    with open_bytes(path) as stream:
        for number, line in enumerate(stream, 1):
            yield RawRecord(number, None, line.decode("utf-8", "replace").rstrip("\r\n"), None)


def head(path: Path, size: int = 4) -> bytes:
    with open_bytes(path) as stream:
        return stream.read(size)


@contextmanager
def open_bytes(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes: the one member of a zip, gunzipped (both counted against the
    decompression-bomb limit), or as they are. Only a regular file is opened."""
    with ExitStack() as stack:
        found = archives.kind(path)
        raw = stack.enter_context(open_regular(path))
        if found == "zip":
            archive = stack.enter_context(zipfile.ZipFile(raw))
            member = archives.only_member(archive, path)
            source: IO[bytes] = stack.enter_context(archive.open(member))
        elif found == "gzip":
            source = stack.enter_context(gzip.GzipFile(fileobj=raw))  # type: ignore[arg-type]
        else:
            yield raw
            return
        yield io.BufferedReader(_Bounded(source, archives.limit_for(path), path), archives.CHUNK)


class _Bounded(io.RawIOBase):
    """An unpacking stream that stops with the bomb error past `limit` bytes."""

    def __init__(self, stream: IO[bytes], limit: int, path: Path) -> None:
        self._stream, self._left, self._limit, self._path = stream, limit, limit, path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise FileUnreadable(archives.bomb(self._limit), path=self._path)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)
