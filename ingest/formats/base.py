"""What an input format is, and the field types the curated formats share.

A `Format` is data: the source's own pydantic model and a pure conversion to canonical
records, or the SQL file that checks and converts it inside DuckDB; how to read and
recognise the files. The loader does everything else: no format touches the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ingest.canon.countries import alpha3
from ingest.canon.filters import EventFilter
from ingest.canon.records import ClaimedTarget, DiplomaticEvent, Incident
from ingest.canon.times import TimeValue, parse_time
from ingest.inputs.readers import RawRecord, csv_header, header_problem, read_csv

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["incident", "event", "alert", "claim"]
Reader = Callable[[Path, str, Callable[[int], None] | None], Iterator[RawRecord]]


@dataclass(frozen=True)
class SqlStage:
    """A format checked and converted inside DuckDB by a SQL file under sql/, for files too
    big for Python (a day of GDELT is a few hundred thousand rows). Staging
    (ingest/load/staging.py) runs the file's `stage` part on the lines at $path
    ($compression), with `params` bound and `tables` registered under their names: it leaves
    every line checked in stage_lines, the records to merge in stage_main and the bad ones
    in stage_rejects; then `done`, and `read` (lines read) and `skipped` (reason, lines)."""

    file: str  # under sql/
    params: Callable[[EventFilter], Mapping[str, object]]  # the source's filter as $parameters
    tables: Callable[[], Mapping[str, pa.Table]]  # the lookups the SQL joins, by the names it uses


@dataclass(frozen=True)
class SqlStream:
    """A log of millions of lines (security telemetry), read and merged a chunk of lines at
    a time inside the file's transaction, so it needs a chunk's memory whatever its size.
    Its SQL file under sql/ makes the table macro that parses a chunk's lines; the checks,
    rejects and stage around it are every log's (sql/telemetry.sql, run by staging)."""

    file: str  # under sql/
    labels: Mapping[str, str]  # the checked fields as the format names them (src_ip -> src for CEF)
    digest_refs: bool  # a line may lack an id of the format's own: it is known by its digest and occurrence


@dataclass(frozen=True)
class Format:
    name: str
    kind: Kind
    description: str
    default_source: str
    model: type[BaseModel] | None  # None for a format staged inside DuckDB
    convert: Callable[[Any], Incident | DiplomaticEvent | ClaimedTarget] | None
    read: Reader
    sniff: Callable[[bytes], bool]
    tabular: bool = False  # a CSV whose columns are the model's fields (docs/formats documents each)
    batch: int = 10_000  # records validated and staged at a time; big nested records want fewer
    stage: SqlStage | SqlStream | None = None  # validated and converted inside DuckDB instead of in Python
    filterable: bool = False  # takes a `filter` in cyberlog.toml
    # the converter returns records of either kind, incident or event (coded event data that
    # code cyber attacks too: POLECAT's COERCE:cyber, VIINA's t_cyber); `kind` is the usual one
    mixed: bool = False
    # the reader unpacks its own input (with the same limits): it needs the file's own name and
    # folder (VIINA reads the event_info file beside its event_labels file)
    reads_archives: bool = False
    # a claimed target list's time, from its file's name: the list itself states none (DDoSia)
    snapshot: Callable[[Path], datetime] | None = None
    # an SQL file under sql/ that checks and converts the rows inside DuckDB (a tabular format):
    # the model and converter see only the rows it cannot vouch for (ingest/load/checked.py)
    checked: str | None = None

    @cached_property  # kept in the instance's __dict__, which a frozen dataclass still has
    def adapter(self) -> TypeAdapter[list[Any]]:
        """One adapter per format, built when first needed (a run that loads nothing new is
        spared building twenty). A batch is validated in a single call; each record that
        fails comes back as its ValidationError in place of a model, so one bad record
        neither fails the batch nor makes the good ones validate twice."""
        assert self.model is not None, f"{self.name} is staged inside DuckDB"
        item = Annotated[self.model, WrapValidator(_keep_error)]  # type: ignore[name-defined]
        return TypeAdapter(list[item])

    @property
    def streams(self) -> bool:
        """Merged batch by batch inside the file's transaction as it is read."""
        return isinstance(self.stage, SqlStream)


def _keep_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        return exc.with_traceback(None)  # no frame kept alive, no reference cycle


