"""cyberlog.toml: clear errors with exit 2, paths relative to the config file."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURE_EVENTS, FIXTURES, run, scalar

from ingest import formats
from ingest.run import settled as kept
from ingest.run.config import load_config


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


# a config validated once is read back by the next nightly without pydantic (ingest.run.settled)

EVERY_PART = """max_rejects = 7
[identity]
slack_hours = 12
min_similarity = 0.75
[bursts]
attack_types = ["ddos", "wiper"]
count = "events"
[[sources]]
name = "g"
format = "gdelt"
path = "g/*.CSV"
encoding = "latin-1"
[sources.filter]
actor_countries = ["UKR", "RUS"]
cameo_roots = ["19"]
event_classes = ["statement"]
min_sources = 2
[[sources]]
name = "e"
format = "events_csv"
path = "*.csv"
timezone = "Europe/Kyiv"
"""


@pytest.mark.parametrize("given", ["fixtures", "every part"])
def test_a_validated_config_reads_back_as_it_was_validated(tmp_path, given):
    config = FIXTURES / "cyberlog.toml" if given == "fixtures" else write(tmp_path, EVERY_PART)
    text, db = config.read_bytes(), tmp_path / "s.duckdb"
    settled = load_config(config, text).settled()
    assert settled is not None and len(settled.sources) > 1
    assert kept.recall(text, db) is None  # nothing kept yet
    kept.remember(text, db, settled)
    assert kept.recall(text, db) == settled
    assert kept.recall(text + b"\n", db) is None  # other bytes: another digest, validated again
    assert kept.recall(text, tmp_path / "other.duckdb") is None  # kept beside its own store


def test_a_config_with_a_remote_source_is_not_kept(tmp_path):
    remote = '[[sources]]\nname = "far"\nformat = "gdelt"\nurl = "https://example.org/lastupdate.txt"\n'
    assert load_config(write(tmp_path, SOURCE + remote)).settled() is None


def test_an_edited_config_is_validated_again_and_its_rules_hold(tmp_path):
    (tmp_path / "e.csv").write_text("ref,occurred_at,title\nx,2022-02-21T22:00Z,Recognition\ny,soon,Talks\n", "utf-8")
    config, db = write(tmp_path, SOURCE), tmp_path / "s.duckdb"
    assert run("nightly", "--config", config, "--db", db).code == 3  # one reject, none tolerated
    assert (tmp_path / "s.duckdb.nightly.json").is_file()
    (tmp_path / "e.csv").write_text("ref,occurred_at,title\nz,2022-02-22T10:00Z,Visit\nw,later,Talks\n", "utf-8")
    write(tmp_path, "max_rejects = 1\n" + SOURCE)
    assert run("nightly", "--config", config, "--db", db).code == 0  # the new limit, not the kept one
    write(tmp_path, "max_rejects = -1\n" + SOURCE)
    result = run("nightly", "--config", config, "--db", db)
    assert (result.code, result.err) == (2, f"cyberlog: error: {config}: max_rejects: {GE_0}\n")


GE_0 = "Input should be greater than or equal to 0"


@pytest.mark.parametrize(
    "damage",
    [
        lambda key: "{not json",
        lambda key: json.dumps({"digest": key}),
        lambda key: json.dumps({"digest": key, "settled": {"max_rejects": 0, "sources": []}}),
        lambda key: json.dumps({"digest": key, "settled": {"max_rejects": 0, "identity": {"colour": 1}}}),
        lambda key: json.dumps([key]),
        lambda key: "[" * 100_000 + "]" * 100_000,  # nested past Python's recursion limit
        lambda key: json.dumps({"digest": key, "settled": {}, "padding": " " * (16 << 20)}),  # too big to be ours
    ],
)
def test_a_damaged_entry_is_validated_again_and_written_anew(tmp_path, damage):
    (tmp_path / "e.csv").write_text("ref,occurred_at,title\nx,2022-02-21T22:00Z,Recognition\n", "utf-8")
    config, db = write(tmp_path, SOURCE), tmp_path / "s.duckdb"
    entry = tmp_path / "s.duckdb.nightly.json"
    entry.write_text(damage(kept.digest(config.read_bytes())), "utf-8")
    result = run("nightly", "--config", config, "--db", db)
    assert result.code == 0, result.err
    assert kept.recall(config.read_bytes(), db) == load_config(config).settled()


def test_a_store_folder_that_cannot_keep_the_entry_changes_nothing(tmp_path):
    config = write(tmp_path, SOURCE)
    settled = load_config(config).settled()
    assert settled is not None
    kept.remember(config.read_bytes(), tmp_path / "gone" / "s.duckdb", settled)  # no such folder: no error
    assert not (tmp_path / "gone").exists()
