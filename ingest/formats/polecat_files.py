"""Reading POLECAT files: a weekly or monthly TSV, as it is, gzipped or in a one-file zip,
and a yearly zip of monthly TSVs, read as one file with its months in calendar order.

Each TSV's header is checked and its quirks handled here (an extra `Headline` name, `Event
Intensity`, trailing empty columns); `'` and `"` are plain characters (nothing is quoted).
Copies of one Event ID are sorted out before a record is read: the newest Version wins, and
in a yearly zip (whose annual files repeat "a small number" of ids, FORMATS 6.4) the first
of equal copies is kept and the others skipped.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

from ingest.errors import FileUnreadable
from ingest.inputs import archives
from ingest.inputs.guard import open_regular
from ingest.inputs.readers import ENCODING_HINT, MAX_RECORD_CHARS, RawRecord, detect_encoding, header_problem

COLUMNS = (
    "Event ID", "Event Date", "Event Type", "Event Mode", "Intensity", "Quad Code", "Contexts",
    "Actor Name", "Actor Country", "Actor COW", "Primary Actor Sector", "Actor Sectors", "Actor Title",
    "Actor Name Raw", "Wikipedia Actor ID",
    "Recipient Name", "Recipient Country", "Recipient COW", "Primary Recipient Sector", "Recipient Sectors",
    "Recipient Title", "Recipient Name Raw", "Wikipedia Recipient ID",
    "Placename", "City", "District", "Province", "Country", "Latitude", "Longitude", "GeoNames ID",
    "Raw Placename", "Feature Type", "Source", "Publication Date",
    "Story People", "Story Organizations", "Story Locations", "Language", "Version",
)  # fmt: skip
RENAMED = {"Event Intensity": "Intensity"}  # the name in other releases
HEADLINE = "Headline"  # named in some headers, while the rows hold the 40 columns only
EXTRA = frozenset({HEADLINE, "Event Text", "Feed", "Story ID"})  # allowed beside the 40, not used
KNOWN = frozenset(COLUMNS) | EXTRA | frozenset(RENAMED)
OLDER = "older Version of an Event ID given again in this file (its newest Version is kept)"
AGAIN = "Event ID given again in the year's file: the first is kept"
_RELEASE = re.compile(r"ngecEvents\.(\d{14})\.Release\d+\.DV\.txt\Z")
_VERSION = re.compile(r"[vV]?(\d+(?:\.\d+)*)")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bad bytes
_FULL_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
MONTHS = {name: n for n, full in enumerate(_FULL_MONTHS, 1) for name in (full, full[:3])} | {"sept": 9}
_YEAR_MONTH = re.compile(r"(?<![0-9])([0-9]{4})[-_.]([A-Za-z]+|[0-9]{1,2})(?![A-Za-z0-9])")


def release(path: Path) -> datetime | None:
    """The release stamp in a weekly file's name, UTC: the version of every row in it."""
    found = _RELEASE.search(path.name)
    try:
        return datetime.strptime(found[1], "%Y%m%d%H%M%S").replace(tzinfo=UTC) if found else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Part:
    """One TSV to read: a weekly or monthly file, or one month of a yearly zip (`member`,
    its name there, which places its records: `ngecEventsDV-2022-Jan.txt:2`)."""

    path: Path  # the text itself, unpacked if it came packed
    names: list[str]  # its header's
    stamp: datetime | None  # its release stamp (from the unpacked copy's name), every row's version
    member: str | None = None

    def at(self, number: int) -> tuple[int | None, str | None]:
        """A record's (line, pointer): a line number, or `member:line` in a yearly zip."""
        return (None, f"{self.member}:{number}") if self.member is not None else (number, None)


def parts(path: Path, workdir: Path, encoding: str) -> list[Part]:
    """The TSVs in `path`, unpacked into `workdir` when packed: itself, the file inside a
    gzip or a one-file zip, or the months of a yearly zip in calendar order. A month that is
    not a POLECAT file fails the whole zip, naming it."""
    if archives.kind(path) != "zip":
        return [_part(archives.unpack(path, workdir), encoding)]
    members = archives.unpack_members(path, workdir)
    if len(members) == 1:  # a zipped weekly or monthly file: read as that file
        return [_part(members[0][1], encoding)]
    found = []
    for name, copy in in_calendar_order(members):
        label = name if name.isprintable() else ascii(name)
        try:
            found.append(_part(copy, encoding, label))
        except FileUnreadable as exc:
            raise FileUnreadable(f"zip member {label[:200]!r}: {exc.message}", path=path) from None
    return found


def _part(path: Path, encoding: str, member: str | None = None) -> Part:
    first = next(_lines(path, encoding), None)
    return Part(path, _header(path, first[1] if first else ""), release(path), member)


