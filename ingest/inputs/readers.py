"""Reading input files into raw records, with where each came from.

The loader owns reading so every format gets the same care: physical line numbers,
the raw text of each record for `rejects`, UTF-8 with or without a BOM (UTF-16 by its
BOM), CRLF, quoted fields with embedded newlines, and recovery after malformed quoting
so one bad record never hides the good ones after it.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO

from ingest.errors import FileUnreadable, did_you_mean
from ingest.inputs.archives import first_member, is_workbook
from ingest.inputs.guard import NOT_A_ZIP, open_regular
from ingest.inputs.json_stream import JsonDocument, kind

MAX_RECORD_CHARS = 1_000_000  # a longer record is almost always an unterminated quote
ENCODING_HINT = "pass --encoding (e.g. --encoding cp1252) or set encoding in cyberlog.toml"


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: `fields` when it parsed, else `problem` says why not.

    `skip` marks a record that is readable but not for us (a STIX indicator, say): the
    loader counts it by that reason instead of validating it.
    """

    line: int | None
    pointer: str | None
    raw: str
    fields: dict[str, Any] | None
    problem: str | None = None
    skip: str | None = None


class _RecordTooLong(Exception):
    pass


class _Lines:
    """Physical lines with their numbers; keeps the current record's lines for replay."""

    def __init__(self, stream: TextIO, progress: Callable[[int], None] | None) -> None:
        self._stream = stream
        self._pending: deque[str] = deque()
        self._progress = progress
        self.number = 0
        self.record: list[str] = []
        self._record_chars = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._pending:
            line = self._pending.popleft()
        else:
            line = next(self._stream)
            if self._progress:
                self._progress(len(line))
        self.number += 1
        self.record.append(line)
        self._record_chars += len(line)
        if self._record_chars > MAX_RECORD_CHARS:
            raise _RecordTooLong
        return line

    def start_record(self) -> int:
        self.record = []
        self._record_chars = 0
        return self.number + 1

    def replay_after_first(self, first_line: int) -> None:
        """Read the current record's lines again, all but its first."""
        self._pending.extendleft(reversed(self.record[1:]))
        self.number = first_line


def detect_encoding(head: bytes, declared: str) -> str:
    """UTF-16 by its BOM; utf-8 also strips a UTF-8 BOM (as Excel writes)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8-sig" if declared.lower().replace("_", "-") in ("utf-8", "utf8") else declared


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bad bytes


def _has_undecodable(text: str) -> bool:
    return not text.isascii() and _UNDECODABLE.search(text) is not None


def _rows(lines: _Lines, delimiter: str, quoted: bool = True) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line, fields or None, problem) for every record, recovering from bad quoting."""
    quoting: Literal[0, 3] = csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE  # tab-separated ICEWS quotes nothing
    reader = csv.reader(lines, delimiter=delimiter, strict=True, quoting=quoting)
    while True:
        start = lines.start_record()
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, _RecordTooLong) as exc:
            swallowed = len(lines.record) > 1
            why = "record longer than 1,000,000 characters" if isinstance(exc, _RecordTooLong) else str(exc)
            yield start, None, f"malformed CSV: {why}" + (" (unterminated quote?)" if swallowed else "")
            if swallowed:
                lines.replay_after_first(start)
                reader = csv.reader(lines, delimiter=delimiter, strict=True, quoting=quoting)
            continue
        yield start, row, None


def read_csv(
    path: Path,
    *,
    encoding: str,
    columns: frozenset[str],
    required: frozenset[str],
    delimiter: str = ",",
    progress: Callable[[int], None] | None = None,
    quoted: bool = True,
    names: tuple[list[str], str] | None = None,
) -> Iterator[RawRecord]:
    """Records of a CSV file with a header row naming a subset of `columns`; or, with
    `names` (the columns, and why a line must have them all), of a file without one."""
    with open_regular(path) as probe:
        head = probe.read(4)
    if not head:
        raise FileUnreadable("file is empty (0 bytes): expected a header row", path=path)
    text = io.TextIOWrapper(open_regular(path), detect_encoding(head, encoding), "surrogateescape", newline="")
    with text as stream:
        lines = _Lines(stream, progress)
        rows = _rows(lines, delimiter, quoted)
        header = names[0] if names else _header(path, next(rows, None), columns, required)
        expected = f"({names[1]})" if names else "as in the header"
        for start, row, problem in rows:
            raw = "".join(lines.record) if row is not None else lines.record[0] if lines.record else ""
            if row is None:
                yield RawRecord(start, None, raw, None, problem)
            elif row and row != [""]:  # a blank line is not a record
                yield _record(start, row, raw, header, expected, encoding)