def csv_layout(
    model: type[BaseModel], delimiter: str = ",", ignored: frozenset[str] = frozenset(), quoted: bool = True
) -> tuple[Reader, Callable[[bytes], bool]]:
    """Reader and sniffer for a CSV whose header names the model's fields.

    `ignored` names columns the source has and cyberlog does not use (a tracker's 81
    columns): they are allowed in the header, and their cells are not validated.
    `quoted=False` reads a file that quotes nothing, where `"` is just a character.
    """
    names = {name: info.alias or name for name, info in model.model_fields.items()}  # a header may need aliases
    columns = frozenset(names.values()) | ignored
    required = frozenset(names[name] for name, info in model.model_fields.items() if info.is_required())

    def read(path: Path, encoding: str, progress: Callable[[int], None] | None) -> Iterator[RawRecord]:
        return read_csv(
            path,
            encoding=encoding,
            columns=columns,
            required=required,
            delimiter=delimiter,
            progress=progress,
            quoted=quoted,
        )

    return read, HeaderSniff(columns, required, delimiter)


@dataclass(frozen=True)
class HeaderSniff:
    """A CSV format's sniffer: the file's header names its required columns and no others.
    When no format takes a file, `near` says how close its header comes to this one's."""

    columns: frozenset[str]
    required: frozenset[str]
    delimiter: str = ","

    def __call__(self, head: bytes) -> bool:
        header = csv_header(head, self.delimiter)
        return bool(header) and self.required <= set(header or ()) <= self.columns

    def near(self, head: bytes) -> tuple[int, str] | None:
        """How many of the header's names are this format's columns (two at least), and
        what is wrong with the rest: the names it does not know, the columns it lacks."""
        header = csv_header(head, self.delimiter) or []
        known = len(set(header) & self.columns)
        if known < 2:
            return None
        unknown = [name for name in header if name not in self.columns]
        missing = sorted(self.required - set(header))
        return known, header_problem(unknown, missing, self.columns, expected=False)


# Field types for text sources. Blank cells are absent values, not empty strings.


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _split(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, str):
        if ";" not in value:  # the common case: one item
            value = value.strip()
            return (value,) if value else ()
        return tuple([item.strip() or None for item in value.split(";")])
    return value


def _time(value: Any, info: ValidationInfo) -> TimeValue:
    context = info.context or {}
    precision = info.data.get("time_precision") if info.field_name in ("started_at", "occurred_at") else None
    return parse_time(str(value), context.get("zone"), precision)


_HOST = re.compile(r"[^/:@\s]+\.[^/:@\s]+")
_URL = re.compile(r"(?i)https?://\S+\Z")


def _domain(value: str) -> str:
    host = domain_name(value)
    if host is None:
        raise PydanticCustomError(
            "domain", "'{value}' is not a domain name: give the host only, e.g. mil.gov.ua", {"value": value}
        )
    return host


def domain_name(value: str) -> str | None:
    """A host name as stored (lower case, no trailing dot), or None when it is not one."""
    host = value.strip().lower().rstrip(".")
    return host if _HOST.fullmatch(host) else None


def _url(value: str) -> str:
    if not _URL.match(value):
        raise PydanticCustomError("url", "'{value}' is not an http(s) URL", {"value": value})
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
OptText = Annotated[str | None, BeforeValidator(_blank_to_none)]
Time = Annotated[TimeValue, PlainValidator(_time)]
OptTime = Annotated[TimeValue | None, PlainValidator(lambda v, i: None if _blank_to_none(v) is None else _time(v, i))]
Country = Annotated[str, AfterValidator(alpha3)]
Domain = Annotated[str, AfterValidator(_domain)]
Url = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(lambda v: v and _url(v))]
Latitude = Annotated[float | None, BeforeValidator(_blank_to_none), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float | None, BeforeValidator(_blank_to_none), Field(ge=-180, le=180, allow_inf_nan=False)]


def absent_as(marker: str) -> Any:
    """A model's before-validator: a cell holding only `marker` (ICEWS's `NA`, POLECAT's
    `None`) is an absent value, like a blank one."""

    def drop(cls: type[BaseModel], data: Any) -> Any:
        if isinstance(data, dict):
            return {name: cell for name, cell in data.items() if not (isinstance(cell, str) and cell.strip() == marker)}
        return data

    return model_validator(mode="before")(classmethod(drop))  # type: ignore[arg-type]


def items(item_type: Any) -> Any:
    """A `;`-separated cell as a tuple; a blank item is None (e.g. a target with no domain)."""
    return Annotated[tuple[item_type | None, ...], BeforeValidator(_split)]