def in_calendar_order(members: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """The months of a yearly zip by the year and month in their names (`2022-Jan`,
    `2022_01`), when every name has them; else in name order."""
    months = [month_of(name) for name, _ in members]
    if any(month is None for month in months):
        return sorted(members, key=lambda member: member[0])
    return [member for _, member in sorted(zip(months, members, strict=True), key=lambda p: (p[0], p[1][0]))]


def month_of(name: str) -> tuple[int, int] | None:
    """(year, month) from a monthly file's name: `ngecEventsDV-2022-Jan.txt` is (2022, 1)."""
    for found in _YEAR_MONTH.finditer(name.rsplit("/", 1)[-1]):
        month = found[2].lower()
        number = int(month) if month.isdigit() else MONTHS.get(month, 0)
        if 1 <= number <= 12:
            return int(found[1]), number
    return None


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with open_regular(path) as probe:
        head = probe.read(4)
    if not head:
        raise FileUnreadable("file is empty (0 bytes): expected a header row", path=path)
    with io.TextIOWrapper(open_regular(path), detect_encoding(head, encoding), "surrogateescape", newline="") as text:
        yield from enumerate(text, 1)


def _header(path: Path, line: str) -> list[str]:
    """The header's names (renamed ones under their usual name, trailing empty ones dropped);
    it must name the 40 columns, and may name a few others that are not used."""
    if _UNDECODABLE.search(line):
        raise FileUnreadable(f"header is not valid text in this encoding: {ENCODING_HINT}", path=path)
    names = [name.strip() for name in line.rstrip("\r\n").split("\t")]
    while names and not names[-1]:
        names.pop()
    names = [RENAMED.get(name, name) for name in names]
    unknown = [name for name in names if name not in KNOWN]
    missing = [name for name in COLUMNS if name not in names]
    if unknown or missing:
        raise FileUnreadable(header_problem(unknown, missing, frozenset(COLUMNS)), path=path)
    if len(set(names)) != len(names):
        raise FileUnreadable("header names a column twice", path=path)
    return names


def _layout(cells: list[str], names: list[str]) -> tuple[list[str], list[str]] | str:
    """The names for a line's cells, and the cells: the header's; the header's but `Headline`
    for a line one field short; surplus trailing cells dropped when empty. Or what is wrong."""
    if len(cells) > len(names):
        if any(cell.strip() for cell in cells[len(names) :]):
            return f"{len(cells)} fields, more than the header's {len(names)}, and the surplus ones are not empty"
        cells = cells[: len(names)]
    if len(cells) == len(names):
        return names, cells
    if len(cells) == len(names) - 1 and HEADLINE in names:
        return [name for name in names if name != HEADLINE], cells
    return f"expected {len(names)} fields as in the header, found {len(cells)}"


@lru_cache(maxsize=1024)  # a file holds a few versions: one key each, shared by every row
def _version(text: str | None) -> tuple[int, ...] | None:
    found = _VERSION.fullmatch(text.strip()) if text else None
    return tuple(int(part) for part in found[1].split(".")) if found else None


def _cell(cells: list[str], names: list[str], name: str) -> str | None:
    return cells[names.index(name)].strip() or None


@dataclass
class Copies:
    """Event IDs given more than once: the newest Version of those whose copies all have one
    that orders (`1.2`, `v3`), and every repeated id. In a weekly file, copies of the newest
    Version (or that do not order) all go on, and the loader rejects all but the first as
    duplicates; in a yearly zip the first is kept here and the others skipped."""

    newest: dict[str, tuple[int, ...]]
    repeated: set[str]
    yearly: bool
    kept: set[tuple[str, datetime | None]] = field(default_factory=set)

    def skip(self, event_id: str, version: str | None, stamp: datetime | None) -> str | None:
        """Why this copy is not read (OLDER or AGAIN), or None."""
        if event_id in self.newest and _version(version) != self.newest[event_id]:
            return OLDER
        if self.yearly and event_id in self.repeated:
            # per release stamp: months with stamps of their own are sorted out by the loader, newest wins
            if (event_id, stamp) in self.kept:
                return AGAIN
            self.kept.add((event_id, stamp))
        return None


def copies(files: list[Part], encoding: str) -> Copies:
    """The first pass, over every part of the file: its repeated Event IDs (see `Copies`)."""
    newest: dict[str, tuple[int, ...] | None] = {}
    repeated: set[str] = set()
    for part in files:
        for _, line in islice(_lines(part.path, encoding), 1, None):
            found = _layout(line.rstrip("\r\n").split("\t"), part.names)
            if isinstance(found, str) or not (event_id := _cell(found[1], found[0], "Event ID")):
                continue
            version = _version(_cell(found[1], found[0], "Version"))
            if event_id in newest:
                repeated.add(event_id)
                old = newest[event_id]
                version = None if old is None or version is None else max(old, version)
            newest[event_id] = version
    ordered = {event_id: version for event_id in repeated if (version := newest[event_id]) is not None}
    return Copies(ordered, repeated, yearly=len(files) > 1)


def _record(part: Part, number: int, line: str, seen: Copies, encoding: str) -> RawRecord:
    line_no, pointer = part.at(number)
    problem = None
    if len(line) > MAX_RECORD_CHARS:
        problem = "record longer than 1,000,000 characters"
    elif "\x00" in line:
        problem = "contains a NUL byte: binary data, or a UTF-16 file without a BOM?"
    elif not line.isascii() and _UNDECODABLE.search(line):
        problem = f"bytes that are not valid {encoding}: {ENCODING_HINT}"
    found = problem or _layout(line.rstrip("\r\n").split("\t"), part.names)
    if isinstance(found, str):
        return RawRecord(line_no, pointer, line, None, found)
    header, cells = found
    fields: dict[str, Any] = {
        name: cell for name, cell in zip(header, cells, strict=True) if cell and not cell.isspace()
    }
    if skip := seen.skip(fields.get("Event ID", "").strip(), fields.get("Version"), part.stamp):
        return RawRecord(line_no, pointer, line, None, skip=skip)
    if part.stamp is not None:
        fields["(release)"] = part.stamp
    return RawRecord(line_no, pointer, line, fields)


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """Records of a POLECAT file, packed or not; a blank line is no record."""
    with tempfile.TemporaryDirectory(prefix="cyberlog-polecat-") as work:
        files = parts(path, Path(work), encoding)
        seen = copies(files, encoding)
        for part in files:
            for number, line in islice(_lines(part.path, encoding), 1, None):
                if progress:
                    progress(len(line))
                if line.strip() or "\t" in line:
                    yield _record(part, number, line, seen, encoding)
