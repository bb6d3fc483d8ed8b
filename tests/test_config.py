"""cyberlog.toml: clear errors with exit 2, paths relative to the config file."""

from __future__ import annotations

import pytest
from conftest import FIXTURE_EVENTS, FIXTURES, run, scalar

from ingest import formats


def write(tmp_path, body: str):
    path = tmp_path / "cyberlog.toml"
    path.write_text(body, "utf-8")
    return path


SOURCE = '[[sources]]\nname = "a"\nformat = "events_csv"\npath = "*.csv"\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sources = [", "not valid TOML: "),
        ("", "sources: Field required"),
        (
            SOURCE.replace("events_csv", "stix3"),
            f"sources.0.format: unknown format 'stix3' (did you mean 'stix'?): use one of {', '.join(formats.names())}",
        ),
        (SOURCE + SOURCE, "sources: source names must be unique: a given twice"),
        (
            SOURCE + 'timezone = "Kyiv"\n',
            "sources.0.timezone: unknown time zone 'Kyiv': use an IANA name such as Europe/Kyiv",
        ),
        (SOURCE + "colour = 1\n", "sources.0.colour: Extra inputs are not permitted"),
        ("max_rejects = -1\n" + SOURCE, "max_rejects: Input should be greater than or equal to 0"),
    ],
)
def test_config_errors_exit_2(tmp_path, body, message):
    config = write(tmp_path, body)
    result = run("nightly", "--config", config, "--db", tmp_path / "s.duckdb")
    assert result.code == 2
    assert result.err.startswith(f"cyberlog: error: {config}: {message}")
    assert result.err.count("\n") == 1


def test_missing_config(tmp_path):
    result = run("nightly", "--config", tmp_path / "nope.toml", "--db", tmp_path / "s.duckdb")
    assert result.code == 2
    assert "cannot read the config: No such file or directory" in result.err


def test_paths_are_relative_to_the_config_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "s.duckdb"
    result = run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", db)
    assert result.code == 0, result.err
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == FIXTURE_EVENTS


def test_empty_source_warns_and_exits_0(tmp_path):
    config = write(tmp_path, SOURCE)
    result = run("nightly", "--config", config, "--db", tmp_path / "s.duckdb")
    assert result.code == 0
    assert "warning: source a: no files match *.csv" in result.err


def test_source_timezone_applies_to_naive_times(tmp_path):
    (tmp_path / "e.csv").write_text("ref,occurred_at,title\nx,2022-02-21 22:00,Recognition\n", "utf-8")
    config = write(tmp_path, SOURCE + 'timezone = "Europe/Moscow"\n')
    db = tmp_path / "s.duckdb"
    assert run("nightly", "--config", config, "--db", db).code == 0
    assert scalar(db, "SELECT strftime(occurred_at, '%H:%M') || ' ' || source FROM diplomatic_events") == "19:00 a"


def test_db_from_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("CYBERLOG_DB", str(db))
    assert run("ingest", FIXTURES / "events_csv" / "good" / "ukraine-2022.csv").code == 0
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 20


def test_a_bad_glob_is_a_config_error(tmp_path):
    config = write(tmp_path, SOURCE.replace('"*.csv"', '"**x/*.csv"'))
    result = run("nightly", "--config", config, "--db", tmp_path / "s.duckdb")
    assert result.code == 2
    assert "source a: path '**x/*.csv' is not a usable glob" in result.err
