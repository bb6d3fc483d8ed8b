"""Fuzzed inputs, for every registered format (hypothesis).

Each format's good fixture is mutated — flipped, inserted and deleted bytes, NUL bytes,
odd Unicode and undecodable bytes, truncation, duplicated lines, a multi-megabyte field,
and for JSON formats wrong types, missing keys, duplicated elements and 5,000-deep
nesting — and ingested by the real CLI into a real store. Whatever the input:

* never an uncaught exception: exit 0 or 3, a message, no traceback;
* every record read is accounted for (inserted, updated, unchanged, rejected or skipped);
* every reject says where (line or JSON pointer) and why;
* with one record spoiled, the others still load.

$CYBERLOG_FUZZ_EXAMPLES sets the examples per format and property (default 8; soak with 500).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from conftest import FIXTURES, GOOD, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ingest import formats

EXAMPLES = int(os.environ.get("CYBERLOG_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
JSON_FORMATS = {"ddosia", "misp", "stix", "veris"}
WORKBOOK_FORMATS = {"dcid"}  # an .xlsx: a zip of XML parts, where a record is a row of a sheet
ARRAYS = {"ddosia": "targets", "stix": "objects"}  # where a JSON format's records are, in an object
HEADERLESS = {"gdelt"}
ODD = [
    b"\x00",
    b"\x00\x00\x00\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\x80\x81\x82",
    "\u202e\u0301\u200b".encode(),
    "🛰️👩‍💻".encode(),
    "Київ".encode(),
    b"\r",
    b"\r\n",
    b'"',
    b",",
    b"\t",
    b"\\",
    b"{",
    b"]",
    b"=cmd|' /C calc'!A0",
    b"A" * 1_100_000,  # past MAX_RECORD_CHARS
]
BYTE_EDIT = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 30), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 30), st.sampled_from(ODD)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 30), st.integers(1, 64)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 30), st.just(0)),
    st.tuples(st.just("duplicate_line"), st.integers(0, 1 << 30), st.just(0)),
)
WRONG = [
    None,
    0,
    -1,
    1e308,
    True,
    "",
    "x" * 100_000,
    [],
    {},
    [[[]]],
    {"": {}},
    "2022-13-45T25:61:00Z",
    "\u0000",
    "__DEEP__",
]
JSON_EDIT = st.tuples(
    st.sampled_from(["replace", "delete", "duplicate"]), st.integers(0, 1 << 30), st.sampled_from(WRONG)
)
DEEP = 5_000  # far past MAX_DEPTH and Python's recursion limit


def _seed(name: str) -> bytes:
    return (FIXTURES / GOOD[name]).read_bytes()


def _apply_bytes(data: bytes, edits: list[tuple[str, int, Any]]) -> bytes:
    for kind, at, arg in edits:
        at = at % (len(data) + 1)
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([arg]) + data[at + 1 :]
        elif kind == "insert":
            data = data[:at] + arg + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + arg :]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "duplicate_line":
            lines = data.split(b"\n")
            i = at % len(lines)
            data = b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    return data


def _nodes(value: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON document, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            found.append((value, key))
            _nodes(value[key], found)
    elif isinstance(value, list):
        for i in range(len(value)):
            found.append((value, i))
            _nodes(value[i], found)
    return found


def _apply_json(doc: Any, edits: list[tuple[str, int, Any]]) -> bytes:
    for kind, at, arg in edits:
        nodes = _nodes(doc, [])
        if not nodes:
            break
        container, key = nodes[at % len(nodes)]
        if kind == "replace":
            container[key] = arg
        elif kind == "delete":
            del container[key]
        elif isinstance(container, list):
            container.insert(key, container[key])
        else:
            container[key + "_copy"] = container[key]
    text = json.dumps(doc, ensure_ascii=False)
    return text.replace('"__DEEP__"', "[" * DEEP + "]" * DEEP).encode("utf-8")


def _ingest(tmp_path: Path, name: str, data: bytes) -> tuple[dict[str, Any], Path]:
    folder = Path(tempfile.mkdtemp(prefix="case-", dir=tmp_path))
    path, db = folder / Path(GOOD[name]).name, folder / "store.duckdb"
    path.write_bytes(data)
    result = run("ingest", path, "--format", name, "--db", db, "--json")
    assert result.code in (0, 3), result.err
    assert "Traceback" not in result.err
    summary = json.loads(result.out)
    (file,) = summary["files"]
    if file["status"] == "loaded":
        accounted = sum(file[k] for k in ("inserted", "updated", "unchanged", "rejected"))
        assert accounted + sum(file["skipped"].values()) == file["records_read"], file
        with duckdb.connect(str(db), read_only=True) as con:
            unexplained = con.execute(
                "SELECT count(*) FROM rejects WHERE coalesce(reason, '') = '' OR (line IS NULL AND pointer IS NULL)"
            ).fetchall()[0][0]
        assert unexplained == 0
    else:
        assert file["status"] == "failed" and file["error"], file
    return file, db


def _stored(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(
            con.execute(
                "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM diplomatic_events)"
                " + (SELECT count(*) FROM alerts)"
            ).fetchall()[0][0]
        )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Records each format's untouched fixture stores."""
    folder = tmp_path_factory.mktemp("baseline")
    return {name: _stored(_ingest(folder, name, _seed(name))[1]) for name in sorted(GOOD)}


