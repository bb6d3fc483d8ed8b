"""The security review's promises that other test files do not already hold (see
docs/security.md for where each one is tested)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import FIXTURES, GOOD, run

PAYLOADS = [
    "__import__('os').system('touch PWNED')",
    "{{7*7}} ${7*7} #{7*7} %(x)s {0.__class__}",
    "=cmd|' /C calc'!A0",
    "'); DROP TABLE incidents; --",
    "${jndi:ldap://127.0.0.1/a}",
]


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _everywhere(db: Path, text: str) -> int:
    """How many text cells in the whole store contain `text`."""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_name NOT LIKE 'v\\_%' ESCAPE '\\'"
        ).fetchall()
        return sum(
            con.execute(f'SELECT count(*) FROM "{t}" WHERE contains("{c}", $x)', {"x": text}).fetchall()[0][0]
            for t, c in columns
        )


WORKBOOKS = {"dcid"}  # .xlsx fixtures: the payload goes into the cells


def _workbook_with(good: Path, path: Path, anchor: str, payload: str) -> None:
    """The workbook with `anchor` replaced by `payload` in every text cell, kept as text: a
    cell starting with = stays a string, as Excel stores text typed with a leading quote."""
    book = openpyxl.load_workbook(good)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and anchor in cell.value:
                    cell.value = cell.value.replace(anchor, payload)
                    cell.data_type = "s"
    book.save(path)


@pytest.mark.slow  # every payload in every format: a hundred ingests
@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("name", sorted(GOOD))
def test_no_input_is_evaluated_it_is_stored_as_text_or_quarantined(db, tmp_path, monkeypatch, name, payload):
    monkeypatch.chdir(tmp_path)
    if name in ("ddosia", "misp", "stix", "veris"):
        payload_in_file = payload.replace("\\", "\\\\").replace('"', '\\"')
    else:
        payload_in_file = payload
    path = tmp_path / Path(GOOD[name]).name
    # ICEWS keeps country names only as codes; a DDoSia list names no country, only hosts and
    # requests; a VIINA labels file holds ids and flags (its place names are in the info file)
    anchor = {"icews": "Vladimir Putin", "ddosia": "POST", "viina": "20220218061500"}.get(name, "Ukraine")
    if name in WORKBOOKS:
        _workbook_with(FIXTURES / GOOD[name], path, anchor, payload)
    else:
        text = (FIXTURES / GOOD[name]).read_text("utf-8")
        path.write_text(text.replace(anchor, payload_in_file), "utf-8")
    result = run("ingest", path, "--format", name, "--db", db)
    assert result.code in (0, 3), result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "PWNED").exists()
    assert _everywhere(db, payload) >= 1, "the text is kept: stored, or as the raw text of a reject"
    assert duckdb.connect(str(db), read_only=True).execute("SELECT count(*) FROM incidents").fetchall()


def test_inputs_are_never_changed_and_nothing_is_written_beside_them(tmp_path):
    feeds = tmp_path / "feeds"
    shutil.copytree(FIXTURES, feeds)
    gdelt = feeds / "gdelt" / "good" / "20220215171500.export.CSV"
    with gzip.open(gdelt.with_name("20220216000000.export.CSV.gz"), "wb") as out:
        out.write(gdelt.read_bytes().replace(b"\t20220215", b"\t20220216"))
    with zipfile.ZipFile(feeds / "stix" / "good" / "bundle.json.zip", "w") as archive:
        archive.write(FIXTURES / GOOD["stix"], "bundle.json")
    before = _tree(feeds)
    db = tmp_path / "store" / "cyberlog.duckdb"
    db.parent.mkdir()
    assert run("nightly", "--config", feeds / "cyberlog.toml", "--db", db).code in (0, 3)
    assert run("ingest", feeds / "stix" / "good" / "bundle.json.zip", "--db", db).code == 0
    assert _tree(feeds) == before
    # temp files are gone too; the snapshot readers use while a run writes, and the config as
    # it was checked (ingest.run.settled), are the store's own
    beside = ["cyberlog.duckdb", "cyberlog.duckdb.nightly.json", "cyberlog.duckdb.snapshot"]
    assert sorted(p.name for p in db.parent.iterdir()) == beside


def test_exported_csv_is_inert_in_a_spreadsheet(tmp_path):
    """Read back as a spreadsheet would: no cell of a report or query export starts a formula."""
    path = tmp_path / "hostile.csv"
    header = (FIXTURES / GOOD["incidents_csv"]).read_text("utf-8").splitlines()[0]
    rows = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
    body = io.StringIO()
    writer = csv.writer(body)
    columns = header.split(",")
    for i, title in enumerate(rows):
        record = dict.fromkeys(columns, "")
        record.update(ref=f"r{i}", title=title, started_at="2022-02-15", attack_types="ddos")
        writer.writerow([record[c] for c in columns])
    path.write_text(header + "\n" + body.getvalue(), "utf-8")
    db = tmp_path / "s.duckdb"
    assert run("ingest", path, "--format", "incidents_csv", "--db", db).code == 0, "fixture rows must load"
    out = tmp_path / "out.csv"
    query = 'SELECT title AS "=title", -1 AS n FROM incidents ORDER BY source_ref'
    assert run("query", query, "--db", db, "--out", out).code == 0
    cells = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert cells[0] == ["'=title", "n"]
    assert all(not row[0].startswith(("=", "+", "-", "@", "\t", "\r")) for row in cells)
    assert [row[0].lstrip("'") for row in cells[1:]] == [r.strip() for r in rows]  # ingest trims blanks
    assert {row[1] for row in cells[1:]} == {"-1"}  # numbers stay numbers
