"""The store's macros that take a fast path (sql/schema.sql) give what their plain definition
gives, on a real store: report_page without regular expressions for plain http(s) URLs, and
day_number, hour_number and middle_day in whole microseconds instead of intervals and time
zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.store import open_store

# report_page as it was first written: three regular expressions, whatever the URL
PLAIN_PAGE = r"""
    regexp_replace(regexp_replace(regexp_replace(lower(u), '#.*$', ''),
        '[?&](utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid)=[^&]*', '', 'g'),
        '^[a-z][a-z0-9+.-]*://(www\.)?|[/?&]+$', '', 'g')
"""

PIECES = [
    "http://", "https://", "HTTPS://", "Http://www.", "https://WWW.", "ftp://", "hxxp://", "www.", "://",
    "news.example.org", "wwwx.com", "Ünïcode.ua", "/", "//", "/2022/02/15/ddos", "?", "&", "#", "#top",
    "?utm_source=x", "&fbclid=1", "?id=7", "=", ".", " ", "\n", "ß", "İ",
]  # fmt: skip


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    with open_store(tmp_path_factory.mktemp("macros") / "store.duckdb", write=True) as con:
        yield con


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), min_size=1, max_size=40))
def test_report_page_is_the_plain_definition(con, urls):
    rows = con.execute(f"SELECT u, report_page(u), {PLAIN_PAGE} FROM unnest($urls) t(u)", {"urls": urls}).fetchall()
    assert [(u, fast) for u, fast, _ in rows] == [(u, plain) for u, _, plain in rows]


def test_report_page_takes_the_fast_path_for_plain_urls(con):
    # the cases the fast path answers alone, and one it leaves to the expressions
    got = con.execute(
        "SELECT report_page(u) FROM unnest(['https://www.Example.org/a/', 'http://x.org//', "
        "'HTTPS://WWW.', 'https://x.org/?utm_source=t', 'hxxp://x.org/']) t(u)"
    ).fetchall()
    assert [g for (g,) in got] == ["example.org/a", "x.org", "", "x.org", "x.org"]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
microseconds = st.integers(min_value=-(10**17) // 40, max_value=10**17 // 25)  # 1891 to 2096


def as_instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(microseconds, st.integers(0, 10**12)), min_size=1, max_size=40))
def test_middle_day_is_the_utc_day_of_the_exact_middle(con, spans):
    pairs = [(a, a + width) for a, width in spans]
    rows = con.execute(
        "SELECT middle_day(a, b) FROM (SELECT unnest($a) AS a, unnest($b) AS b)",
        {"a": [as_instant(a) for a, _ in pairs], "b": [as_instant(b) for _, b in pairs]},
    ).fetchall()
    # the middle, (a + b) / 2 microseconds, floored to its day: half a microsecond before
    # midnight is the day before
    assert [day for (day,) in rows] == [(EPOCH + timedelta(days=(a + b) // (2 * DAY_US))).date() for a, b in pairs]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(microseconds, st.integers(0, 10**7)), min_size=1, max_size=40))
def test_middle_day_is_the_day_intervals_give_for_whole_seconds(con, spans):
    # the definition it replaced, CAST(a + (b - a) / 2 AS DATE): the same day wherever the
    # middle is a whole microsecond (it rounds a half to even)
    pairs = [(a // 10**6 * 10**6, (a // 10**6 + width) * 10**6) for a, width in spans]
    rows = con.execute(
        """SELECT middle_day(a, b), CAST(timezone('UTC', a + (b - a) / 2) AS DATE)
           FROM (SELECT unnest($a) AS a, unnest($b) AS b)""",
        {"a": [as_instant(a) for a, _ in pairs], "b": [as_instant(b) for _, b in pairs]},
    ).fetchall()
    assert [fast for fast, _ in rows] == [plain for _, plain in rows]


ZONES = ["UTC", "Europe/Kyiv", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(microseconds, st.integers(0, 10**7)), min_size=1, max_size=30), st.sampled_from(ZONES))
def test_day_and_hour_numbers_are_what_intervals_and_zones_give(con, spans, zone):
    # whole seconds, as every source writes them: the middle is a whole microsecond
    pairs = [(a // 10**6 * 10**6, (a // 10**6 + width) * 10**6) for a, width in spans]
    rows = con.execute(
        """SELECT day_number(a, b, $tz),
                  CAST(epoch(CAST(timezone($tz, a + (b - a) / 2) AS DATE)) / 86400 AS BIGINT),
                  hour_number(a, b), CAST(floor(epoch(a + (b - a) / 2) / 3600) AS BIGINT)
           FROM (SELECT unnest($a) AS a, unnest($b) AS b)""",
        {"a": [as_instant(a) for a, _ in pairs], "b": [as_instant(b) for _, b in pairs], "tz": zone},
    ).fetchall()
    assert [(day, hour) for day, _, hour, _ in rows] == [(day, hour) for _, day, _, hour in rows]
