"""DCID 2.0, the Dyadic Cyber Incident and Campaign Dataset (Maness, Valeriano et al.): one
row per state-on-state cyber incident, as the published Excel workbook or a CSV export of it.

States are coded twice: by short name (StateA/StateB) and by Correlates of War number
(`initiator`), so the attacker is the state whose COW number `initiator` gives and the
victim is the other (`data/cow_countries.csv`). Codes are kept raw in the description:
`method` 4.2 is an intrusion (a virus), severity 5 is `high`. Rows with `method` 0 are the
dataset's blank campaign lines: skipped and counted. Of the workbook, the update sheet
(Feb 2023) is read, else the 2020 sheet; its zip is bounded like any archive before openpyxl
opens it, and whatever openpyxl cannot read fails the file, never a traceback.
"""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from ingest.canon import countries
from ingest.canon.records import Actor, AttackType, Incident, RecordError, Sector, Severity, Skip, Target
from ingest.canon.times import TimeValue, parse_time
from ingest.errors import FileUnreadable
from ingest.formats.base import Format, HeaderSniff, OptText, Text
from ingest.inputs import archives
from ingest.inputs.guard import open_regular
from ingest.inputs.readers import RawRecord, csv_header, header_problem, read_csv

METHODS = {"1": "vandalism", "2": "denial of service", "3": "network intrusion", "4": "network infiltration"}
INFILTRATION = {"4.1": "logic bomb", "4.2": "virus", "4.3": "worm", "4.4": "keystroke logging"}
ATTACKS: dict[str, AttackType] = {"1": "defacement", "2": "ddos", "3": "intrusion", "4": "intrusion"}
TARGET_TYPES: dict[int, Sector | None] = {1: None, 2: "government", 3: "military"}  # 1: private or non-state
SEVERITIES: tuple[Severity, ...] = ("low",) * 3 + ("medium",) * 2 + ("high",) * 2 + ("critical",) * 4  # 0..10
_DATEVALUE = re.compile(r'=DATEVALUE\("([^"]*)"\)')  # a date the sheet holds as formula text
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DECIMAL = re.compile(r"[+-]?\d{1,15}(?:\.\d{1,15})?", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?")


def _day(value: Any) -> TimeValue:
    """An Excel date (read as YYYY-MM-DD), M/D/YYYY, or the sheet's =DATEVALUE("M/D/YYYY") text."""
    text = str(value).strip()
    formula = _DATEVALUE.fullmatch(text)
    us, iso = _US_DATE.fullmatch(formula[1] if formula else text), _ISO_DATE.fullmatch(text)
    try:
        day = date(int(us[3]), int(us[1]), int(us[2])) if us else date(*map(int, iso.groups())) if iso else None
    except ValueError:
        day = None
    if day is None:
        raise PydanticCustomError(
            "date",
            "'{value}' is not a date: expected an Excel date, M/D/YYYY or =DATEVALUE(\"M/D/YYYY\")",
            {"value": text},
        )
    return parse_time(day.isoformat(), None, "day")  # a day with no zone: that UTC day


def _number(value: Any) -> Decimal:
    """A code as written: a plain decimal (no exponent, so no arithmetic can overflow)."""
    text = str(value).strip()
    if not _DECIMAL.fullmatch(text):
        raise PydanticCustomError("number", "'{value}' is not a number", {"value": value})
    return Decimal(text)


def _code(low: int, high: int, what: str) -> PlainValidator:
    """A whole-number code from `low` to `high` (Excel may give 2 as 2.0)."""

    def check(value: Any) -> int:
        number = _number(value)
        if number != number.to_integral_value() or not low <= number <= high:
            raise PydanticCustomError(
                "code",
                "'{value}' is not {what}: a whole number {low} to {high}",
                {"value": value, "what": what, "low": low, "high": high},
            )
        return int(number)

    return PlainValidator(check)


def _method(value: Any) -> str:
    """The method code as DCID writes it: 0 (a blank line), 1, 2, 3 or 3.x, 4 or 4.x."""
    number = _number(value)
    number = abs(number) if number == 0 else number  # -0 is 0
    whole = int(number)
    if number < 0 or whole not in (0, 1, 2, 3, 4) or (whole < 3 and number != whole):
        raise PydanticCustomError(
            "method",
            "'{value}' is not a DCID method code: 1, 2, 3, 3.x, 4 or 4.x (0 marks a blank line)",
            {"value": value},
        )
    return format(number.normalize(), "f")


class DcidIncident(BaseModel):
    """A row of a DCID incident sheet: the columns cyberlog uses, as DCID names them."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    sheet: Text  # not a column: the sheet the row is from (the reader adds it)
    Cyberincidentnum: Text
    Dyadpair: OptText = None
    StateA: Text
    StateB: Text
    Name: OptText = None
    interactionstartdate: Annotated[TimeValue, PlainValidator(_day)]
    interactionenddate: Annotated[TimeValue | None, PlainValidator(_day)] = None
    method: Annotated[str, PlainValidator(_method)]
    targettype: Annotated[int | None, _code(1, 3, "a DCID target type")] = None
    initiator: Annotated[int, _code(1, 999, "a COW state number")]
    cyber_objective: OptText = None
    severity: Annotated[int | None, _code(0, 10, "a DCID severity")] = None
    crit_inf: OptText = Field(None, alias="Crit Inf")
    Sources1: OptText = None
    Sources2: OptText = None
    Sources3: OptText = None
    Sources4: OptText = None
    Sources5: OptText = None


@dataclass(frozen=True)
class State:
    raw: str  # as DCID writes it
    cow: int | None
    alpha3: str | None
    name: str  # COW's English name when known, else as written


@cache
def _cow_table() -> tuple[dict[int, tuple[str, str]], dict[str, int]]:
    """COW number -> (alpha-3, name); every name and DCID short name (casefolded) -> COW number."""
    text = resources.files("ingest").joinpath("data/cow_countries.csv").read_text("utf-8")
    by_code, by_name = {}, {}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        code = int(row["cow"])
        by_code[code] = (row["alpha3"], row["name"])
        for name in (row["name"], row["alpha3"], *row["dcid_names"].split(";")):
            if name:
                by_name[name.casefold()] = code
    return by_code, by_name


def cow_state(code: int) -> tuple[str, str] | None:
    """(alpha-3, name) of a COW state number; None for a number the table does not hold."""
    return _cow_table()[0].get(code)


def state(raw: str) -> State:
    """A state as DCID names it: by the COW table's names, else by its ISO name."""
    by_code, by_name = _cow_table()
    code = by_name.get(" ".join(raw.split()).casefold())
    if code is None and (alpha3 := countries.lookup(raw)):
        code = next((cow for cow, (known, _) in by_code.items() if known == alpha3), None)
        return State(raw, code, alpha3, by_code[code][1] if code else raw)
    return State(raw, code, *by_code[code]) if code else State(raw, None, None, raw)


def sides(row: DcidIncident) -> tuple[State, State]:
    """(initiator, victim): the state `initiator` numbers, and the other one. A state the
    table does not know is told by elimination; when neither name matches, the row is
    rejected rather than guessed."""
    a, b = state(row.StateA), state(row.StateB)
    if row.initiator in (a.cow, b.cow) and a.cow != b.cow:
        return (a, b) if a.cow == row.initiator else (b, a)
    if (a.cow is None) != (b.cow is None):
        return (a, b) if a.cow is None else (b, a)
    raise RecordError(
        "initiator", f"{row.initiator} is the COW number of neither {_named('StateA', a)} nor {_named('StateB', b)}"
    )


def _named(side: str, found: State) -> str:
    return f"{side} {found.raw!r} " + (f"(COW {found.cow})" if found.cow else "(not in the COW table)")


def severity(code: int | None) -> Severity | None:
    """DCID's 0-10 scale: 0-2 low (harassment, propaganda, DDoS), 3-4 medium, 5-6 high
    (destructive), 7-10 critical (critical infrastructure, loss of life)."""
    return None if code is None else SEVERITIES[code]


def describe(row: DcidIncident) -> str:
    """The row's codes as DCID writes them, for the record's description."""
    whole = row.method.split(".")[0]
    label = INFILTRATION.get(row.method, METHODS[whole])
    codes = {
        "method": f"{row.method} ({label})",
        "targettype": row.targettype,
        "severity": row.severity,
        "cyber_objective": row.cyber_objective,
        "initiator": f"COW {row.initiator}",
        "Dyadpair": row.Dyadpair,
        "Crit Inf": row.crit_inf,
    }
    return "DCID codes: " + "; ".join(f"{name} {value}" for name, value in codes.items() if value is not None)


def convert(row: DcidIncident) -> Incident:
    if row.method == "0":  # the reader skips these already; a model built elsewhere may not
        raise Skip(BLANK_CAMPAIGN)
    started, ended = row.interactionstartdate, row.interactionenddate
    if ended is not None and ended.at < started.at:
        raise RecordError("interactionenddate", f"{ended.at.date()} is before interactionstartdate {started.at.date()}")
    attacker, victim = sides(row)
    known = cow_state(row.initiator)
    sector = TARGET_TYPES[row.targettype] if row.targettype else None
    links = (row.Sources1, row.Sources2, row.Sources3, row.Sources4, row.Sources5)
    actor = f"{known[1] if known else attacker.name} (state)"
    return Incident(
        source_ref=f"dcid:{row.sheet}:{row.Cyberincidentnum}",
        title=row.Name or f"{actor} against {victim.name} (DCID {row.Cyberincidentnum})",
        description=describe(row),
        attack_types=(ATTACKS[row.method.split(".")[0]],),
        started=started,
        ended=ended,
        evidence="reported",
        severity=severity(row.severity),
        url=next((link for link in links if link and link.startswith(("http://", "https://"))), None),
        targets=(Target.of(None, None, victim.alpha3, victim.raw, (sector,) if sector else ()),),
        actors=(Actor(actor, "attributed", None, None, known[0] if known else None, attacker.raw, "state"),),
    )


# Reading -------------------------------------------------------------------------------

BLANK_CAMPAIGN = "blank campaign line (method 0)"
# the sheets by name, as Excel cut them at 31 characters, and the prefixes they are found by
UPDATE_SHEET, SHEET_2020 = "DCID_2.0_Release_update_Februar", "DCID_2.0_Release_public_June_20"
SHEET_PREFIXES = ("DCID_2.0_Release_update", "DCID_2.0_Release_public")
COLUMNS = (  # the incident sheet's header, stripped ("Concession " has a trailing space); "" is unnamed
    *("Cyberincidentnum", "Dyadpair", "StateA", "StateB", "Name", "interactionstartdate", "interactionenddate"),
    *("method", "targettype", "initiator", "cyber_objective", "information_operation", "objective_achievement"),
    *("Concession", "3rdpartyinitiator", "severity", "damage type", "Crit Inf", "Supply Ch", "Ransomware"),
    *("Political Objective", "Sources1", "Sources2", "Sources3", "Sources4", "Sources5", "Justice", "Cert", "FBI"),
    "",
)
ICEWS_COLUMNS = (  # the update sheet's ICEWS-derived counts in a month either side: read, never stored
    *("Ddeny/reject-", "Dthreat/demand-", "Dnegotiate+", "Dagreement+", "Diplo_Negative", "Diplo_Positive"),
    *("Ereduce-", "Ethreat-", "Eemb/sanc-", "Econ_Negative", "Ecoop+", "Eease+", "Eaid+", "Econ_Positive"),
    *("Mthreat-", "Mdisplay-", "Musage-", "Mil_Negative", "Mpromise+", "Mcoop+", "Mconfid+", "Mil_Positive"),
    *("Conv_descalation", "Conv_escalation", "Cyber_escalation"),
)
REQUIRED = frozenset(
    ("Cyberincidentnum", "StateA", "StateB", "interactionstartdate", "interactionenddate", "method", "initiator")
)
MAX_ROWS, MAX_COLUMNS = 100_000, 200  # the update sheet has 863 rows of 42 columns
HEAD_BYTES = 64 * 1024  # enough for the CSV header
# What openpyxl raises on a damaged workbook: its parts are zip members, XML and numbers it
# converts, and it documents no narrower set. Caught only around openpyxl's own calls.
_BROKEN = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, IndexError, ValueError, TypeError,
    AttributeError, SyntaxError, NotImplementedError, OverflowError, RuntimeError,
)  # fmt: skip


