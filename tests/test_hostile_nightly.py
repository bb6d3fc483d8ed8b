"""A nightly whose config lists poison files between good sources, run as a user's cron would
run it but under a 2 GB address-space limit and a timeout: no traceback, no hang, no
MemoryError, nothing read outside its folder, nothing silently "0 read", and the good
sources after the poison loaded. Every input is made here, at test time."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import FIXTURES, ROOT, scalar

DEEP = "[" * 100_000 + "]" * 100_000
INCIDENT = {
    "type": "incident",
    "spec_version": "2.1",
    "id": "incident--7b3e9c10-2d4f-4a6b-8c1d-9e0f1a2b3c4d",
    "created": "2022-02-15T14:00:00Z",
    "modified": "2022-02-15T14:00:00Z",
    "name": "DDoS on a ministry",
}
SECRET_TITLE = "read from beside the feed folder"


def _bundle(*objects: object) -> str:
    return json.dumps({"type": "bundle", "id": "bundle--0f0e0d0c-0b0a-4909-8807-060504030201", "objects": objects})


def _poison(folder: Path) -> None:
    """One poison file per class: calendar ends, depth, wrong shapes, a cut-short document,
    bad strings, duplicate keys, a FIFO, /dev/zero, a symlink loop, archives that escape or
    lie, and a MISP feed whose manifest points beside its folder."""
    stix = folder / "stix"
    stix.mkdir()
    late = dict(
        INCIDENT, created="9999-12-31T23:59:59Z", modified="9999-12-31T23:59:59Z", first_seen="9999-12-31T23:59:59Z"
    )
    late["id"] = late["id"][:-1] + "9"
    (stix / "year-9999.json").write_text(_bundle(late))
    early = dict(
        INCIDENT, created="0001-01-01T00:00:00Z", modified="0001-01-01T00:00:00Z", first_seen="0001-01-01T00:00:00Z"
    )
    early["id"] = early["id"][:-1] + "1"
    (stix / "year-0001.json").write_text(_bundle(early))
    (stix / "deep.json").write_text(_bundle(INCIDENT).replace('"DDoS on a ministry"', DEEP))
    (stix / "null.json").write_text("null")
    (stix / "objects-a-dict.json").write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": {}}))
    (stix / "cut-short.json").write_text(_bundle(INCIDENT)[:-20])
    (stix / "surrogate.json").write_text(_bundle(INCIDENT).replace("a ministry", "a \\ud800 ministry"))
    (stix / "twice.json").write_text(_bundle(INCIDENT).replace('"name":', '"name": "x", "name":'))
    os.mkfifo(stix / "fifo.json")
    (stix / "zero.json").symlink_to("/dev/zero")
    (stix / "loop.json").symlink_to(stix / "loop.json")
    with zipfile.ZipFile(stix / "escape.zip", "w") as archive:
        archive.writestr("../../escape.json", _bundle(INCIDENT))
    (stix / "not-a.zip").write_text(_bundle(INCIDENT))

    feed = folder / "misp" / "feed"
    shutil.copytree(FIXTURES / "misp" / "good" / "feed", feed)
    event = json.loads(next(p for p in feed.glob("*.json") if p.name != "manifest.json").read_text())
    event["Event"]["info"] = SECRET_TITLE
    (folder / "misp" / "secret.json").write_text(json.dumps(event))
    (feed / "manifest.json").write_text(json.dumps({"../secret": {"timestamp": "1645660800"}}))


def _config(folder: Path) -> Path:
    """Good sources, then every poison, then good sources again."""
    good = folder / "good"
    shutil.copytree(FIXTURES / "incidents_csv" / "good", good / "incidents")
    shutil.copytree(FIXTURES / "events_csv" / "good", good / "events")
    config = folder / "cyberlog.toml"
    config.write_text(
        "\n".join(
            [
                '[[sources]]\nname = "curated-incidents"\nformat = "incidents_csv"\npath = "good/incidents/*.csv"',
                '[[sources]]\nname = "poison-stix"\nformat = "stix"\npath = "stix/*"',
                '[[sources]]\nname = "poison-misp"\nformat = "misp"\npath = "misp/feed"',
                '[[sources]]\nname = "curated-events"\nformat = "events_csv"\npath = "good/events/*.csv"',
            ]
        )
        + "\n"
    )
    return config


def _address_space_of_2_gb() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_poison_between_good_sources_under_2_gb_and_a_timeout(tmp_path):
    folder = tmp_path / "night"
    folder.mkdir()
    _poison(folder)
    config = _config(folder)
    db = tmp_path / "store.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "nightly", "--config", str(config), "--db", str(db), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_address_space_of_2_gb,
        check=False,
    )
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr
    summary = json.loads(done.stdout)
    assert (done.returncode, summary["exit_code"], summary["files_failed_by_a_bug"]) == (3, 3, 0), done.stderr
    files = {Path(f["path"]).name: f for f in summary["files"]}
    # the good sources before and after the poison loaded whole
    assert scalar(db, "SELECT count(*) FROM diplomatic_events WHERE source = 'curated-events'") == 20
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'curated-incidents'") == 9
    # nothing beside the feed folder or outside an archive was read
    assert scalar(db, f"SELECT count(*) FROM incidents WHERE title = '{SECRET_TITLE}'") == 0
    # every poison file failed with a reason, or loaded with its bad records rejected: none "0 read" in silence
    poison = {name: f for name, f in files.items() if f["source"] in ("poison-stix", "poison-misp")}
    assert len(poison) == 14, sorted(poison)
    silent = [name for name, f in poison.items() if f["status"] != "failed" and f["records_read"] == 0]
    assert silent == []
    assert {name for name, f in poison.items() if f["status"] == "failed"} >= {
        "null.json",
        "objects-a-dict.json",
        "cut-short.json",
        "fifo.json",
        "zero.json",
        "loop.json",
        "escape.zip",
        "not-a.zip",
        "manifest.json",
    }
    assert all(f["error"] for f in poison.values() if f["status"] == "failed")
    # the ends of the calendar load (they once stopped every nightly with OverflowError)
    assert (files["year-9999.json"]["inserted"], files["year-0001.json"]["inserted"]) == (1, 1)
    # identity and bursts still ran after the poison
    assert scalar(db, "SELECT identity_done_at IS NOT NULL FROM ingest_runs") is True