def test_every_registered_format_is_fuzzed():
    assert sorted(GOOD) == formats.names(), "add the new format's good fixture to GOOD in conftest.py"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_mutated_bytes_never_crash_and_every_record_is_accounted_for(tmp_path, name):
    @FUZZ
    @given(st.lists(BYTE_EDIT, min_size=1, max_size=5))
    def check(edits: list[tuple[str, int, Any]]) -> None:
        _ingest(tmp_path, name, _apply_bytes(_seed(name), edits))

    check()


@pytest.mark.parametrize("name", sorted(JSON_FORMATS))
def test_mutated_json_structure_never_crashes(tmp_path, name):
    @FUZZ
    @given(st.lists(JSON_EDIT, min_size=1, max_size=4))
    def check(edits: list[tuple[str, int, Any]]) -> None:
        _ingest(tmp_path, name, _apply_json(json.loads(_seed(name)), edits))

    check()


def _array(name: str, doc: Any) -> Any:
    return doc[ARRAYS[name]] if isinstance(doc, dict) else doc


def _workbook_rows(data: bytes) -> list[int]:
    """The data rows of the workbook's last sheet (the one dcid reads in its fixture)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[-1]
    return list(range(2, sheet.max_row + 1))


def _spoil_workbook(data: bytes, row: int, column: int, wrong: Any) -> bytes:
    """The workbook with one cell of one row of its last sheet set to a wrong value; a
    string loses the characters XML cannot hold (openpyxl refuses them)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[-1]
    value = wrong if wrong is None or isinstance(wrong, int | float) else ILLEGAL_CHARACTERS_RE.sub("", str(wrong))
    sheet.cell(row, 1 + column % sheet.max_column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _records(name: str, data: bytes) -> tuple[list[Any], Any]:
    """The seed's records (CSV lines, or the elements of its main JSON array) and how to rebuild it."""
    if name in JSON_FORMATS:
        doc = json.loads(data)
        return _array(name, doc), doc
    lines = data.split(b"\n")
    return lines, lines


@pytest.mark.parametrize("name", sorted(GOOD))
def test_one_spoiled_record_leaves_the_others_loading(tmp_path, name, baseline):
    records, _ = _records(name, _seed(name))
    first = 0 if name in HEADERLESS or name in JSON_FORMATS else 1
    real = [i for i in range(first, len(records)) if records[i]]
    if name in WORKBOOK_FORMATS:
        real = _workbook_rows(_seed(name))
    safe = st.sampled_from([b for b in range(256) if b not in b'"\r\n'])  # one record stays one record

    @FUZZ
    @given(
        st.sampled_from(real),
        st.lists(st.tuples(st.integers(0, 1 << 30), safe), min_size=1, max_size=6),
        st.sampled_from(WRONG[:-1]),
    )
    def check(index: int, flips: list[tuple[int, int]], wrong: Any) -> None:
        if name in WORKBOOK_FORMATS:
            data = _spoil_workbook(_seed(name), index, flips[0][0], wrong)
        elif name in JSON_FORMATS:
            doc = json.loads(_seed(name))
            target = _array(name, doc)
            element = target[index]
            keys = list(element) if isinstance(element, dict) else []
            if keys:
                element[keys[flips[0][0] % len(keys)]] = wrong
            else:
                target[index] = wrong
            data = json.dumps(doc).encode()
        else:
            lines = _seed(name).split(b"\n")
            line = bytearray(lines[index])
            for at, value in flips:
                if line:
                    line[at % len(line)] = value
            lines[index] = bytes(line)
            data = b"\n".join(lines)
        file, db = _ingest(tmp_path, name, data)
        assert file["status"] == "loaded", file
        assert _stored(db) >= baseline[name] - 1, file

    check()


HOSTILE = {
    "key twice": ('"x_hostile": 1, "x_hostile": 2', "the key 'x_hostile' is given twice"),
    "lone surrogate": ('"x_hostile": "a\\ud800b"', "holds a lone UTF-16 surrogate escape"),
    "lone low surrogate": ('"x_hostile": "\\udc00"', "holds a lone UTF-16 surrogate escape"),
    "NUL": ('"x_hostile": "a\\u0000b"', "holds a NUL character"),
    "100,000 deep": ('"x_hostile": ' + "[" * 100_000 + "]" * 100_000, "JSON nested deeper than 100 levels"),
}


@pytest.mark.parametrize("name", sorted(JSON_FORMATS))
def test_one_hostile_record_is_one_reject_and_the_others_load(tmp_path, name, baseline):
    """Hostile JSON in any one record (tests/test_hostile_json.py has each class exactly):
    that record alone is rejected, saying why, and the file loads."""
    records, _ = _records(name, _seed(name))

    @FUZZ
    @given(st.integers(0, len(records) - 1), st.sampled_from(sorted(HOSTILE)))
    def check(index: int, hostile: str) -> None:
        doc = json.loads(_seed(name))
        target = _array(name, doc)
        element = target[index]["Event"] if name == "misp" and "Event" in target[index] else target[index]
        element["x_hostile"] = "__HOSTILE__"
        text, why = HOSTILE[hostile]
        data = json.dumps(doc).replace('"x_hostile": "__HOSTILE__"', text).encode()
        file, db = _ingest(tmp_path, name, data)
        assert (file["status"], file["rejected"]) == ("loaded", 1), file
        with duckdb.connect(str(db), read_only=True) as con:
            (reason,) = con.execute("SELECT reason FROM rejects").fetchall()[0]
        assert why in reason, reason
        assert _stored(db) >= baseline[name] - 1, file

    check()