def _record(start: int, row: list[str], raw: str, header: list[str], expected: str, encoding: str) -> RawRecord:
    if "\x00" in raw:
        return RawRecord(start, None, raw, None, "contains a NUL byte: binary data, or a UTF-16 file without a BOM?")
    if _has_undecodable(raw):
        return RawRecord(start, None, raw, None, f"bytes that are not valid {encoding}: {ENCODING_HINT}")
    if len(row) != len(header):
        return RawRecord(start, None, raw, None, f"expected {len(header)} fields {expected}, found {len(row)}")
    # a blank cell is an absent value (so model defaults apply), not an empty string
    cells = {name: cell for name, cell in zip(header, row, strict=True) if cell and not cell.isspace()}
    return RawRecord(start, None, raw, cells)


def csv_record(line: int, raw: str, header: list[str], encoding: str) -> RawRecord:
    """One line of a CSV file with a header (a record on one line, with its line ending) as
    `read_csv` would read it: for rows checked elsewhere that the model must see."""
    if len(raw) > MAX_RECORD_CHARS:
        return RawRecord(line, None, raw, None, "malformed CSV: record longer than 1,000,000 characters")
    try:
        row = next(csv.reader([raw], strict=True), [])
    except csv.Error as exc:
        return RawRecord(line, None, raw, None, f"malformed CSV: {exc}")
    return _record(line, row, raw, header, "as in the header", encoding)


def _header(
    path: Path,
    first: tuple[int, list[str] | None, str | None] | None,
    columns: frozenset[str],
    required: frozenset[str],
) -> list[str]:
    if first is None or first[1] is None:
        why = first[2] if first else "no header row"
        raise FileUnreadable(f"cannot read the header row: {why}", path=path)
    header = [name.strip() for name in first[1]]
    if any(_has_undecodable(name) for name in header):
        raise FileUnreadable(f"header is not valid text in this encoding: {ENCODING_HINT}", path=path)
    unknown = [name for name in header if name not in columns]
    missing = sorted(required - set(header))
    if len(unknown) == len(header) and not all(map(_NAME_LIKE.fullmatch, header)):  # a data line, no header
        raise FileUnreadable(
            f"the first line is not a header of this format: it reads like data ({len(header)} "
            f"field{'s' if len(header) != 1 else ''}, none names a column); "
            f"expected columns: {', '.join(sorted(columns))}",
            path=path,
        )
    if unknown or missing:
        raise FileUnreadable(header_problem(unknown, missing, columns), path=path)
    if len(set(header)) != len(header):
        raise FileUnreadable("header names a column twice", path=path)
    return header


_NAME_LIKE = re.compile(r"[^\W\d][\w .()/#-]{0,63}")  # a column's name: a word, short, not a number


def header_problem(unknown: list[str], missing: list[str], columns: frozenset[str], expected: bool = True) -> str:
    """What is wrong with a header: each unknown name (cut short, with the column it may
    mean) and the required columns it lacks, then the columns the format has."""
    shown = ", ".join(f"{_short(name)}{did_you_mean(name, columns)}" for name in unknown[:8])
    shown += f" (and {len(unknown) - 8} more)" if len(unknown) > 8 else ""
    parts = [f"unknown column(s) {shown}"] if unknown else []
    parts += [f"missing required column(s) {', '.join(missing)}"] if missing else []
    return "; ".join(parts + ([f"expected columns: {', '.join(sorted(columns))}"] if expected else []))


