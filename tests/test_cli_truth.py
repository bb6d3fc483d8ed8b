"""Everything the CLI says is so: every hint names a flag the command has and works when
tried, --help offers only values the command takes, --out writes the format its suffix
names or refuses it (exit 2, nothing written), files get the user's umask, counts read
"1 row", CSV on stdout ends lines with LF (CR LF with --crlf), unknown names get a
"did you mean", and a replay changes no accepted record unless asked."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import duckdb
import pytest
from conftest import ROOT, rows, run

TABLE_COMMANDS = [
    ["status"],
    ["clusters", "list"],
    ["clusters", "list", "--events"],
    ["query", "SELECT * FROM v_incidents"],
    ["report", "run", "timeline"],
]


def _help(command: list[str]) -> str:
    """The --help of the command (its group's subcommand where it has one)."""
    return run(*command[: 2 if command[0] in ("clusters", "rejects", "report") else 1], "--help").out


def _hint_lines(text: str) -> str:
    return " ".join(line for line in text.splitlines() if "gives" in line or "shows" in line)


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_every_hint_names_a_flag_of_that_command_and_trying_it_works(fixture_store, command):
    shown = run(*command, "--db", fixture_store)
    assert shown.code == 0, shown.err
    hints = re.findall(r"(--[a-z][a-z-]+)(?: (csv|json|table|markdown))?", _hint_lines(shown.out + shown.err))
    assert hints, "the table is cut here, so it must say how to see the rest"
    helped = _help(command)
    for flag, value in hints:
        assert flag in helped, f"{flag} is hinted but not an option of {' '.join(command)}"
        tried = run(*command, flag, *([value] if value else []), "--db", fixture_store)
        assert tried.code == 0, (flag, value, tried.err)
        assert not re.search(r"^\(\d+ rows?", tried.out, re.M)  # what was hinted cuts nothing


def test_clusters_show_full_gives_every_disagreement_whole(fixture_store):
    listed = json.loads(run("clusters", "list", "--format", "json", "--db", fixture_store).out)
    cluster = listed[0]["cluster_id"]
    cut = run("clusters", "show", cluster, "--db", fixture_store)
    whole = run("clusters", "show", cluster, "--full", "--db", fixture_store)
    assert cut.code == whole.code == 0
    assert "…" in cut.out and "--full shows every column and cell whole" in cut.out
    assert "…" not in whole.out and len(whole.out) > len(cut.out)


def _choices(help_text: str, option: str) -> list[str]:
    """The values `--help` offers for an option: the CLI prints them as <a|b|c>."""
    flat = re.sub(r"[│\s]+", " ", help_text)
    found = re.search(re.escape(option) + r"[^<]*?<((?:[a-z]+\|)+[a-z]+)>", flat)
    assert found, f"no choices for {option} in help"
    return found[1].split("|")


@pytest.mark.parametrize(
    "command",
    [["query", "SELECT 1 AS n"], ["clusters", "list"], ["rejects", "list"], ["report", "run", "timeline"], ["status"]],
    ids=" ".join,
)
def test_help_offers_only_formats_the_command_takes(fixture_store, tmp_path, command):
    for value in _choices(_help(command), "--format"):
        out = tmp_path / f"out.{value}"
        result = run(*command, "--format", value, "--out", out, "--db", fixture_store)
        if result.code == 2 and "--out" in result.err:  # status writes to stdout only
            result = run(*command, "--format", value, "--db", fixture_store)
        assert result.code == 0, (value, result.err)


@pytest.mark.parametrize("suffix", [".xlsx", ".txt", ".pdf", ""])
def test_out_with_a_suffix_no_writer_has_is_refused_and_nothing_is_written(fixture_store, tmp_path, suffix):
    out = tmp_path / f"report{suffix}"
    result = run("report", "run", "timeline", "--out", out, "--db", fixture_store)
    assert result.code == 2 and "--out" in result.err and ".csv" in result.err
    assert list(tmp_path.iterdir()) == []


def test_out_picks_the_writer_by_its_suffix(fixture_store, tmp_path):
    expected = rows(fixture_store, "SELECT count(*) FROM v_incidents")[0][0]
    sql = "SELECT * FROM v_incidents"
    for name in ("r.csv", "r.json", "r.ndjson", "r.jsonl", "r.parquet", "r.md"):
        assert run("query", sql, "--out", tmp_path / name, "--db", fixture_store).code == 0, name
    assert len(list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text("utf-8"))))) == expected
    assert len(json.loads((tmp_path / "r.json").read_text("utf-8"))) == expected
    for name in ("r.ndjson", "r.jsonl"):
        assert [json.loads(line)["incident_id"] for line in (tmp_path / name).read_text().splitlines()]
        assert len((tmp_path / name).read_text().splitlines()) == expected
    parquet = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path / 'r.parquet'}')").fetchall()
    assert parquet == [(expected,)]
    assert len((tmp_path / "r.md").read_text().splitlines()) == expected + 2
    page = tmp_path / "t.html"
    assert run("report", "run", "timeline", "--out", page, "--db", fixture_store).code == 0
    assert page.read_text().startswith("<!doctype html>")
    refused = run("query", sql, "--out", tmp_path / "q.html", "--db", fixture_store)
    assert refused.code == 2 and not (tmp_path / "q.html").exists()
    whole = tmp_path / "t.txt"
    assert run("query", sql, "--format", "table", "--out", whole, "--db", fixture_store).code == 0
    written = whole.read_text()
    longest = rows(fixture_store, "SELECT max_by(title, length(title)) FROM v_incidents")[0][0]
    assert longest in written and written.endswith(f"({expected} rows)\n")  # whole: no cell, row or column cut


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_are_written_with_the_users_umask(fixture_store, tmp_path, mask, mode):
    before = os.umask(mask)
    try:
        out = tmp_path / "r.csv"
        assert run("query", "SELECT 1 AS n", "--out", out, "--db", fixture_store).code == 0
        page = tmp_path / "p.html"
        assert run("report", "run", "timeline", "--out", page, "--db", fixture_store).code == 0
    finally:
        os.umask(before)
    assert (out.stat().st_mode & 0o777, page.stat().st_mode & 0o777) == (mode, mode)


