"""Hostile inputs, made at test time: FIFOs, devices, links, folders named like files, MISP
feed folders that point outside themselves, zips with members named outside or as links,
files that are not what their name says, and decompression bombs. Each is a failed file (or
a reject) with its reason; the run never hangs, reads nothing outside, and goes on."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, GOOD, ROOT, rows, run, scalar

from ingest.inputs import archives
from ingest.load import staging

INCIDENTS = FIXTURES / GOOD["incidents_csv"]  # 9 incidents
FEED = FIXTURES / "misp" / "good" / "feed"
EVENT = "d5e6f7a8-b9c0-4d1e-8f2a-4b5c6d7e8f9a"  # one of the feed's two events
NOT_A_ZIP = "is not a zip archive (named .zip, but its first bytes are not a zip's)"


def _files(result_out: str) -> list[tuple[str, str, str | None]]:
    return [(Path(f["path"]).name, f["status"], f["error"]) for f in json.loads(result_out)["files"]]


def _subprocess(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`cyberlog ARGS` in its own process, killed (failing the test) if it hangs."""
    command = [sys.executable, "-m", "ingest", *map(str, args)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


# only regular files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["20220215171500.export.CSV", "incidents.csv"])
def test_a_fifo_named_like_an_input_is_refused_without_blocking(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would wait forever
    result = _subprocess("ingest", fifo, INCIDENTS, "--db", tmp_path / "s.duckdb", "--json")
    assert result.returncode == 3, result.stderr
    assert _files(result.stdout) == [
        (name, "failed", "is a FIFO, not a regular file"),
        (INCIDENTS.name, "loaded", None),
    ]


def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path):
    endless = tmp_path / "incidents.csv"
    endless.symlink_to("/dev/zero")
    result = _subprocess("ingest", endless, INCIDENTS, "--db", tmp_path / "s.duckdb", "--json")
    assert result.returncode == 3, result.stderr
    assert _files(result.stdout) == [
        ("incidents.csv", "failed", "is a character device, not a regular file"),
        (INCIDENTS.name, "loaded", None),
    ]


def test_a_link_to_itself_and_a_folder_named_like_a_file_are_failed_files(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    folder = tmp_path / "incidents.csv"
    folder.mkdir()
    db = tmp_path / "s.duckdb"
    result = run("ingest", loop, folder, INCIDENTS, "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    assert _files(result.out) == [
        ("loop.csv", "failed", "is a symlink loop"),
        ("incidents.csv", "failed", "is a directory, not a regular file"),
        (INCIDENTS.name, "loaded", None),
    ]
    assert scalar(db, "SELECT count(*) FROM incidents") == 9


# only inside the MISP feed folder -----------------------------------------------------


def _feed(tmp_path: Path, manifest: object | None = None) -> Path:
    feed = shutil.copytree(FEED, tmp_path / "feed")
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (feed / "manifest.json").write_text(text, "utf-8")
    return feed


def _outside_event(tmp_path: Path) -> None:
    """A good MISP event beside the feed folder, as `../secret.json` would name it."""
    shutil.copy(FEED / f"{EVENT}.json", tmp_path / "secret.json")


@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        (
            {"../secret": {"timestamp": "1645660800"}},
            "manifest.json: entry '../secret' has no event uuid and timestamp: the feed folder is not read",
        ),
        (
            "{",
            "manifest.json is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
            "(char 1)): the feed folder is not read",
        ),
        (
            ["not", "a", "manifest"],
            "manifest.json is not a MISP manifest (a JSON object keyed by event uuid): the feed folder is not read",
        ),
        (
            "[" * 100_000 + "]" * 100_000,
            "manifest.json is not a MISP manifest (JSON nested too deep): the feed folder is not read",
        ),
        (
            '{"pad": "' + "x" * (64 << 20) + '"}',
            f"manifest.json is {(64 << 20) + 11:,} bytes, more than the {64 << 20:,} a MISP manifest may be "
            "(about 400,000 events): the feed folder is not read",
        ),
    ],
    ids=["dot-dot-key", "not-json", "not-an-object", "too-deep", "too-big"],
)
def test_a_feed_manifest_that_cannot_be_followed_fails_the_folder_and_reads_nothing(tmp_path, manifest, error):
    _outside_event(tmp_path)
    feed = _feed(tmp_path, manifest)
    db = tmp_path / "s.duckdb"
    result = run("ingest", feed, INCIDENTS, "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    assert _files(result.out) == [("manifest.json", "failed", error), (INCIDENTS.name, "loaded", None)]
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'misp'") == 0
    again = run("ingest", feed, "--format", "misp", "--db", db, "--json")  # the format named: the same refusal
    assert _files(again.out) == [("manifest.json", "failed", error)]


def test_an_event_file_linked_outside_the_feed_folder_is_not_read(tmp_path):
    _outside_event(tmp_path)
    feed = _feed(tmp_path)
    (feed / f"{EVENT}.json").unlink()
    (feed / f"{EVENT}.json").symlink_to(tmp_path / "secret.json")
    db = tmp_path / "s.duckdb"
    result = run("ingest", feed, "--db", db, "--json")
    assert _files(result.out) == [
        (
            "manifest.json",
            "failed",
            f"{EVENT}.json leads outside the feed folder (a symbolic link): the feed folder is not read",
        )
    ]
    assert scalar(db, "SELECT count(*) FROM incidents") == 0


def test_a_symlink_loop_in_a_feed_folder_fails_that_event_only(tmp_path):
    feed = _feed(tmp_path)
    looped = feed / f"{EVENT}.json"
    looped.unlink()
    looped.symlink_to(looped)
    db = tmp_path / "s.duckdb"
    result = run("ingest", feed, "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    assert sorted(_files(result.out)) == [
        ("a8b9c0d1-e2f3-4a4b-9c5d-7e8f9a0b1c2d.json", "loaded", None),
        (f"{EVENT}.json", "failed", "is a symlink loop"),
    ]
    assert scalar(db, "SELECT count(*) FROM incidents") == 1


def test_an_event_file_holding_another_event_is_a_reject_saying_so(tmp_path):
    feed = _feed(tmp_path)
    other = "a8b9c0d1-e2f3-4a4b-9c5d-7e8f9a0b1c2d"
    held = (feed / f"{other}.json").read_text("utf-8").replace('"info": "', '"info": "Copy: ', 1)
    (feed / f"{EVENT}.json").write_text(held, "utf-8")  # named for one event, holding (a copy of) the other
    db = tmp_path / "s.duckdb"
    result = run("ingest", feed, "--db", db, "--json")
    assert result.code == 3
    assert rows(db, "SELECT path, reason FROM rejects") == [
        (
            str((feed / f"{EVENT}.json").resolve()),
            f"event uuid '{other}' differs from its file name {EVENT}.json in the MISP feed folder",
        )
    ]
    assert scalar(db, "SELECT count(*) FROM incidents") == 1


# archives ---------------------------------------------------------------------------


def _zip(path: Path, member: str | zipfile.ZipInfo, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return path


def _symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("incidents.csv")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16  # as `zip --symlinks` stores a link
    return info


@pytest.mark.parametrize(
    ("member", "error"),
    [
        (
            "../x.csv",
            "zip member '../x.csv' is named outside the archive ('..' or an absolute path): refused, nothing read",
        ),
        (
            "/tmp/cyberlog-escaped.csv",
            "zip member '/tmp/cyberlog-escaped.csv' is named outside the archive ('..' or an absolute path): "
            "refused, nothing read",
        ),
        (_symlink_member(), "zip member 'incidents.csv' is a symbolic link: refused, nothing read"),
    ],
    ids=["dot-dot", "absolute", "symlink"],
)
@pytest.mark.parametrize("named", [True, False], ids=["format-named", "sniffed"])
def test_a_zip_member_named_outside_or_a_link_is_refused(tmp_path, member, error, named):
    packed = _zip(tmp_path / "incidents.csv.zip", member, INCIDENTS.read_bytes())
    db = tmp_path / "s.duckdb"
    given = ["--format", "incidents_csv"] if named else []
    result = run("ingest", packed, INCIDENTS, *given, "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    assert _files(result.out) == [("incidents.csv.zip", "failed", error), (INCIDENTS.name, "loaded", None)]
    assert scalar(db, "SELECT count(*) FROM incidents") == 9
    assert not Path("/tmp/cyberlog-escaped.csv").exists() and not (tmp_path.parent / "x.csv").exists()


@pytest.mark.parametrize("given", [["--format", "incidents_csv"], []], ids=["format-named", "sniffed"])
def test_a_zip_that_is_not_a_zip_is_a_failed_file_not_text(tmp_path, given):
    fake = tmp_path / "incidents.csv.zip"
    shutil.copy(INCIDENTS, fake)
    db = tmp_path / "s.duckdb"
    result = run("ingest", fake, *given, "--db", db, "--json")
    assert result.code == 3 and "Traceback" not in result.err
    assert _files(result.out) == [("incidents.csv.zip", "failed", NOT_A_ZIP)]
    assert scalar(db, "SELECT count(*) FROM incidents") == 0


def _declaring(path: Path, size: int) -> None:
    """Rewrite a one-member zip's declared unpacked size (local and central headers)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_a_zip_declaring_a_bomb_is_refused_before_a_byte_is_unpacked(tmp_path):
    packed = _zip(tmp_path / "incidents.csv.zip", "incidents.csv", INCIDENTS.read_bytes())
    _declaring(packed, 0x7FFF_FFFF)  # 2 GB declared; unpacking would find the real few KB
    db = tmp_path / "s.duckdb"
    result = run("ingest", packed, INCIDENTS, "--format", "incidents_csv", "--db", db, "--json")
    assert _files(result.out) == [
        ("incidents.csv.zip", "failed", archives.bomb(archives.limit_for(packed))),
        (INCIDENTS.name, "loaded", None),
    ]
    assert archives.bomb(archives.limit_for(packed)) == (
        "unpacks to more than 268,435,456 bytes (100x its compressed size): refused as a decompression bomb; "
        "unpack it yourself if it is genuine"
    )


@pytest.mark.parametrize("how", ["zip", "gzip"])
def test_a_bomb_stops_at_the_limit(tmp_path, monkeypatch, how):
    monkeypatch.setattr(archives, "MIN_LIMIT", 1 << 20)  # read at call time: the rule at a size a test affords
    header = INCIDENTS.read_bytes().split(b"\n", 1)[0] + b"\n"
    content = header + b" " * (20 << 20)  # 20 MB of blanks, a few KB packed
    if how == "zip":
        bomb = _zip(tmp_path / "incidents.csv.zip", "incidents.csv", content)
    else:
        bomb = tmp_path / "incidents.csv.gz"
        bomb.write_bytes(gzip.compress(content, 9))
    limit = archives.limit_for(bomb)
    written: list[int] = []
    copy = archives._copy

    def watched(source, target, cap, path):
        try:
            copy(source, target, cap, path)
        finally:
            written.append(target.stat().st_size)

    monkeypatch.setattr(archives, "_copy", watched)
    db = tmp_path / "s.duckdb"
    result = run("ingest", bomb, INCIDENTS, "--format", "incidents_csv", "--db", db, "--json")
    assert _files(result.out) == [(bomb.name, "failed", archives.bomb(limit)), (INCIDENTS.name, "loaded", None)]
    if how == "zip":
        assert written == []  # its declared size alone refused it
    else:
        # gzip's own size field is unreliable: counted while unpacked, and stopped within the limit
        assert len(written) == 1 and 0 < written[0] <= limit


def test_a_manifest_linked_outside_the_feed_folder_is_not_followed(tmp_path):
    feed = _feed(tmp_path)
    shutil.move(feed / "manifest.json", tmp_path / "elsewhere.json")
    (feed / "manifest.json").symlink_to(tmp_path / "elsewhere.json")
    result = run("ingest", feed, "--db", tmp_path / "s.duckdb", "--json")
    assert _files(result.out) == [
        (
            "manifest.json",
            "failed",
            "manifest.json leads outside the feed folder (a symbolic link): the feed folder is not read",
        )
    ]


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("20220215171500.export.CSV.zip", "20220215171500.export.CSV.zip"),
        ("../../etc/cron.d/x.json", "___etc_cron.d_x.json"),
        ("..", "_"),
        ("a\\..\\b.json", "a___b.json"),
        ("/abs/name.json", "_abs_name.json"),
        ("", "_"),
    ],
)
def test_a_downloaded_file_is_named_inside_the_source_folder(given, safe):
    from ingest.feeds import safe_name

    assert safe_name(given) == safe
    assert "/" not in safe and "\\" not in safe and ".." not in safe and not safe.startswith(".")


def test_a_fifo_a_nightly_glob_matches_is_a_failed_file_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "a.csv")
    shutil.copy(FIXTURES / GOOD["events_csv"], tmp_path / "b.csv")
    config = tmp_path / "cyberlog.toml"
    config.write_text('[[sources]]\nname = "a"\nformat = "events_csv"\npath = "*.csv"\n', "utf-8")
    result = _subprocess("nightly", "--config", config, "--db", tmp_path / "s.duckdb", "--json")
    assert result.returncode == 3, result.stderr
    assert _files(result.stdout) == [("a.csv", "failed", "is a FIFO, not a regular file"), ("b.csv", "loaded", None)]


def test_the_clean_copy_of_a_gzipped_log_stops_at_the_bomb_limit(tmp_path, monkeypatch):
    from ingest.errors import FileUnreadable
    from ingest.inputs import lines

    monkeypatch.setattr(archives, "MIN_LIMIT", 1 << 20)
    bomb = tmp_path / "eve.json.gz"
    bomb.write_bytes(gzip.compress(b"\x00\n" * (5 << 20), 9))  # NUL lines: what sends a log to the clean copy
    with pytest.raises(FileUnreadable) as refused:
        lines.clean_copy(bomb, tmp_path / "clean", "utf-8")
    assert refused.value.message == archives.bomb(archives.limit_for(bomb))
    assert (tmp_path / "clean").stat().st_size <= archives.limit_for(bomb)


ONE_HUGE_LINE = (
    "line of 100,000,000 bytes: DuckDB's reader takes lines under 2,000,000 (its first 65,536 characters are kept here)"
)


@pytest.mark.parametrize(("fmt", "name"), [("gdelt", "20220215000000.export.CSV.gz"), ("eve", "eve.json.gz")])
def test_one_huge_line_duckdb_reads_as_nothing_is_named_not_read_as_0(tmp_path, fmt, name):
    """DuckDB's reader gives no row and no error for 100 MB of NUL bytes with no newline: the
    file went through as "0 read". Now a file with something in it that gave no line is read
    through the clean copy, which names the line."""
    packed = tmp_path / name
    packed.write_bytes(gzip.compress(bytes(100_000_000), 1))
    result = run("-v", "ingest", packed, "--format", fmt, "--db", tmp_path / "s.duckdb", "--json")
    found = json.loads(result.out)["files"][0]
    assert (result.code, found["status"], found["records_read"], found["rejected"]) == (3, "loaded", 1, 1)
    assert f"{name}:1: (record): {ONE_HUGE_LINE}" in result.err


def test_one_huge_line_past_the_bomb_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MIN_LIMIT", 10 << 20)  # read at call time: the rule at a size a test affords
    packed = tmp_path / "20220215000000.export.CSV.gz"
    packed.write_bytes(gzip.compress(bytes(100_000_000), 1))
    result = run("ingest", packed, "--format", "gdelt", "--db", tmp_path / "s.duckdb", "--json")
    assert _files(result.out) == [(packed.name, "failed", archives.bomb(archives.limit_for(packed)))]


@pytest.mark.parametrize("fmt", ["gdelt", "eve"])
def test_a_gzip_duckdb_would_unpack_itself_is_bounded_before_it_reads_a_line(tmp_path, monkeypatch, fmt):
    """GDELT and the logs hand a .gz to DuckDB's own gunzip, which has no bound: good lines
    repeated into a bomb would be staged row by row for minutes. The gzip is counted first."""
    monkeypatch.setattr(archives, "MIN_LIMIT", 1 << 20)
    good = FIXTURES / GOOD[fmt]
    packed = tmp_path / ("20220215000000.export.CSV.gz" if fmt == "gdelt" else "eve.json.gz")
    line = good.read_bytes().splitlines(keepends=True)[0]
    packed.write_bytes(gzip.compress(line * ((20 << 20) // len(line)), 9))  # 20 MB of one good line
    read_by_duckdb: list[str] = []
    through = staging._through_clean_copy

    def watched(path, *args):
        read_by_duckdb.append(path.name)
        return through(path, *args)

    monkeypatch.setattr(staging, "_through_clean_copy", watched)
    db = tmp_path / "s.duckdb"
    result = run("ingest", packed, good, "--format", fmt, "--db", db, "--json")
    limit = archives.limit_for(packed)
    assert _files(result.out) == [(packed.name, "failed", archives.bomb(limit)), (good.name, "loaded", None)]
    assert packed.name not in read_by_duckdb and read_by_duckdb in ([good.name], [])
    assert scalar(db, "SELECT count(*) FROM ingest_files WHERE status = 'loaded'") == 1


def test_what_duckdb_reads_by_name_is_the_file_checked_not_what_is_swapped_in(tmp_path):
    """Between the check and DuckDB's own open, the path is replaced by a FIFO: DuckDB
    still reads the regular file checked (through its descriptor), and never blocks."""
    import duckdb

    from ingest.inputs.guard import pinned

    path = tmp_path / "20220215000000.export.CSV"
    path.write_text("checked\nlines\n", "utf-8")
    with pinned(path) as held:
        path.unlink()
        os.mkfifo(path)  # what a hostile neighbour swaps in
        read = duckdb.sql(
            "SELECT column0 FROM read_csv($path, columns = {'column0': 'VARCHAR'}, header = false)",
            params={"path": held},
        ).fetchall()
    assert read == [("checked",), ("lines",)]
    assert stat.S_ISFIFO(path.lstat().st_mode)
