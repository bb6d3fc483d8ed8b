"""The hostile corpus, format by format: every file-level class of poison from the
poison-proof issue, built at test time beside each format's good fixture and ingested
together with it, `--format` named. Each poison ends exactly as a failed file with its
reason (or, for bytes a reader can take, rejects with a place), never "0 read", never a
hang; the good fixture after them always loads. (tests/test_hostile_files.py and
tests/test_hostile_json.py hold one case per class in depth; tests/test_fuzz.py fuzzes.)
"""

from __future__ import annotations

import gzip
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, GOOD, run

from ingest.inputs import archives

NOT_A_ZIP = "is not a zip archive (named .zip, but its first bytes are not a zip's)"
JSON_DOCUMENTS = {"ddosia", "misp", "stix", "veris"}  # one JSON document per file; the others are lines


@pytest.fixture
def deadline() -> Iterator[None]:
    """A hang fails the test in a minute instead of stopping the suite."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("the ingest hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _corpus(folder: Path, name: str) -> list[tuple[Path, str | None]]:
    """The poison files for format `name`, each with the reason it must fail for (None:
    it may load as long as what it could not read is rejected with a place)."""
    good = FIXTURES / GOOD[name]
    data = good.read_bytes()
    stem = good.name
    made: list[tuple[Path, str | None]] = []

    def poison(kind: str) -> Path:
        return folder / f"{kind}-{stem}"

    fifo = poison("fifo")
    os.mkfifo(fifo)
    made.append((fifo, "is a FIFO, not a regular file"))
    loop = poison("loop")
    loop.symlink_to(loop.name)
    made.append((loop, "is a symlink loop"))
    zero = poison("zero")
    zero.symlink_to("/dev/zero")
    made.append((zero, "is a character device, not a regular file"))
    dangling = poison("gone")
    dangling.symlink_to(folder / "nowhere")
    made.append((dangling, "cannot read the file: No such file or directory"))
    not_zip = folder / f"notzip-{stem}.zip"
    not_zip.write_bytes(b"XX" + data[2:] if data.startswith(b"PK") else data)  # an .xlsx is a zip: spoil its magic
    made.append((not_zip, NOT_A_ZIP))
    cut = folder / f"cut-{stem}.gz"
    cut.write_bytes(gzip.compress(data)[: len(gzip.compress(data)) // 2])
    made.append((cut, "not a readable gzip file: "))
    bomb = folder / f"bomb-{stem}.gz"
    padding = b" " * (3 << 20)  # whitespace every format's reader would take its time over
    bomb.write_bytes(gzip.compress(data[:-1] + padding + data[-1:] if name in JSON_DOCUMENTS else data + padding, 9))
    made.append((bomb, "refused as a decompression bomb"))
    nuls = poison("nuls")
    nuls.write_bytes(bytes(4096))
    made.append((nuls, None))
    return made


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_poison_fails_with_its_reason_and_the_good_file_after_it_loads(tmp_path, monkeypatch, deadline, name):
    monkeypatch.setattr(archives, "MIN_LIMIT", 1 << 20)  # a bomb a test affords: 3 MB of blanks past 1 MB
    corpus = _corpus(tmp_path, name)
    good = FIXTURES / GOOD[name]
    result = run(
        "ingest", *(path for path, _ in corpus), good, "--format", name, "--db", tmp_path / "s.duckdb", "--json"
    )
    assert result.code == 3 and "Traceback" not in result.err, result.err
    files = json.loads(result.out)["files"]
    assert [Path(f["path"]).name for f in files] == [path.name for path, _ in corpus] + [good.name]
    for (path, reason), found in zip(corpus, files, strict=False):
        if reason is not None:
            assert found["status"] == "failed" and reason in found["error"], (path.name, found)
            assert not found.get("bug"), found
        else:  # read: never "0 read" and loaded; what could not be read is rejected
            assert found["status"] == "failed" or found["rejected"] >= 1, (path.name, found)
    assert files[-1]["status"] == "loaded" and files[-1]["rejected"] == 0, files[-1]