def test_counts_read_right_in_the_singular():
    from ingest.reports.export import write_table

    out = io.StringIO()
    write_table(out, ["a", "b"], [("x" * 50, "y")], width=43)
    assert out.getvalue().splitlines()[-1] == (
        "(1 row; 1 more column: b; cells cut at 40 characters; --format csv or json gives everything)"
    )


def _shell(command: str) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_csv_on_stdout_ends_lines_with_lf_so_a_shell_can_use_a_cell(fixture_store):
    cyberlog = f"'{sys.executable}' -m ingest"
    sql = "SELECT count(*) AS n FROM incidents"
    n = rows(fixture_store, sql)[0][0]
    # the last line, used as a number in the next command: no CR carried along
    last = f"""n=$({cyberlog} query "{sql}" --format csv --db '{fixture_store}' | tail -1); echo $((n + 1))"""
    assert _shell(last) == f"{n + 1}\n"
    crlf = _shell(f"""{cyberlog} query "{sql}" --format csv --crlf --db '{fixture_store}' | od -c | head -1""")
    assert "\\r  \\n" in crlf


def test_a_misspelt_column_gets_a_did_you_mean_and_a_data_line_is_never_printed(tmp_path, db):
    typo = tmp_path / "typo.csv"
    typo.write_text("ref,titel,started_at,attack_types\nx,DDoS,2022-02-15,ddos\n", "utf-8")
    found = run("ingest", typo, "--db", db)
    assert found.code == 3
    assert "nearest incidents_csv's: unknown column(s) titel (did you mean 'title'?)" in found.err
    gdelt = tmp_path / "export.CSV"
    line = "\t".join(["1028408963", "20220215", "202202", "2022", "2022.1233", "RUS", "RUSSIA"] + [""] * 50)
    gdelt.write_text(line + "\n", "utf-8")
    forced = run("ingest", gdelt, "--format", "incidents_csv", "--db", db)
    assert forced.code == 3 and "the first line is not a header of this format: it reads like data" in forced.err
    assert "1028408963" not in forced.err
    unknown = run("ingest", typo, "--format", "incidents_cvs", "--db", db)
    assert unknown.code == 2 and "did you mean 'incidents_csv'?" in unknown.err


def test_a_replay_changes_no_accepted_record_unless_asked(tmp_path):
    path, db = tmp_path / "events.csv", tmp_path / "s.duckdb"
    path.write_text("ref,occurred_at,title\nx-1,2022-02-21 22:00,Recognition\nx-3,not a date,Visit\n", "utf-8")
    args = ("--format", "events_csv", "--source", "curated", "--db", db)
    assert run("ingest", path, "--timezone", "Europe/Kyiv", *args).code == 3
    when = "SELECT strftime(occurred_at, '%H:%M') FROM diplomatic_events WHERE source_ref = 'x-1'"
    assert rows(db, when) == [("20:00",)]
    left = run("rejects", "replay", "--timezone", "Europe/Moscow", "--db", db)
    assert left.code == 3  # x-3 is still not a date
    assert rows(db, when) == [("20:00",)]  # the accepted record is as it was loaded
    assert "left as loaded: 1 (--all-records reads them again too)" in left.err
    every = run("rejects", "replay", "--timezone", "Europe/Moscow", "--all-records", "--db", db)
    assert rows(db, when) == [("19:00",)]
    assert f"{path}:2: ref 'x-1': replaced the record stored before" in every.err