def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """Rows of the workbook (by its zip magic) or of the CSV export, blank campaign lines marked."""
    with open_regular(path) as probe:
        head = probe.read(HEAD_BYTES)
    rows = _workbook(path) if head.startswith(b"PK\x03\x04") else _csv(path, head, encoding, progress)
    for record in rows:
        blank = record.fields is not None and _is_zero(record.fields.get("method"))
        yield replace(record, skip=BLANK_CAMPAIGN) if blank else record


def _is_zero(value: Any) -> bool:
    text = str(value).strip()
    return bool(_DECIMAL.fullmatch(text)) and Decimal(text) == 0


def _csv(path: Path, head: bytes, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
    """A CSV export of one sheet: the update sheet's when it has the ICEWS columns."""
    sheet = UPDATE_SHEET if set(ICEWS_COLUMNS) & set(csv_header(head) or ()) else SHEET_2020
    columns = frozenset(COLUMNS + ICEWS_COLUMNS)
    for record in read_csv(path, encoding=encoding, columns=columns, required=REQUIRED, progress=progress):
        yield replace(record, fields={**record.fields, "sheet": sheet}) if record.fields is not None else record


def _workbook(path: Path) -> Iterator[RawRecord]:
    """The rows of the update sheet, else the 2020 sheet, each by its sheet row number."""
    with open_regular(path) as stream:
        _bounded(stream, path)
        book = _opened(lambda: _load(stream), path)
        try:
            sheet = _sheet(book, path)
            rows = _guarded(
                sheet.iter_rows(min_row=1, max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True), path
            )
            header = _header(next(rows, ()), sheet.title, path)
            for number, values in enumerate(rows, start=2):
                cells = {
                    name: text
                    for name, value in zip(header, values, strict=False)  # both MAX_COLUMNS wide
                    if name and (text := cell_text(value))
                }
                if number > MAX_ROWS and cells:
                    raise FileUnreadable(f"sheet {sheet.title!r} has more than {MAX_ROWS:,} rows", path=path)
                if cells:  # an empty row is not a record
                    yield RawRecord(number, None, "", {**cells, "sheet": sheet.title})
        finally:
            book.close()


def _bounded(stream: BinaryIO, path: Path) -> None:
    """Refuse a workbook whose parts declare more than the house's limit unpacked, before
    openpyxl reads one (zipfile stops reading a part at its declared size)."""
    limit = archives.limit_for(path)
    with _opened(lambda: zipfile.ZipFile(stream), path) as archive:
        total = sum(info.file_size for info in archive.infolist())
    if total > limit:
        raise FileUnreadable(archives.bomb(limit), path=path)
    stream.seek(0)


def _load(stream: BinaryIO) -> Any:
    import openpyxl  # only for a workbook: every other run is spared its import (0.15 s)
    from openpyxl.utils.exceptions import InvalidFileException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns of the styles and extensions it drops
        try:
            return openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except InvalidFileException as exc:
            raise ValueError(str(exc)) from exc


def _opened(load: Callable[[], Any], path: Path) -> Any:
    try:
        return load()
    except _BROKEN as exc:
        raise _unreadable(exc, path) from None


def _guarded(rows: Iterator[tuple[Any, ...]], path: Path) -> Iterator[tuple[Any, ...]]:
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except _BROKEN as exc:
            raise _unreadable(exc, path) from None
        yield row


def _unreadable(exc: BaseException, path: Path) -> FileUnreadable:
    why = str(exc)[:200] or type(exc).__name__
    return FileUnreadable(f"not a readable xlsx workbook: {why}", path=path)


def _sheet(book: Any, path: Path) -> Any:
    for prefix in SHEET_PREFIXES:
        if found := next((name for name in book.sheetnames if name.startswith(prefix)), None):
            return book[found]
    raise FileUnreadable(
        f"no DCID incident sheet: expected one named {SHEET_PREFIXES[0]}_... or {SHEET_PREFIXES[1]}_...; "
        f"the workbook's sheets are {', '.join(map(repr, book.sheetnames[:10])) or 'none'}",
        path=path,
    )


def _header(values: tuple[Any, ...], title: str, path: Path) -> list[str]:
    """The sheet's first row, names stripped; an unnamed column is "" and not read."""
    header = [cell_text(value) or "" for value in values]
    named = [name for name in header if name]
    missing = sorted(REQUIRED - set(named))
    if missing:
        problem = header_problem([], missing, frozenset(COLUMNS) - {""})
        raise FileUnreadable(f"sheet {title!r}, row 1: {problem}", path=path)
    if len(set(named)) != len(named):
        raise FileUnreadable(f"sheet {title!r}, row 1: the header names a column twice", path=path)
    return header


def cell_text(value: Any) -> str | None:
    """A cell as the CSV export would give it: a date as YYYY-MM-DD, 2.0 as 2, 3.1 as 3.1."""
    if isinstance(value, datetime) and value.time() == time():
        value = value.date()
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, ".10g")
    text = str(value).strip() if value is not None else ""
    return text or None


class DcidSniff(HeaderSniff):
    """The workbook by its first bytes (an .xlsx: a zip holding xl/ parts), the CSV export by its header."""

    def __call__(self, head: bytes) -> bool:
        return (head.startswith(b"PK\x03\x04") and b"xl/" in head) or super().__call__(head)


FORMAT = Format(
    "dcid",
    "incident",
    "DCID 2.0 Dyadic Cyber Incident and Campaign Dataset (xlsx workbook, or a CSV export of its sheet)",
    "dcid",
    DcidIncident,
    convert,
    read,
    DcidSniff(frozenset(COLUMNS + ICEWS_COLUMNS), REQUIRED),
)
