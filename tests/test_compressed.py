"""Compressed inputs, for every format: gzip and one-file zips read as the file inside,
decompression bombs and archives that are not what they say refused with the reason."""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, GOOD, Result, run, scalar

from ingest import formats
from ingest.inputs import archives

STORED = (
    "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM diplomatic_events) + (SELECT count(*) FROM alerts)"
)


def test_every_format_has_a_compressed_input_test():
    assert sorted(GOOD) == formats.names()


def _packed(plain: Path, folder: Path, how: str, member: str | None = None) -> Path:
    if how == "gzip":
        packed = folder / (plain.name + ".gz")
        packed.write_bytes(gzip.compress(plain.read_bytes()))
    else:
        packed = folder / (plain.name + ".zip")
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member or plain.name, plain.read_bytes())
    return packed


@pytest.fixture(scope="module")
def plain_load(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Result, Path]]:
    """A format's plain good file ingested once (its result and store), for its gzip and its
    zip case to compare with; they only read the store."""
    folder = tmp_path_factory.mktemp("plain")
    done: dict[str, tuple[Result, Path]] = {}

    def load(name: str) -> tuple[Result, Path]:
        if name not in done:
            db = folder / f"{name}.duckdb"
            done[name] = run("ingest", FIXTURES / GOOD[name], "--db", db, "--json"), db
        return done[name]

    return load


@pytest.mark.parametrize("how", ["gzip", "zip"])
@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_compressed_file_loads_like_the_plain_one(db, tmp_path, plain_load, name, how):
    plain = FIXTURES / GOOD[name]
    packed = _packed(plain, tmp_path, how)
    first, as_plain = plain_load(name)
    second = run("ingest", packed, "--db", db, "--json")  # format detected through the archive
    assert first.code == second.code == 0, second.err
    assert scalar(db, STORED) == scalar(as_plain, STORED) > 0
    one, two = json.loads(first.out)["files"][0], json.loads(second.out)["files"][0]
    assert (two["format"], two["inserted"], two["rejected"]) == (one["format"], one["inserted"], one["rejected"])
    again = run("ingest", packed, "--db", db, "--json")  # the archive's own sha256 is the ledger's
    assert json.loads(again.out)["files"][0]["status"] == "skipped"


def test_a_gzip_bomb_is_refused_before_it_fills_the_disk(db, tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MIN_LIMIT", 1 << 20)  # the same rule, at a size a test can afford
    bomb = tmp_path / "events.csv.gz"
    header = (FIXTURES / GOOD["events_csv"]).read_bytes().split(b"\n", 1)[0] + b"\n"
    bomb.write_bytes(gzip.compress(header + b" " * (50 << 20), 9))  # 50 MB of blanks in ~50 KB
    result = run("ingest", bomb, "--format", "events_csv", "--db", db, "--json")
    assert result.code == 3
    error = json.loads(result.out)["files"][0]["error"]
    assert error.startswith("unpacks to more than") and "decompression bomb" in error
    assert not list(tmp_path.glob("**/events.csv"))  # nothing of it was left unpacked


def test_a_zip_member_named_outside_the_folder_is_refused_and_written_nowhere(db, tmp_path):
    plain = FIXTURES / GOOD["incidents_csv"]
    packed = _packed(plain, tmp_path, "zip", member="../../../../tmp/cyberlog-escaped.csv")
    result = run("ingest", packed, "--db", db, "--json")
    assert result.code == 3, result.err
    assert json.loads(result.out)["files"][0]["error"] == (
        "zip member '../../../../tmp/cyberlog-escaped.csv' is named outside the archive ('..' or an absolute "
        "path): refused, nothing read"
    )
    assert not Path("/tmp/cyberlog-escaped.csv").exists()
    assert scalar(db, "SELECT count(*) FROM incidents") == 0


def _encrypted(zip_path: Path) -> None:
    """Mark every member encrypted (general-purpose flag bit 0), as a password tool would."""
    data = bytearray(zip_path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + offset] |= 0x01
            at = data.find(signature, at + 4)
    zip_path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 10), "not a readable gzip file"),
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"garbage" * 10), "not a readable zip file"),
        (lambda p: p.write_bytes(gzip.compress(b"ref,title\n" * 1000)[:-20]), "not a readable gzip file"),
    ],
    ids=["bad-gzip", "bad-zip", "truncated-gzip"],
)
def test_a_broken_archive_is_a_failed_file_with_the_reason(db, tmp_path, make, message):
    broken = tmp_path / "feed.csv.gz"
    make(broken)
    good = FIXTURES / GOOD["events_csv"]
    result = run("ingest", broken, good, "--format", "events_csv", "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    files = json.loads(result.out)["files"]
    assert files[0]["status"] == "failed" and files[0]["error"].startswith(message), files[0]
    assert files[1]["status"] == "loaded"


def test_zips_of_several_files_or_encrypted_are_refused_with_what_to_do(db, tmp_path):
    several = tmp_path / "two.zip"
    with zipfile.ZipFile(several, "w") as archive:
        archive.writestr("a.csv", "x")
        archive.writestr("b.csv", "y")
    locked = _packed(FIXTURES / GOOD["events_csv"], tmp_path, "zip")
    _encrypted(locked)
    result = run("ingest", several, locked, "--format", "events_csv", "--db", db, "--json")
    errors = [f["error"] for f in json.loads(result.out)["files"]]
    assert errors == [
        "the zip holds 2 files; cyberlog reads zips of exactly one file (unpack it and ingest the files)",
        "the zip is encrypted: unpack it first",
    ]
    undetected = run("ingest", several, locked, "--db", db, "--json")  # no --format: sniffing
    assert undetected.code == 3 and "Traceback" not in undetected.err
    assert [f["status"] for f in json.loads(undetected.out)["files"]] == ["failed", "failed"]


@pytest.mark.parametrize("fmt", ["eve", "cef", "gdelt"])
@pytest.mark.parametrize("how", ["bad-gzip", "truncated-gzip"])
def test_a_broken_gzip_duckdb_reads_itself_is_a_failed_file_and_the_run_goes_on(db, tmp_path, fmt, how):
    """Logs and GDELT exports are gunzipped by DuckDB's own reader, not by cyberlog."""
    good = FIXTURES / GOOD[fmt]
    broken = tmp_path / f"broken-{good.name}.gz"
    if how == "bad-gzip":
        broken.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 10)
    else:
        broken.write_bytes(gzip.compress(good.read_bytes() * 50)[:-200])
    result = run("ingest", broken, good, "--format", fmt, "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    files = json.loads(result.out)["files"]
    assert files[0]["status"] == "failed" and files[0]["error"].startswith("not a readable gzip file: "), files[0]
    assert files[1]["status"] == "loaded"
