"""The nightly's remote side as the library offers it (ingest.feeds.nightly), without the
CLI: the plan of a dry run, and the downloads a run loads as they arrive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
from feedserver import Reply, serve
from stores import CFR, FIXTURES, load

from ingest.feeds import nightly
from ingest.run import orchestrate
from ingest.run.config import load_config

FEED = FIXTURES / "misp" / "good" / "feed"
FAST = "[fetch]\ntimeout_seconds = 2\nretries = 0\n"


def _config(folder: Path, *remote: str) -> Path:
    shutil.copy(CFR, folder / "cfr.csv")
    config = folder / "cyberlog.toml"
    local = '[[sources]]\nname = "cfr"\nformat = "cfr_tracker"\npath = "*.csv"\n'
    config.write_text("\n".join([FAST, local, *remote]), "utf-8")
    return config


def _plan(config: Path, db: Path) -> dict[str, list[object]]:
    settings = load_config(config)
    jobs, warnings = orchestrate.nightly_jobs(config, settings.local())
    return nightly.plan(db, config, settings, jobs, warnings)


def test_without_a_store_every_local_file_would_be_ingested_and_nothing_is_written(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    plan = _plan(_config(tmp_path), db)
    assert plan == {
        "ingest": [{"source": "cfr", "format": "cfr_tracker", "path": str(tmp_path / "cfr.csv")}],
        "fetch": [],
        "failed": [],
        "warnings": [],
    }
    assert not db.exists()
    assert nightly.remote_jobs(load_config(tmp_path / "cyberlog.toml"), tmp_path / "cyberlog.toml") is None


def test_files_the_ledger_knows_are_left_out(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    config = _config(tmp_path)
    (tmp_path / "new.csv").write_bytes(CFR.read_bytes().replace(b"\n", b"\r\n"))  # other bytes, same records
    load(db, tmp_path / "cfr.csv")
    assert _plan(config, db)["ingest"] == [
        {"source": "cfr", "format": "cfr_tracker", "path": str(tmp_path / "new.csv")}
    ]


def test_a_remote_source_says_what_it_would_fetch_and_one_that_cannot_say_fails(tmp_path: Path) -> None:
    with serve() as gone:
        unreachable = gone.url("/feed")
    with serve() as server:
        manifest = json.loads((FEED / "manifest.json").read_text("utf-8"))
        server.set("/feed/manifest.json", Reply(json.dumps(manifest).encode()))
        config = _config(
            tmp_path,
            f'[[sources]]\nname = "circl"\nformat = "misp"\nurl = "{server.url("/feed")}"\n',
            f'[[sources]]\nname = "gone"\nformat = "misp"\nurl = "{unreachable}"\n',
        )
        plan = _plan(config, tmp_path / "store.duckdb")
        assert not [r for r in server.requests if r.path != "/feed/manifest.json"]  # nothing downloaded
    assert [(item["source"], item["format"]) for item in plan["fetch"]] == [("circl", "misp")] * len(manifest)  # type: ignore[index]
    assert [item["source"] for item in plan["failed"]] == ["gone"]  # type: ignore[index]
    assert "cannot connect" in plan["failed"][0]["error"]  # type: ignore[index]
    assert nightly.remote_jobs(load_config(config), config) is not None


def test_a_store_older_than_fetch_state_plans_as_if_nothing_was_fetched(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    load(db, CFR)
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE fetch_state")
    with serve() as server:
        manifest = json.loads((FEED / "manifest.json").read_text("utf-8"))
        server.set("/feed/manifest.json", Reply(json.dumps(manifest).encode()))
        config = _config(tmp_path, f'[[sources]]\nname = "circl"\nformat = "misp"\nurl = "{server.url("/feed")}"\n')
        plan = _plan(config, db)
    assert len(plan["fetch"]) == len(manifest) and plan["failed"] == []
