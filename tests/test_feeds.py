"""Remote sources in the nightly job, against real HTTP servers on loopback: GDELT file
lists and zips, a MISP feed, a TAXII 2.1 collection, and a network that misbehaves."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, REALWORLD, ROOT, rows, run, scalar
from feedserver import FeedServer, Reply, Taxii, serve

GDELT = FIXTURES / "gdelt" / "good"
EVENTS = "SELECT source_ref, occurred_at, cameo_code, content_hash FROM diplomatic_events ORDER BY source_ref"
BATCHES = ("20220215171500", "20220221190000")
FAST = """
[fetch]
timeout_seconds = 2
retries = 2
backoff_seconds = 0.01
max_wait_seconds = 5
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with serve() as s:
        yield s


def _zip(name: str) -> bytes:
    """A GDELT batch as GDELT publishes it: one CSV in a zip."""
    plain = GDELT / f"{name}.export.CSV"
    if not plain.exists():
        return (GDELT / f"{name}.export.CSV.zip").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.export.CSV", plain.read_bytes())
    return buffer.getvalue()


def _list(server: FeedServer, batches: dict[str, bytes], md5: dict[str, str] | None = None) -> bytes:
    """A GDELT file list: `size md5 url` a line, events beside the mentions and GKG files
    (which cyberlog does not fetch)."""
    lines = []
    for name, body in batches.items():
        digest = (md5 or {}).get(name) or hashlib.md5(body).hexdigest()
        lines.append(f"{len(body)} {digest} {server.url(f'/gdeltv2/{name}.export.CSV.zip')}")
        lines.append(f"1234 {'0' * 32} {server.url(f'/gdeltv2/{name}.mentions.CSV.zip')}")
        lines.append(f"5678 {'f' * 32} {server.url(f'/gdeltv2/{name}.gkg.csv.zip')}")
    return ("\n".join(lines) + "\n").encode()


def _gdelt(server: FeedServer, *, etag: str | None = "list-1", **md5: str) -> dict[str, bytes]:
    batches = {name: _zip(name) for name in BATCHES}
    server.set("/gdeltv2/lastupdate.txt", Reply(_list(server, batches, md5), etag=etag))
    for name, body in batches.items():
        server.set(f"/gdeltv2/{name}.export.CSV.zip", Reply(body))
    return batches


def _config(tmp_path: Path, *sources: str, extra: str = FAST) -> Path:
    path = tmp_path / "cyberlog.toml"
    path.write_text(extra + "\n" + "\n".join(sources), encoding="utf-8")
    return path


def _gdelt_source(server: FeedServer, name: str = "gdelt-live") -> str:
    return f"""
[[sources]]
name = "{name}"
format = "gdelt"
url = "{server.url("/gdeltv2/lastupdate.txt")}"
"""


LOCAL = f"""
[[sources]]
name = "curated"
format = "incidents_csv"
path = "{(FIXTURES / "incidents_csv" / "good" / "*.csv").as_posix()}"
"""


def _nightly(config: Path, db: Path, *more: str) -> object:
    return run("nightly", "--config", config, "--db", db, *more)


def _local_events(tmp_path: Path) -> list[tuple[object, ...]]:
    """What loading the same batches from disk gives: the remote source must equal it."""
    db = tmp_path / "local.duckdb"
    files = [
        GDELT / f"{name}.export.CSV" if (GDELT / f"{name}.export.CSV").exists() else GDELT / f"{name}.export.CSV.zip"
        for name in BATCHES
    ]
    assert run("ingest", *files, "--format", "gdelt", "--db", db).code == 0
    return rows(db, EVENTS)


