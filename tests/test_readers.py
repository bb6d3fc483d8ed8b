"""The CSV reader: line numbers, raw text and recovery, table-driven."""

from __future__ import annotations

import pytest

from ingest.errors import FileUnreadable
from ingest.inputs import readers
from ingest.inputs.readers import RawRecord, read_csv

COLUMNS = frozenset({"a", "b"})


def read(tmp_path, data: bytes, encoding: str = "utf-8") -> list[RawRecord]:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    return list(read_csv(path, encoding=encoding, columns=COLUMNS, required=frozenset({"a"})))


def shape(records: list[RawRecord]) -> list[tuple[object, ...]]:
    return [(r.line, r.fields, r.problem) for r in records]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\n1,2\n3,4\n", [(2, {"a": "1", "b": "2"}, None), (3, {"a": "3", "b": "4"}, None)]),
        (b"a,b\r\n1,2\r\n", [(2, {"a": "1", "b": "2"}, None)]),
        (b"\xef\xbb\xbfa,b\n1,2\n", [(2, {"a": "1", "b": "2"}, None)]),
        ("a,b\n1,2\n".encode("utf-16"), [(2, {"a": "1", "b": "2"}, None)]),
        # a quoted newline: the record starts on line 2, the next one on line 4
        (b'a,b\n"x\ny",2\n3,4\n', [(2, {"a": "x\ny", "b": "2"}, None), (4, {"a": "3", "b": "4"}, None)]),
        # blank lines are not records; blank cells are absent values
        (b"a,b\n\n1,\n", [(3, {"a": "1"}, None)]),
        (b"b,a\n2,1\n", [(2, {"b": "2", "a": "1"}, None)]),
        (
            b"a,b\n1,2,3\n4,5\n",
            [(2, None, "expected 2 fields as in the header, found 3"), (3, {"a": "4", "b": "5"}, None)],
        ),
        (b'a,b\n"x"y,2\n3,4\n', [(2, None, "malformed CSV: ',' expected after '\"'"), (3, {"a": "3", "b": "4"}, None)]),
        # an unterminated quote would swallow the rest of the file: the lines after it are read again
        (
            b'a,b\n"open,2\n3,4\n5,6\n',
            [
                (2, None, "malformed CSV: unexpected end of data (unterminated quote?)"),
                (3, {"a": "3", "b": "4"}, None),
                (4, {"a": "5", "b": "6"}, None),
            ],
        ),
        (
            b"a,b\nx\x00y,2\n3,4\n",
            [
                (2, None, "contains a NUL byte: binary data, or a UTF-16 file without a BOM?"),
                (3, {"a": "3", "b": "4"}, None),
            ],
        ),
        (
            b"a,b\ncaf\xe9,2\n3,4\n",
            [
                (
                    2,
                    None,
                    "bytes that are not valid utf-8: pass --encoding (e.g. --encoding cp1252) "
                    "or set encoding in cyberlog.toml",
                ),
                (3, {"a": "3", "b": "4"}, None),
            ],
        ),
    ],
)
def test_read_csv(tmp_path, data, expected):
    assert shape(read(tmp_path, data)) == expected


def test_raw_is_the_records_own_text(tmp_path):
    records = read(tmp_path, b'a,b\r\n"x\r\ny",2\r\n3,4\r\n')
    assert [r.raw for r in records] == ['"x\r\ny",2\r\n', "3,4\r\n"]


def test_an_overlong_record_is_rejected_and_reading_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_RECORD_CHARS", 20)
    records = read(tmp_path, b'a,b\n"' + b"x" * 30 + b"\n1,2\n")
    assert shape(records) == [
        (2, None, "malformed CSV: record longer than 1,000,000 characters"),
        (3, {"a": "1", "b": "2"}, None),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty (0 bytes): expected a header row"),
        (b"a,c\n1,2\n", "unknown column(s) c; expected columns: a, b"),
        (b"b\n1\n", "missing required column(s) a; expected columns: a, b"),
        (b"a,a\n1,2\n", "header names a column twice"),
    ],
)
def test_unreadable_files(tmp_path, data, message):
    with pytest.raises(FileUnreadable) as caught:
        read(tmp_path, data)
    assert caught.value.message == message


def test_progress_counts_every_character(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n3,4\n", "utf-8")
    seen: list[int] = []
    list(read_csv(path, encoding="utf-8", columns=COLUMNS, required=frozenset(), progress=seen.append))
    assert sum(seen) == len("a,b\n1,2\n3,4\n")
