"""Diagnostics for people and for cron: --quiet, --verbose and --log-format json."""

from __future__ import annotations

import json

from conftest import FIXTURES, run

BAD_CEF = FIXTURES / "cef" / "bad" / "waf01-broken.cef"  # nine rejects


def test_quiet_keeps_only_warnings_and_errors(tmp_path):
    config = tmp_path / "cyberlog.toml"
    config.write_text('[[sources]]\nname = "a"\nformat = "events_csv"\npath = "*.csv"\n', "utf-8")
    result = run("--quiet", "nightly", "--config", config, "--db", tmp_path / "s.duckdb")
    assert result.code == 0
    assert result.err == "cyberlog: warning: source a: no files match *.csv\n"


def test_verbose_lists_every_reject(tmp_path):
    default = run("ingest", BAD_CEF, "--db", tmp_path / "a.duckdb")
    verbose = run("--verbose", "ingest", BAD_CEF, "--db", tmp_path / "b.duckdb")
    assert default.code == verbose.code == 3
    assert "... and 4 more" in default.err and default.err.count(f"{BAD_CEF}:") == 5
    assert "more:" not in verbose.err and verbose.err.count(f"{BAD_CEF}:") == 9


def test_json_logs_are_one_object_a_line_errors_too(tmp_path, monkeypatch):
    result = run("--log-format", "json", "ingest", BAD_CEF, "--db", tmp_path / "s.duckdb")
    records = [json.loads(line) for line in result.err.splitlines()]
    assert result.code == 3 and records
    assert all(r["time"].endswith("Z") for r in records)
    # a file's rejects are warnings, the lines about files and the run info
    assert {r["level"] for r in records if r["message"].startswith("  ")} == {"warning"}
    assert {r["level"] for r in records if not r["message"].startswith("  ")} == {"info"}
    assert records[0]["message"].startswith("loaded ")
    monkeypatch.setenv("CYBERLOG_LOG_FORMAT", "json")
    missing = run("report", "run", "timeline", "--db", tmp_path / "none.duckdb")
    (error,) = [json.loads(line) for line in missing.err.splitlines()]
    assert missing.code == 2 and error["level"] == "error" and "no store here yet" in error["message"]