def test_gdelt_list_fetches_each_export_once(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    first = _nightly(config, db)
    assert first.code == 0, first.err
    assert rows(db, EVENTS) == (_local_events(tmp_path))
    # only the event exports were fetched, each verified and kept under [fetch] dir
    assert sorted(r.path for r in server.requests if r.path.endswith(".zip")) == [
        f"/gdeltv2/{name}.export.CSV.zip" for name in BATCHES
    ]
    kept = tmp_path / "downloads" / "gdelt-live"
    assert sorted(p.name for p in kept.glob("*.zip")) == [f"{name}.export.CSV.zip" for name in BATCHES]
    assert not list(kept.glob("*.part"))
    assert scalar(db, "SELECT count(*) FROM fetch_state WHERE source = 'gdelt-live' AND item LIKE 'http%'") == 2
    # the second run asks for the list with its ETag, gets 304 and fetches nothing
    before = len(server.requests)
    second = _nightly(config, db)
    assert second.code == 0, second.err
    assert [r.path for r in server.requests[before:]] == ["/gdeltv2/lastupdate.txt"]
    assert server.requests[-1].headers.get("if-none-match") == "list-1"
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'gdelt-live'") == 2
    assert len(batches) == 2


def test_gdelt_new_batch_in_a_changed_list_is_the_only_download(server: FeedServer, tmp_path: Path) -> None:
    _gdelt(server, etag=None)  # no validators: the list comes whole each time
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    before = len(server.requests)
    assert _nightly(config, db).code == 0
    assert [r.path for r in server.requests[before:]] == ["/gdeltv2/lastupdate.txt"]  # both batches known


def test_master_list_since_skips_older_batches(server: FeedServer, tmp_path: Path) -> None:
    batches = {name: _zip(name) for name in BATCHES}
    server.set("/gdeltv2/masterfilelist.txt", Reply(_list(server, batches)))
    for name, body in batches.items():
        server.set(f"/gdeltv2/{name}.export.CSV.zip", Reply(body))
    source = f"""
[[sources]]
name = "gdelt-backfill"
format = "gdelt"
url = "{server.url("/gdeltv2/masterfilelist.txt")}"
since = 2022-02-20
"""
    config, db = _config(tmp_path, source), tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    assert [r.path for r in server.requests if r.path.endswith(".zip")] == ["/gdeltv2/20220221190000.export.CSV.zip"]


def _failed(db: Path, source: str) -> list[tuple[object, ...]]:
    return rows(db, "SELECT path, error FROM ingest_files WHERE source = ? AND status = 'failed'", [source])  # type: ignore[arg-type]


def test_wrong_checksum_is_never_ingested_and_the_other_sources_run(server: FeedServer, tmp_path: Path) -> None:
    _gdelt(server, **{BATCHES[1]: "0123456789abcdef0123456789abcdef"})
    config, db = _config(tmp_path, _gdelt_source(server), LOCAL), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "MD5" in result.err and "differs from the list's 0123456789abcdef0123456789abcdef" in result.err
    assert "3 attempts" in result.err  # retried: a bad body may be a broken transfer
    # the good batch and the local source loaded; the bad one nowhere, not even as .part
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'curated'") == 9
    loaded = rows(db, "SELECT path FROM ingest_files WHERE source = 'gdelt-live' AND status = 'loaded'")
    assert [Path(str(p[0])).name for p in loaded] == [f"{BATCHES[0]}.export.CSV.zip"]
    assert not list((tmp_path / "downloads" / "gdelt-live").glob(f"{BATCHES[1]}*"))
    [(where, error)] = _failed(db, "gdelt-live")
    assert where == server.url("/gdeltv2/lastupdate.txt") and "MD5" in str(error)
    # fixed on the server: the next run fetches just that batch
    _gdelt(server)
    again = _nightly(config, db)
    assert again.code == 0, again.err
    assert [r.path for r in server.requests if r.path.endswith(".zip")][-1] == f"/gdeltv2/{BATCHES[1]}.export.CSV.zip"
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'gdelt-live' AND status = 'loaded'") == 2


def test_truncated_download_is_retried_and_never_ingested_half(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    name = f"/gdeltv2/{BATCHES[0]}.export.CSV.zip"
    server.set(name, Reply(batches[BATCHES[0]], cut_at=100), Reply(batches[BATCHES[0]]))
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 0, result.err
    assert len(server.hits(name)) == 2
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'gdelt-live' AND status = 'loaded'") == 2


def test_truncated_every_time_fails_the_source_with_a_reason(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    server.set(f"/gdeltv2/{BATCHES[0]}.export.CSV.zip", Reply(batches[BATCHES[0]], cut_at=100))
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "broke off" in result.err
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'gdelt-live' AND status = 'loaded'") == 0
    assert not list((tmp_path / "downloads" / "gdelt-live").glob("*.zip*"))
    assert scalar(db, "SELECT count(*) FROM fetch_state WHERE item LIKE 'list:%'") == 0  # the list is asked again


def test_retry_after_is_respected(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    name = f"/gdeltv2/{BATCHES[0]}.export.CSV.zip"
    server.set(name, Reply(b"slow down", 429, {"Retry-After": "1"}), Reply(batches[BATCHES[0]]))
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    first, second = server.hits(name)
    assert second is not first and len(server.hits(name)) == 2


def test_retry_after_beyond_the_limit_fails_now(server: FeedServer, tmp_path: Path) -> None:
    _gdelt(server)
    server.set("/gdeltv2/lastupdate.txt", Reply(b"maintenance", 503, {"Retry-After": "3600"}))
    config, db = _config(tmp_path, _gdelt_source(server), LOCAL), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "retry after 3600 s, longer than fetch.max_wait_seconds (5)" in result.err
    assert len(server.hits("/gdeltv2/lastupdate.txt")) == 1  # no waiting an hour, no hammering
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'curated'") == 9


@pytest.mark.slow  # waits out a real timeout
def test_slow_server_times_out(server: FeedServer, tmp_path: Path) -> None:
    _gdelt(server)
    server.set("/gdeltv2/lastupdate.txt", Reply(b"", delay=3))
    config = _config(tmp_path, _gdelt_source(server), LOCAL, extra=FAST.replace("retries = 2", "retries = 1"))
    db = tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "no answer within 2 s (fetch.timeout_seconds) (2 attempts)" in result.err
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'curated'") == 9


def test_source_down_fails_alone(tmp_path: Path) -> None:
    with serve() as gone:
        url = gone.url("/gdeltv2/lastupdate.txt")
    source = f'[[sources]]\nname = "gdelt-live"\nformat = "gdelt"\nurl = "{url}"\n'
    config, db = _config(tmp_path, source, LOCAL), tmp_path / "store.duckdb"
    result = _nightly(config, db, "--json")
    assert result.code == 3
    assert "cannot connect" in result.err
    summary = json.loads(result.out)
    [failed] = [f for f in summary["files"] if f["status"] == "failed"]
    assert failed["source"] == "gdelt-live" and "cannot connect" in failed["error"]
    assert summary["inserted"] >= 9  # the local source loaded


def test_not_found_is_not_retried(server: FeedServer, tmp_path: Path) -> None:
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "HTTP 404 Not Found" in result.err
    assert len(server.requests) == 1


def test_client_waits_as_told_and_backs_off_with_jitter(server: FeedServer, tmp_path: Path) -> None:
    from ingest.feeds.http import Client, Policy

    server.set("/a", Reply(b"", 429, {"Retry-After": "7"}), Reply(b"", 503), Reply(b"", 503), Reply(b"ok"))
    waits: list[float] = []
    with Client(Policy(timeout=2, retries=3, backoff=2.0, max_wait=60), sleep=waits.append) as client:
        assert client.get(server.url("/a")).content == b"ok"
    assert waits[0] == 7.0  # Retry-After, exactly
    assert 2.0 <= waits[1] <= 4.0 and 4.0 <= waits[2] <= 8.0  # 2 s doubling per attempt, jitter down to half
    date = datetime.fromtimestamp(time.time() + 30, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    server.set("/b", Reply(b"", 503, {"Retry-After": date}), Reply(b"ok"))
    waits.clear()
    with Client(Policy(timeout=2, retries=1, backoff=2.0, max_wait=60), sleep=waits.append) as client:
        assert client.get(server.url("/b")).content == b"ok"
    assert 25 <= waits[0] <= 31  # an HTTP date, as seconds from now


# MISP feeds ------------------------------------------------------------------------------

FEED = FIXTURES / "misp" / "good" / "feed"


def _misp(server: FeedServer, manifest: dict[str, object] | None = None, etag: str | None = "m1") -> dict[str, object]:
    manifest = manifest or json.loads((FEED / "manifest.json").read_text("utf-8"))
    server.set("/feed/manifest.json", Reply(json.dumps(manifest).encode(), etag=etag))
    for event in manifest:
        server.set(f"/feed/{event}.json", Reply((FEED / f"{event}.json").read_bytes()))
    return manifest


def _misp_source(server: FeedServer) -> str:
    return f'[[sources]]\nname = "circl"\nformat = "misp"\nurl = "{server.url("/feed")}"\n'


def test_misp_feed_fetches_new_and_changed_events_once(server: FeedServer, tmp_path: Path) -> None:
    manifest = _misp(server)
    config, db = _config(tmp_path, _misp_source(server)), tmp_path / "store.duckdb"
    first = _nightly(config, db)
    assert first.code == 0, first.err
    local = tmp_path / "local.duckdb"
    assert run("ingest", FEED, "--db", local).code == 0
    wanted = "SELECT source_ref, title, started_at, content_hash FROM incidents ORDER BY source_ref"
    assert rows(db, wanted) == rows(local, wanted)
    assert len(rows(db, wanted)) > 0
    # unchanged manifest: 304, nothing fetched
    before = len(server.requests)
    assert _nightly(config, db).code == 0
    assert [r.path for r in server.requests[before:]] == ["/feed/manifest.json"]
    # one event's timestamp moves on: only it is fetched again
    changed = next(iter(manifest))
    entry = dict(manifest[changed])  # type: ignore[call-overload]
    entry["timestamp"] = int(str(entry["timestamp"])) + 60  # PyMISP writes ints, MISP strings: both taken
    _misp(server, {**manifest, changed: entry}, etag="m2")
    before = len(server.requests)
    assert _nightly(config, db).code == 0
    assert [r.path for r in server.requests[before:]] == ["/feed/manifest.json", f"/feed/{changed}.json"]
    versions = dict(rows(db, "SELECT item, version FROM fetch_state WHERE source = 'circl' AND item NOT LIKE 'list:%'"))
    assert versions[changed] == str(entry["timestamp"])


def test_misp_event_cut_short_is_retried_then_failed(server: FeedServer, tmp_path: Path) -> None:
    manifest = _misp(server)
    first, second = sorted(manifest, key=lambda k: int(str(manifest[k]["timestamp"])))  # type: ignore[index]
    body = (FEED / f"{first}.json").read_bytes()
    server.set(f"/feed/{first}.json", Reply(body[: len(body) // 2]))  # no error, just half a JSON document
    config, db = _config(tmp_path, _misp_source(server)), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "not whole JSON" in result.err and "(3 attempts)" in result.err
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'circl' AND status = 'loaded'") == 0
    # the source stops at its first failed download: the next run resumes there, no gaps
    _misp(server, etag="m2")
    assert _nightly(config, db).code == 0
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'circl' AND status = 'loaded'") == 2
    assert second in {str(r[0]) for r in rows(db, "SELECT item FROM fetch_state WHERE source = 'circl'")}


@pytest.mark.parametrize(
    ("path", "body", "kind", "message"),
    [
        (
            "/gdeltv2/lastupdate.txt",
            b"<html><body>Welcome</body></html>\n",
            "gdelt",
            "is not a GDELT file list (size md5 url per line): line 1",
        ),
        ("/feed/manifest.json", b'["not", "a", "manifest"]', "misp", "is not a MISP manifest"),
        ("/feed/manifest.json", b'{"d5e6f7a8": {"timestamp": "soon"}}', "misp", "has no event uuid and timestamp"),
        ("/feed/manifest.json", b"{", "misp", "is not JSON"),
    ],
)
def test_a_list_or_manifest_that_is_not_one(
    server: FeedServer, tmp_path: Path, path: str, body: bytes, kind: str, message: str
) -> None:
    server.set(path, Reply(body))
    source = _gdelt_source(server) if kind == "gdelt" else _misp_source(server)
    config, db = _config(tmp_path, source), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert message in result.err


# TAXII 2.1 ---------------------------------------------------------------------------------

BUNDLE = FIXTURES / "stix" / "good" / "cert-ukraine-2022-02.json"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
OBJECTS = f"/taxii2/api1/collections/{COLLECTION}/objects/"
PAGED = FAST + "page_size = 4\n"
INCIDENTS = "SELECT source_ref, title, started_at, content_hash FROM incidents ORDER BY source_ref"


def _objects() -> list[dict[str, object]]:
    return list(json.loads(BUNDLE.read_text("utf-8"))["objects"])


def _taxii_source(server: FeedServer, auth: str = "") -> str:
    return (
        f'[[sources]]\nname = "partner"\nformat = "stix"\nurl = "{server.url("/taxii2/api1/")}"\n'
        f'collection = "{COLLECTION}"\n{auth}'
    )


def _local_incidents(tmp_path: Path) -> list[tuple[object, ...]]:
    local = tmp_path / "local.duckdb"
    assert run("ingest", BUNDLE, "--db", local).code == 0
    return rows(local, INCIDENTS)


@pytest.mark.parametrize("use_next", [True, False], ids=["next", "added_after"])
def test_taxii_collection_pages_into_one_bundle_then_only_what_is_new(
    server: FeedServer, tmp_path: Path, use_next: bool
) -> None:
    collection = Taxii(_objects(), datetime(2022, 2, 16, tzinfo=UTC), use_next=use_next)
    server.routes[OBJECTS] = collection
    config, db = _config(tmp_path, _taxii_source(server), extra=PAGED), tmp_path / "store.duckdb"
    first = _nightly(config, db)
    assert first.code == 0, first.err
    assert rows(db, INCIDENTS) == _local_incidents(tmp_path)  # relationships met their incidents across pages
    pages = server.hits(OBJECTS)
    assert len(pages) == 9 and all(p.query["limit"] == "4" for p in pages)  # 35 objects, 4 a page
    assert all(p.headers["accept"] == "application/taxii+json;version=2.1" for p in pages)
    assert ("next" in pages[1].query) is use_next
    newest = collection.added[-1][0]
    assert scalar(db, "SELECT version FROM fetch_state WHERE source = 'partner' AND item = 'added_after'") == newest
    # nothing new: one request from where the last run stopped, no file
    before = len(server.requests)
    assert _nightly(config, db).code == 0
    [again] = server.requests[before:]
    assert again.query["added_after"] == newest
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'partner'") == 1
    # a new incident is added to the collection: only it is fetched
    extra = {
        "type": "incident",
        "spec_version": "2.1",
        "id": "incident--6f1c3b4e-2f7a-4c59-9d1e-0a5b7c9e1f20",
        "created": "2022-02-25T08:00:00.000Z",
        "modified": "2022-02-25T08:00:00.000Z",
        "name": "DDoS on Ukrainian bank websites, second wave",
    }
    collection.add([extra], datetime(2022, 2, 26, tzinfo=UTC))
    before = len(server.requests)
    assert _nightly(config, db).code == 0
    assert [r.query.get("added_after") for r in server.requests[before:]] == [newest]
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source_ref = ?", [extra["id"]]) == 1  # type: ignore[list-item]


def test_taxii_says_more_but_gives_no_way_on(server: FeedServer, tmp_path: Path) -> None:
    stuck = json.dumps({"more": True, "objects": _objects()[:2]}).encode()
    server.set(OBJECTS, Reply(stuck, headers={"Content-Type": "application/taxii+json;version=2.1"}))
    config, db = _config(tmp_path, _taxii_source(server), extra=PAGED), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "says more but gives no next and no new X-TAXII-Date-Added-Last" in result.err
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'partner' AND status = 'loaded'") == 0
    assert not list((tmp_path / "downloads" / "partner").glob("*"))


BASIC = 'username_env = "PARTNER_USER"\npassword_env = "PARTNER_PASSWORD"\n'


def test_taxii_credentials_come_from_the_environment_and_are_never_shown(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-Pa55-7f9c"
    server.routes[OBJECTS] = Taxii(_objects(), datetime(2022, 2, 16, tzinfo=UTC), credentials=("cert-ua", secret))
    config = _config(tmp_path, _taxii_source(server, "[sources.auth]\n" + BASIC), extra=PAGED)
    db = tmp_path / "store.duckdb"
    # not set: the run names the variable, fetches nothing, goes on
    missing = _nightly(config, db)
    assert missing.code == 3 and "environment variable PARTNER_USER is not set" in missing.err
    assert not server.requests
    # wrong: 401, said plainly, not retried
    monkeypatch.setenv("PARTNER_USER", "cert-ua")
    monkeypatch.setenv("PARTNER_PASSWORD", "wrong")
    wrong = _nightly(config, db)
    assert wrong.code == 3 and "HTTP 401 Unauthorized: check the source's [sources.auth] credentials" in wrong.err
    assert len(server.requests) == 1
    # right: loaded, and the secret is nowhere cyberlog writes
    monkeypatch.setenv("PARTNER_PASSWORD", secret)
    right = run("--verbose", "nightly", "--config", config, "--db", db, "--json")
    assert right.code == 0, right.err
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'partner'") == len(_local_incidents(tmp_path))
    everything = " ".join(
        str(v)
        for table in ("ingest_files", "fetch_state", "ingest_runs", "rejects")
        for row in rows(db, f"SELECT * FROM {table}")
        for v in row
    )
    for text in (missing.out, missing.err, wrong.out, wrong.err, right.out, right.err, everything):
        assert secret not in text
    assert secret.encode() not in db.read_bytes()


def test_token_from_a_file_goes_in_the_header(server: FeedServer, tmp_path: Path) -> None:
    (tmp_path / "misp.key").write_text("AbCdEf0123456789\n", encoding="utf-8")
    _misp(server)
    auth = '[sources.auth]\ntoken_file = "misp.key"\nscheme = ""\n'
    config, db = _config(tmp_path, _misp_source(server) + auth), tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    assert {r.headers.get("authorization") for r in server.requests} == {"AbCdEf0123456789"}


# a run killed mid-download, the dry run, the config --------------------------------------


def test_run_killed_mid_download_resumes_without_gaps_or_duplicates(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    slow = f"/gdeltv2/{BATCHES[1]}.export.CSV.zip"
    server.set(slow, Reply(batches[BATCHES[1]], trickle=0.25, piece=64))
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest", "nightly", "--config", str(config), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while server.sent.get(slow, 0) < 128 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert child.poll() is None, child.communicate()[1].decode()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert 0 < server.sent.get(slow, 0) < len(batches[BATCHES[1]])  # killed with the body half sent
    kept = tmp_path / "downloads" / "gdelt-live"
    assert not (kept / f"{BATCHES[1]}.export.CSV.zip").exists()  # only ever a .part
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE path LIKE ?", [f"%{BATCHES[1]}%"]) == 0
    # the next run: the first batch is known, the second fetched whole; the store equals a clean load
    server.set(slow, Reply(batches[BATCHES[1]]))
    result = _nightly(config, db)
    assert result.code == 0, result.err
    assert rows(db, EVENTS) == _local_events(tmp_path)
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE source = 'gdelt-live' AND status = 'loaded'") == 2
    assert not list(kept.glob("*.part"))


def test_dry_run_lists_what_would_be_fetched_and_changes_nothing(server: FeedServer, tmp_path: Path) -> None:
    _gdelt(server)
    _misp(server)
    server.routes[OBJECTS] = Taxii(_objects(), datetime(2022, 2, 16, tzinfo=UTC))
    sources = (_gdelt_source(server), _misp_source(server), _taxii_source(server), LOCAL)
    config, db = _config(tmp_path, *sources, extra=PAGED), tmp_path / "store.duckdb"
    plan = _nightly(config, db, "--dry-run")
    assert plan.code == 0, plan.err
    lines = plan.out.splitlines()
    assert sum(line.startswith("would fetch   gdelt-live (gdelt): ") for line in lines) == 2
    assert sum(line.startswith("would fetch   circl (misp): ") for line in lines) == 2
    assert any(line.startswith("would fetch   partner (stix): ") and "all objects" in line for line in lines)
    assert any(line.startswith("would ingest  curated (incidents_csv): ") for line in lines)
    assert not db.exists() and not (tmp_path / "downloads").exists()
    assert not [r for r in server.requests if r.path.endswith((".zip", "-4b5c6d7e8f9a.json", "-7e8f9a0b1c2d.json"))]
    as_json = json.loads(_nightly(config, db, "--dry-run", "--json").out)
    assert {item["source"] for item in as_json["fetch"]} == {"gdelt-live", "circl", "partner"}
    # after a real run there is nothing left to do
    assert _nightly(config, db).code == 0
    after = _nightly(config, db, "--dry-run")
    assert after.code == 0 and after.out == ""
    assert "nothing new to fetch or ingest" in after.err


def test_dry_run_says_which_source_cannot_be_reached(tmp_path: Path) -> None:
    with serve() as gone:
        url = gone.url("/feed")
    config = _config(tmp_path, f'[[sources]]\nname = "circl"\nformat = "misp"\nurl = "{url}"\n', LOCAL)
    result = _nightly(config, tmp_path / "store.duckdb", "--dry-run")
    assert result.code == 3
    assert "failed circl: " in result.err and "cannot connect" in result.err
    assert "would ingest  curated" in result.out


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            'format = "gdelt"\npath = "x/*"\nurl = "https://data.gdeltproject.org/gdeltv2/lastupdate.txt"',
            "give path (local files) or url (a remote source), not both or neither",
        ),
        ('format = "gdelt"', "give path (local files) or url (a remote source), not both or neither"),
        ('format = "acled"\nurl = "https://example.org/acled.csv"', "format acled has no remote kind"),
        ('format = "misp"\nurl = "ftp://example.org/feed"', "is not an http(s) URL"),
        ('format = "misp"\nurl = "https://user:hunter2@example.org/feed"', "url carries credentials"),
        ('format = "stix"\nurl = "https://example.org/taxii2/api1/"', "needs collection"),
        ('format = "misp"\nurl = "https://example.org/feed"\ncollection = "x"', "needs collection, and only it"),
        ('format = "gdelt"\nurl = "http://data.gdeltproject.org/gdeltv2/masterfilelist.txt"', "give since"),
        ('format = "misp"\npath = "feed/*"\nsince = 2022-01-01', "since: only for a source with a url"),
        (
            'format = "misp"\nurl = "https://example.org/feed"\n[sources.auth]\npassword_env = "P"',
            "give username_env (with password_env or password_file) or token_env or token_file",
        ),
        (
            'format = "misp"\nurl = "https://example.org/feed"\n[sources.auth]\ntoken = "abc"',
            "Extra inputs are not permitted",
        ),
    ],
)
def test_remote_source_config_mistakes_are_usage_errors(tmp_path: Path, source: str, message: str) -> None:
    config = _config(tmp_path, f'[[sources]]\nname = "remote"\n{source}\n', extra="")
    result = _nightly(config, tmp_path / "store.duckdb")
    assert result.code == 2
    assert message in result.err
    assert "hunter2" not in result.err


def test_downloads_removed_once_loaded_when_keep_is_false(server: FeedServer, tmp_path: Path) -> None:
    _misp(server)
    config = _config(tmp_path, _misp_source(server), extra=FAST + "keep = false\n")
    db = tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    assert not list((tmp_path / "downloads" / "circl").glob("*.json"))
    assert scalar(db, "SELECT count(*) FROM fetch_state WHERE source = 'circl' AND item NOT LIKE 'list:%'") == 2
    # state, not the files, says what was fetched: nothing is fetched again
    before = len(server.requests)
    assert _nightly(config, db).code == 0
    assert [r.path for r in server.requests[before:]] == ["/feed/manifest.json"]
    status = json.loads(run("status", "--db", db, "--json").out)
    [circl] = [s for s in status["sources"] if s["source"] == "circl"]
    assert circl["last_fetched_at"] is not None and circl["files_loaded"] == 2


# real files, served as their feeds publish them (skipped without ../shared/realworld) --------

REAL = pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is not beside this checkout")


@REAL
def test_real_gdelt_batch_through_its_file_list(server: FeedServer, tmp_path: Path) -> None:
    real = REALWORLD / "gdelt" / "20191024143000.export.CSV"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(real.name, real.read_bytes())
    body = buffer.getvalue()
    url = server.url("/gdeltv2/20191024143000.export.CSV.zip")
    listed = f"{len(body)} {hashlib.md5(body).hexdigest()} {url}\n12 {'0' * 32} {url.replace('export', 'mentions')}\n"
    server.set("/gdeltv2/lastupdate.txt", Reply(listed.encode()))
    server.set("/gdeltv2/20191024143000.export.CSV.zip", Reply(body))
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    assert _nightly(config, db).code in (0, 3)  # a real batch may hold records cyberlog rejects, with reasons
    local = tmp_path / "local.duckdb"
    run("ingest", real, "--format", "gdelt", "--db", local)
    assert rows(db, EVENTS) == rows(local, EVENTS) and len(rows(db, EVENTS)) > 1000


@REAL
def test_real_misp_event_through_a_feed(server: FeedServer, tmp_path: Path) -> None:
    real = REALWORLD / "misp" / "57c4445b-c548-4654-af0b-4be3950d210f.json"
    event = json.loads(real.read_text("utf-8"))["Event"]
    manifest = {event["uuid"]: {"info": event["info"], "timestamp": event["timestamp"], "Orgc": event.get("Orgc")}}
    server.set("/feed/manifest.json", Reply(json.dumps(manifest).encode()))
    server.set(f"/feed/{event['uuid']}.json", Reply(real.read_bytes()))
    config, db = _config(tmp_path, _misp_source(server)), tmp_path / "store.duckdb"
    result = _nightly(config, db, "--json")
    local = tmp_path / "local.duckdb"
    expected = json.loads(run("ingest", real, "--db", local, "--json").out)
    assert json.loads(result.out)["inserted"] == expected["inserted"]
    assert rows(db, INCIDENTS) == rows(local, INCIDENTS)


def test_credentials_never_go_to_another_host_a_list_names(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GDELT_TOKEN", "tok-123")
    body = _zip(BATCHES[0])
    with serve() as elsewhere:
        url = elsewhere.url(f"/gdeltv2/{BATCHES[0]}.export.CSV.zip")
        elsewhere.set(f"/gdeltv2/{BATCHES[0]}.export.CSV.zip", Reply(body))
        server.set("/gdeltv2/lastupdate.txt", Reply(f"{len(body)} {hashlib.md5(body).hexdigest()} {url}\n".encode()))
        auth = '[sources.auth]\ntoken_env = "GDELT_TOKEN"\n'
        config, db = _config(tmp_path, _gdelt_source(server) + auth), tmp_path / "store.duckdb"
        assert _nightly(config, db).code == 0
        assert server.requests[0].headers.get("authorization") == "Bearer tok-123"
        [fetched] = elsewhere.requests
        assert "authorization" not in fetched.headers


def test_a_batch_listed_twice_is_fetched_once(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    listed = _list(server, batches)
    server.set("/gdeltv2/lastupdate.txt", Reply(listed + listed))
    config, db = _config(tmp_path, _gdelt_source(server)), tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    assert len([r for r in server.requests if r.path.endswith(".zip")]) == 2


def test_misp_uuid_spelled_in_capitals_is_fetched_as_spelled(server: FeedServer, tmp_path: Path) -> None:
    manifest = json.loads((FEED / "manifest.json").read_text("utf-8"))
    event = next(iter(manifest))
    server.set("/feed/manifest.json", Reply(json.dumps({event.upper(): manifest[event]}).encode()))
    server.set(f"/feed/{event.upper()}.json", Reply((FEED / f"{event}.json").read_bytes()))
    config, db = _config(tmp_path, _misp_source(server)), tmp_path / "store.duckdb"
    assert _nightly(config, db).code == 0
    assert rows(db, "SELECT item FROM fetch_state WHERE item NOT LIKE 'list:%'") == [(event,)]


def test_a_download_folder_that_cannot_be_written_fails_the_source(server: FeedServer, tmp_path: Path) -> None:
    _misp(server)
    (tmp_path / "downloads").write_text("a file where the folder should be", "utf-8")
    config, db = _config(tmp_path, _misp_source(server), LOCAL), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "cannot write to" in result.err and "downloads" in result.err
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'curated'") == 9


def test_a_missing_or_empty_credentials_file_is_named(server: FeedServer, tmp_path: Path) -> None:
    _misp(server)
    auth = '[sources.auth]\ntoken_file = "misp.key"\nscheme = ""\n'
    config, db = _config(tmp_path, _misp_source(server) + auth), tmp_path / "store.duckdb"
    missing = _nightly(config, db)
    assert missing.code == 3 and "cannot read the credentials file" in missing.err and "misp.key" in missing.err
    (tmp_path / "misp.key").write_text("\n", "utf-8")
    empty = _nightly(config, db)
    assert empty.code == 3 and "misp.key is empty" in empty.err
    assert not server.requests


@pytest.mark.slow  # waits out a real time limit
def test_a_download_slower_than_its_limit_is_abandoned(server: FeedServer, tmp_path: Path) -> None:
    batches = _gdelt(server)
    slow = f"/gdeltv2/{BATCHES[0]}.export.CSV.zip"
    server.set(slow, Reply(batches[BATCHES[0]], trickle=0.2, piece=64))
    extra = FAST.replace("retries = 2", "retries = 0") + "download_seconds = 0.5\n"
    config, db = _config(tmp_path, _gdelt_source(server), extra=extra), tmp_path / "store.duckdb"
    result = _nightly(config, db)
    assert result.code == 3
    assert "download took more than 0.5 s (fetch.download_seconds)" in result.err
    assert not list((tmp_path / "downloads" / "gdelt-live").glob("*.zip*"))