def _short(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def csv_header(head: bytes, delimiter: str = ",") -> list[str] | None:
    """The header of a CSV file from its first bytes, for format detection."""
    text = head.decode(detect_encoding(head, "utf-8"), errors="replace")
    first = text.splitlines()[0] if text else ""
    try:
        return [name.strip() for name in next(csv.reader([first], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return None


# JSON ---------------------------------------------------------------------------------

MAX_RAW_CHARS = 100_000  # raw text kept with a reject; a longer record is cut, and says so


class _Counted(io.RawIOBase):
    """A binary stream that reports bytes read, for progress bars."""

    def __init__(self, stream: io.BufferedReader, progress: Callable[[int], None]) -> None:
        self._stream, self._progress = stream, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._stream.readinto(buffer)
        self._progress(n or 0)
        return n or 0


def json_text(value: Any) -> str:
    """A JSON value as compact text for `rejects.raw`, cut at MAX_RAW_CHARS."""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + f"... ({len(text):,} characters)"


class _Transcoded(io.RawIOBase):
    """A binary stream of another encoding's text, re-encoded as UTF-8 for the JSON parser."""

    def __init__(self, stream: io.BufferedIOBase, encoding: str, path: Path) -> None:
        self._stream, self._pending, self._path = stream, b"", path
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._stream.read(1 << 16)
            try:
                text = self._decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise FileUnreadable(
                    f"bytes that are not valid {exc.encoding}: {ENCODING_HINT}", path=self._path
                ) from None
            self._pending = text.encode("utf-8")
            if not chunk:
                break
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


@contextmanager
def open_json(
    path: Path, progress: Callable[[int], None] | None = None, encoding: str = "utf-8"
) -> Iterator[tuple[BinaryIO, bytes]]:
    """A JSON file as a UTF-8 stream positioned at its first value, with that value's first byte.

    JSON is UTF-8 (RFC 8259), and a UTF-8 BOM is skipped; UTF-16 (told by its BOM, or by
    the NUL beside the first ASCII character) and files read with --encoding are
    re-encoded on the fly.
    """
    with open_regular(path) as raw:
        head = raw.peek(4)[:4]
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            encoding = "utf-16"
        elif len(head) >= 2 and codecs.lookup(encoding).name == "utf-8" and (head[0] == 0) != (head[1] == 0):
            encoding = "utf-16-be" if head[0] == 0 else "utf-16-le"  # no BOM: JSON starts with ASCII (RFC 4627)
        source = raw if progress is None else io.BufferedReader(_Counted(raw, progress))
        name = codecs.lookup(encoding).name
        stream = source if name == "utf-8" else io.BufferedReader(_Transcoded(source, name, path))
        if stream.peek(3)[:3] == b"\xef\xbb\xbf":
            stream.read(3)
        while chunk := stream.peek(4096):
            stripped = chunk.lstrip()
            stream.read(len(chunk) - len(stripped))
            if stripped:
                yield stream, stripped[:1]
                return
        raise FileUnreadable("file is empty: expected a JSON document", path=path)


def read_json(
    path: Path, progress: Callable[[int], None] | None = None, encoding: str = "utf-8"
) -> Iterator[RawRecord]:
    """One record per element of a top-level array (pointer /0, /1 ...) or the single
    top-level object (pointer ""). A record too deep, with a key twice or a lone surrogate
    is a reject; malformed JSON fails the file (`FileUnreadable`), so none of it loads."""
    with open_json(path, progress, encoding) as (stream, _first):
        document = JsonDocument(stream, path)
        for where, value, problem in document.records("not a JSON object or array: the document is {kind}"):
            if problem:
                yield RawRecord(None, where, "", None, problem)
            elif isinstance(value, dict):
                yield RawRecord(None, where, "", value)
            else:
                yield RawRecord(None, where, json_text(value), None, f"expected a JSON object, found {kind(value)}")
        document.end()


def peek(path: Path, size: int) -> bytes:
    """The first bytes of a file's content: inside a single-member zip, or gunzipped.
    Refused unless the file is a regular file; a `.zip` that is not one, or whose member
    may not be read (archives.only_member), is refused too."""
    with open_regular(path) as stream:
        head = stream.read(size)
        if path.suffix.lower() == ".zip" and not head.startswith(b"PK\x03\x04"):
            raise FileUnreadable(NOT_A_ZIP, path=path)
        stream.seek(0)
        try:
            if head.startswith(b"PK\x03\x04"):
                with zipfile.ZipFile(stream) as archive:
                    if is_workbook(archive):  # an .xlsx: its format knows it by the zip's own bytes
                        return head
                    with archive.open(first_member(archive, path)) as member:
                        return member.read(size)
            elif head.startswith(b"\x1f\x8b"):
                with gzip.GzipFile(fileobj=stream) as unzipped:
                    return unzipped.read(size)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error):
            pass  # not what it seemed, encrypted or packed in a way we cannot read: the raw bytes decide
    return head
