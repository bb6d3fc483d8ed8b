"""`cyberlog rejects`: list and show what was quarantined, and replay it after a fix."""

from __future__ import annotations

import json

import pytest
from conftest import rows, run, scalar

HEADER = "ref,occurred_at,title\n"
LINES = "x-1,2022-02-21 22:00,Recognition\nx-2,2022-02-22T10:00Z,Talks\nx-3,not a date,Visit\n"


def _store(tmp_path):
    path, db = tmp_path / "events.csv", tmp_path / "s.duckdb"
    path.write_text(HEADER + LINES, "utf-8")
    assert run("ingest", path, "--format", "events_csv", "--source", "curated", "--db", db).code == 3
    return path, db


def _listed(db, *args):
    result = run("rejects", "list", "--db", db, "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_list_filters_and_show_gives_the_whole_record(tmp_path):
    path, db = _store(tmp_path)
    listed = _listed(db)
    assert [(r["at"], r["field"]) for r in sorted(listed, key=lambda r: r["at"])] == [
        ("2", "occurred_at"),
        ("4", "occurred_at"),
    ]
    assert [r["at"] for r in _listed(db, "--reason", "no UTC offset")] == ["2"]
    assert _listed(db, "--source", "other") == []
    assert len(_listed(db, "--file", str(path))) == 2
    shown = run("rejects", "show", listed[0]["reject_id"], "--db", db)
    assert shown.code == 0 and "raw:" in shown.out and "outstanding:  true" in shown.out
    missing = run("rejects", "show", "rej_000000000000", "--db", db)
    assert missing.code == 2 and "no reject 'rej_000000000000'" in missing.err


def test_replay_after_a_fix_stores_what_now_passes_exactly_once(tmp_path):
    _, db = _store(tmp_path)
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 1
    replay = run("rejects", "replay", "--timezone", "Europe/Moscow", "--db", db, "--json")
    assert replay.code == 3, replay.err  # x-3 is still not a date
    summary = json.loads(replay.out)
    # x-2 loaded before: a replay of the rejects leaves it as it was loaded, and counts it
    assert (summary["inserted"], summary["unchanged"], summary["left_as_loaded"], summary["rejected"]) == (1, 0, 1, 1)
    assert rows(db, "SELECT source_ref, strftime(occurred_at, '%H:%M') FROM diplomatic_events ORDER BY 1") == [
        ("x-1", "19:00"),
        ("x-2", "10:00"),
    ]
    assert rows(db, "SELECT line, outstanding FROM v_rejects ORDER BY rejected_at, line") == [
        (2, False),
        (4, False),
        (4, True),
    ]
    assert [r["at"] for r in _listed(db)] == ["4"]
    again = run("rejects", "replay", "--timezone", "Europe/Moscow", "--db", db, "--json")
    assert json.loads(again.out)["inserted"] == 0
    assert scalar(db, "SELECT count(*) FROM diplomatic_events") == 2
    assert scalar(db, "SELECT command FROM ingest_runs ORDER BY started_at DESC LIMIT 1") == "replay"


def test_replay_takes_the_sources_settings_from_the_config(tmp_path):
    path, db = _store(tmp_path)
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        f'[[sources]]\nname = "curated"\nformat = "events_csv"\npath = "{path.name}"\ntimezone = "Europe/Kyiv"\n',
        "utf-8",
    )
    assert run("rejects", "replay", "--config", config, "--db", db).code == 3
    assert (
        scalar(db, "SELECT strftime(occurred_at, '%H:%M') FROM diplomatic_events WHERE source_ref = 'x-1'") == "20:00"
    )


def test_a_file_gone_or_changed_cannot_be_replayed_and_says_so(tmp_path):
    path, db = _store(tmp_path)
    path.write_text(HEADER + "x-9,2022-02-23,Other\n", "utf-8")
    result = run("rejects", "replay", "--db", db)
    assert result.code == 3
    assert "gone or changed since it was loaded: its 2 rejects cannot be replayed" in result.err
    assert len(_listed(db)) == 2  # still outstanding
    nothing = run("rejects", "replay", "--source", "other", "--db", db)
    assert nothing.code == 0 and "no outstanding rejects to replay" in nothing.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--timezone", "Mars/Olympus"],
            "cyberlog: error: unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Kyiv\n",
        ),
        (["--encoding", "klingon"], "cyberlog: error: unknown encoding 'klingon'\n"),
    ],
)
def test_replay_with_a_wrong_zone_or_encoding_is_a_usage_error_before_anything_is_read(tmp_path, args, message):
    result = run("rejects", "replay", *args, "--db", tmp_path / "x.duckdb")
    assert (result.code, result.err) == (2, message)
