from datetime import UTC, datetime

import pytest
from pydantic_core import PydanticCustomError

from ingest.canon.times import parse_time, zone


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "tz", "precision", "at", "latest", "expected_precision"),
    [
        ("2022", None, None, utc(2022, 1, 1), utc(2023, 1, 1), "year"),
        ("2022-02", None, None, utc(2022, 2, 1), utc(2022, 3, 1), "month"),
        ("2022-12", None, None, utc(2022, 12, 1), utc(2023, 1, 1), "month"),
        ("2022-02-15", None, None, utc(2022, 2, 15), utc(2022, 2, 16), "day"),
        ("2022-02-15T17Z", None, None, utc(2022, 2, 15, 17), utc(2022, 2, 15, 18), "hour"),
        ("2022-02-15T19:00+02:00", None, None, utc(2022, 2, 15, 17), utc(2022, 2, 15, 17, 1), "minute"),
        ("2022-02-15T19:00:30+0200", None, None, utc(2022, 2, 15, 17, 0, 30), utc(2022, 2, 15, 17, 0, 31), "second"),
        ("2022-02-15 17:00:05.25Z", None, None, utc(2022, 2, 15, 17, 0, 5), utc(2022, 2, 15, 17, 0, 6), "second"),
        ("2022-02-15T17:40Z", None, "hour", utc(2022, 2, 15, 17), utc(2022, 2, 15, 18), "hour"),
        # a declared zone places naive times and whole days in it, across DST too
        ("2022-02-15 19:00", "Europe/Kyiv", None, utc(2022, 2, 15, 17), utc(2022, 2, 15, 17, 1), "minute"),
        ("2022-02-15", "Europe/Kyiv", None, utc(2022, 2, 14, 22), utc(2022, 2, 15, 22), "day"),
        ("2022-03-27", "Europe/Kyiv", None, utc(2022, 3, 26, 22), utc(2022, 3, 27, 21), "day"),
        # an explicit offset beats the declared zone
        ("2022-02-15T17:00Z", "Europe/Kyiv", None, utc(2022, 2, 15, 17), utc(2022, 2, 15, 17, 1), "minute"),
        ("2022-02-15T19:00+02:00", None, "day", utc(2022, 2, 14, 22), utc(2022, 2, 15, 22), "day"),
    ],
)
def test_parse_time(text, tz, precision, at, latest, expected_precision):
    value = parse_time(text, zone(tz) if tz else None, precision)
    assert (value.at, value.latest, value.precision) == (at, latest, expected_precision)


@pytest.mark.parametrize(
    ("text", "precision", "message"),
    [
        (
            "2022-02-15 17:00",
            None,
            "'2022-02-15 17:00' has a time but no UTC offset: write it with Z or an offset such as "
            "+02:00, or declare the source's time zone (timezone in cyberlog.toml, or --timezone)",
        ),
        (
            "15/02/2022",
            None,
            "'15/02/2022' is not an ISO 8601 time: use YYYY, YYYY-MM, YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM[:SS] with Z or an offset like +02:00",
        ),
        ("2022-02-30", None, "'2022-02-30' is not a valid time: day is out of range for month"),
        ("2022-02-15T17:00+25:00", None, "'+25:00' has an invalid UTC offset"),
        ("2022-02-15", "hour", "time_precision 'hour' is finer than '2022-02-15' gives (day)"),
        (
            "2022-02-15",
            "fortnight",
            "'fortnight' is not a precision: use one of second, minute, hour, day, month, year",
        ),
    ],
)
def test_parse_time_errors(text, precision, message):
    with pytest.raises(PydanticCustomError) as caught:
        parse_time(text, None, precision)
    assert caught.value.message() == message


def test_unknown_zone_names_the_fix():
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Kiev2': use an IANA name such as Europe/Kyiv"):
        zone("Europe/Kiev2")
