"""Rows written out (ingest.reports.results, the writers of ingest.reports.export, the page),
without the CLI: every format by its registry, files that appear only once complete, the
user's SQL errors as QueryError, and a store that cannot be turned on other files."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import duckdb
import pytest
from stores import CFR, CURATED, empty, load

from ingest.cli.output import Output, ReportOutput
from ingest.errors import QueryError, UsageError
from ingest.reports import catalog, export, page, results

ROWS = "SELECT * FROM (VALUES (1, '=cmd', 'a|b'), (2, NULL, 'x')) AS t(n, formula, piped) ORDER BY n"


def test_every_format_the_cli_offers_has_a_writer() -> None:
    assert [o.value for o in Output] == [f for f in export.formats() if f != "html"]
    assert [o.value for o in ReportOutput] == export.formats()  # a report also draws a page


@pytest.mark.parametrize(
    ("given", "out", "picked"),
    [
        (None, None, "table"),
        (None, Path("a.CSV"), "csv"),
        (None, Path("a.json"), "json"),
        (None, Path("a.md"), "markdown"),
        (None, Path("page.html"), "html"),
        (None, Path("a.ndjson"), "ndjson"),
        (None, Path("a.jsonl"), "ndjson"),
        (None, Path("a.parquet"), "parquet"),
        ("json", Path("a.csv"), "json"),
        ("table", Path("a.txt"), "table"),
    ],
)
def test_the_format_is_the_one_asked_for_or_the_one_the_suffix_names(
    given: str | None, out: Path | None, picked: str
) -> None:
    assert export.pick(given, out) == picked


@pytest.mark.parametrize("out", [Path("a.txt"), Path("noext"), Path("a.xlsx")])
def test_a_suffix_no_writer_has_is_refused_not_written_as_a_cut_table(out: Path) -> None:
    with pytest.raises(UsageError, match="cannot tell the format of --out"):
        export.pick(None, out)
    with pytest.raises(UsageError, match=r"use one of \.csv, \.json, \.ndjson, \.jsonl, \.md, \.parquet, or give"):
        export.pick(None, Path("page.html"), [o.value for o in Output])


@pytest.mark.parametrize(
    ("fmt", "written"),
    [
        ("csv", "n,formula,piped\n1,'=cmd,a|b\n2,,x\n"),
        ("json", '[\n  {"n": 1, "formula": "=cmd", "piped": "a|b"},\n  {"n": 2, "formula": null, "piped": "x"}\n]\n'),
        ("markdown", "| n | formula | piped |\n|---|---|---|\n| 1 | =cmd | a\\|b |\n| 2 |  | x |\n"),
        ("table", "n  formula  piped\n-  -------  -----\n1  =cmd     a|b\n2           x\n(2 rows)\n"),
        ("html", "n  formula  piped\n-  -------  -----\n1  =cmd     a|b\n2           x\n(2 rows)\n"),
    ],
)
def test_each_writer_by_its_name(fmt: str, written: str) -> None:
    out = io.StringIO(newline="")
    export.write_rows(out, fmt, ["n", "formula", "piped"], [(1, "=cmd", "a|b"), (2, None, "x")])
    assert out.getvalue() == written


def test_a_statement_without_columns_prints_no_table() -> None:
    out = io.StringIO()
    export.write_rows(out, "table", [], [])
    assert out.getvalue() == ""


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(tmp_path / "plain.duckdb"))


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown", "table"])
def test_a_statement_is_written_to_a_file_as_the_writer_writes_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"rows.{fmt}"
    results.emit(con, ROWS + ";\n-- the end", {}, fmt, out)
    expected = io.StringIO(newline="")
    export.write_rows(expected, fmt, ["n", "formula", "piped"], con.execute(ROWS).fetchall(), export.Look(width=1000))
    assert out.read_bytes().decode("utf-8") == expected.getvalue()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_failing_statement_is_a_query_error_and_leaves_no_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "rows.csv"
    for fmt in ("csv", "json"):
        with pytest.raises(QueryError) as failed:
            results.emit(con, "SELECT * FROM nowhere", {}, fmt, out)
        assert str(failed.value) == "Catalog Error: Table with name nowhere does not exist!"
    assert list(tmp_path.glob("rows*")) == [] and list(tmp_path.glob(".rows*")) == []


def test_html_needs_a_report(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UsageError) as refused:
        results.emit(con, ROWS, {}, "html", None)
    assert str(refused.value) == "--format html draws a report: use `cyberlog report run NAME --format html`"


def test_a_reading_store_cannot_reach_other_files(tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n", "utf-8")
    with results.reading(empty(tmp_path / "store.duckdb")) as con, pytest.raises(QueryError) as refused:
        results.emit(con, f"SELECT * FROM read_csv('{outside}')", {}, "csv", None)
    assert str(refused.value).startswith("Permission Error")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("results") / "store.duckdb"
    load(db, CURATED, CFR)
    return db


def test_a_report_is_written_as_its_rows(store: Path, tmp_path: Path) -> None:
    report = catalog.get("timeline")
    params = report.bind({})
    with results.reading(store) as con:
        columns, rows = results.report_rows(con, report, params)
        results.emit_report(con, report, params, "json", tmp_path / "timeline.json")
    assert rows and (tmp_path / "timeline.json").read_text("utf-8").count("\n  {") == len(rows)
    assert columns[0] in (tmp_path / "timeline.json").read_text("utf-8")


def test_a_compute_report_cannot_be_drawn_bare(store: Path) -> None:
    report = catalog.get("lead_lag")
    with results.reading(store) as con, pytest.raises(UsageError, match="--format html draws a report"):
        results.emit_report(con, report, report.bind({}), "html", None)


def test_the_page_draws_the_reports_rows_and_nothing_else(store: Path, tmp_path: Path) -> None:
    report = catalog.get("timeline")
    params = report.bind({"since": "2022-02-15", "until": "2022-02-16"})
    out = tmp_path / "page.html"
    with results.reading(store) as con:
        page.emit_page(con, report, params, out)
        columns, found = results.report_rows(con, report, params)
        outside = con.execute("SELECT cluster_id FROM v_attacks WHERE started_at < '2022-02-01' LIMIT 1").fetchall()
    text = out.read_text("utf-8")
    assert text.startswith("<!doctype html>") and f"<title>cyberlog: {report.title}</title>" in text
    data = json.loads(re.search(r'<script id="picture-data" type="application/json">(.*?)</script>', text, re.S)[1])
    ids = {dict(zip(columns, row, strict=True))["id"] for row in found}
    assert data["kind"] == "timeline" and ids and {m["id"] for m in data["marks"]} == ids
    assert outside and outside[0][0] not in text  # an incident of another month is not on the page
