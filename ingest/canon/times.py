"""Time values with their precision.

Sources give anything from a year to a fraction of a second, with or without a zone.
A `TimeValue` keeps the earliest instant (UTC) and the precision, so reports can tell
"certainly inside a window" from "possibly inside it" instead of pretending a date is
midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from pydantic_core import PydanticCustomError

Precision = Literal["second", "minute", "hour", "day", "month", "year"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)  # finest first

ISO = re.compile(  # ASCII digits only: `\d` would take fullwidth and Arabic-Indic digits too
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?)?)?)?",
    re.ASCII,
)
# the last instant a datetime can hold: an interval ending after it ends there
END_OF_CALENDAR = datetime.max.replace(tzinfo=UTC)


def _invalid(kind: str, message: str, context: dict[str, Any]) -> PydanticCustomError:
    """A time that cannot be read, as pydantic reports it (its type, message and values).
    pydantic_core is imported here, at the first bad time: a run that skips every file and a
    report that reads `zone` never load it."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError(kind, message, context)


_HINT = "use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] with Z or an offset like +02:00"


@dataclass(frozen=True, slots=True)
class TimeValue:
    """An instant known to `precision`: it lies in [at, latest)."""

    at: datetime
    latest: datetime
    precision: Precision


def zone(name: str) -> ZoneInfo:
    """An IANA zone by name, or ValueError naming the problem."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Kyiv") from exc


def _offset(text: str) -> tzinfo:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise _invalid("time_offset", "'{value}' has an invalid UTC offset", {"value": text})
    from datetime import timezone

    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _step(local: datetime, precision: Precision) -> datetime:
    """The start of the next precision unit after `local` (wall-clock arithmetic), in UTC;
    the end of the calendar when that is past year 9999."""
    try:
        return _next_unit(local, precision).astimezone(UTC)
    except (OverflowError, ValueError):
        return END_OF_CALENDAR


def _next_unit(local: datetime, precision: Precision) -> datetime:
    if precision == "year":
        return local.replace(year=local.year + 1)
    if precision == "month":
        return local.replace(year=local.year + local.month // 12, month=local.month % 12 + 1)
    units = {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1)}
    return local + units.get(precision, timedelta(seconds=1))


def _truncate(local: datetime, precision: Precision) -> datetime:
    coarser = PRECISIONS.index(precision)  # how many units below the precision are cleared
    return local.replace(
        microsecond=0,
        second=0 if coarser >= 1 else local.second,
        minute=0 if coarser >= 2 else local.minute,
        hour=0 if coarser >= 3 else local.hour,
        day=1 if coarser >= 4 else local.day,
        month=1 if coarser >= 5 else local.month,
    )


@lru_cache(maxsize=1 << 16)  # sources repeat the same days and hours over and over
def parse_time(text: str, source_zone: tzinfo | None = None, precision: str | None = None) -> TimeValue:
    """Parse an ISO 8601 value; a time without an offset needs `source_zone`.

    A date without a time means that whole day (month, year likewise) in `source_zone`,
    or in UTC when the source declares none. `precision` may coarsen what the text
    gives (an analyst's "about 17:00" is hour precision), never refine it.
    """
    match = ISO.fullmatch(text.strip())
    if not match:
        raise _invalid("time_format", "'{value}' is not an ISO 8601 time: " + _HINT, {"value": text})
    g = match.groupdict()
    written: Precision = "year"
    for key, name in (("mo", "month"), ("d", "day"), ("h", "hour"), ("mi", "minute"), ("s", "second")):
        if g[key] is not None:
            written = name  # type: ignore[assignment]
    if g["h"] is not None and g["tz"] is None and source_zone is None:
        raise _invalid(
            "naive_time",
            "'{value}' has a time but no UTC offset: write it with Z or an offset such as "
            "+02:00, or declare the source's time zone (timezone in cyberlog.toml, or --timezone)",
            {"value": text},
        )
    tz = _offset(g["tz"]) if g["tz"] else (source_zone or UTC)
    try:
        local = datetime(
            int(g["y"]),
            int(g["mo"] or 1),
            int(g["d"] or 1),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            int((g["f"] or "0").ljust(6, "0")[:6]),
            tzinfo=tz,
        )
    except ValueError as exc:
        raise _invalid("time_value", "'{value}' is not a valid time: {why}", {"value": text, "why": str(exc)}) from exc
    chosen: Precision = written
    if precision:
        if precision not in PRECISIONS:
            raise _invalid(
                "precision", "'{value}' is not a precision: use one of " + ", ".join(PRECISIONS), {"value": precision}
            )
        if PRECISIONS.index(precision) < PRECISIONS.index(written):
            raise _invalid(
                "precision_finer",
                "time_precision '{precision}' is finer than '{value}' gives ({written})",
                {"precision": precision, "value": text, "written": written},
            )
        chosen = precision
    start = _truncate(local, chosen)
    try:
        at = start.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise _invalid(
            "time_range", "'{value}' is outside the years 0001 to 9999 once in UTC", {"value": text}
        ) from None
    return TimeValue(at, _step(start, chosen), chosen)


def bounded(value: TimeValue, written: datetime | None) -> tuple[TimeValue, str | None]:
    """`value` ended early by when its source wrote it down: what a record reports had
    happened by the time the record was written. With a note for the record's time basis:
    the bound used, or why not (a record written before the time it gives: the two
    disagree, and the interval stays as the source gives it)."""
    if written is None or written >= value.latest:
        return value, None
    stamp = written.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if written <= value.at:
        return value, f"written {stamp}, before the time it gives: not bounded by it"
    return TimeValue(value.at, written, value.precision), f"no later than its writing, {stamp}"
