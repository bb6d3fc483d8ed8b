"""Odd but honest inputs, for every registered format: a UTF-8 BOM, UTF-16, Latin-1, CRLF,
newlines inside quoted fields. Each loads exactly as the plain file does, or its records
are rejected with a message that names --encoding, and load once it is given."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, GOOD, copy_store, run

from ingest import formats

# VIINA's labels file holds ids, dates and flags, no free text a newline could be part of
QUOTED_CSV = sorted(n for n in GOOD if formats.get(n).stage is None and GOOD[n].endswith(".csv") and n != "viina")
HINT = "pass --encoding (e.g. --encoding cp1252)"
JSON = ("misp", "stix", "veris")
TEXT = sorted(n for n in GOOD if not GOOD[n].endswith(".xlsx"))  # a workbook has no text encoding of its own


def _text(name: str) -> str:
    return (FIXTURES / GOOD[name]).read_text("utf-8")


def _ingest(empty_store: Path, tmp_path: Path, name: str, data: bytes, *args: str) -> tuple[dict, Path]:
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path, db = folder / Path(GOOD[name]).name, copy_store(empty_store, folder / "store.duckdb")
    path.write_bytes(data)
    result = run("ingest", path, "--format", name, "--db", db, "--json", *args)
    assert "Traceback" not in result.err
    (file,) = json.loads(result.out)["files"]
    return {**file, "code": result.code, "err": result.err}, db


def _contents(db: Path) -> list[tuple]:
    """What the store holds, without ids, runs or times of loading: comparable across stores."""
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(
            con.execute(
                "SELECT source_ref, title, started_at::VARCHAR, coalesce(description, '') FROM incidents "
                "UNION ALL SELECT source_ref, title, occurred_at::VARCHAR, coalesce(description, '') "
                "FROM diplomatic_events"
            ).fetchall()
        )


@pytest.fixture(scope="module")
def plain(empty_store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    folder = tmp_path_factory.mktemp("plain")
    return {name: _contents(_ingest(empty_store, folder, name, _text(name).encode("utf-8"))[1]) for name in TEXT}


@pytest.mark.parametrize("name", TEXT)
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), id="utf8-bom"),
        pytest.param(lambda t: t.encode("utf-16"), id="utf16-bom"),
        pytest.param(lambda t: t.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"), id="crlf"),
    ],
)
def test_bom_utf16_and_crlf_load_as_the_plain_file_does(empty_store, tmp_path, name, variant, plain):
    file, db = _ingest(empty_store, tmp_path, name, variant(_text(name)))
    assert (file["code"], file["status"], file["rejected"]) == (0, "loaded", 0), file
    assert _same(_contents(db)) == _same(plain[name])


def _same(contents: list[tuple], *swap: str) -> list[tuple]:
    """Contents with CRLF inside values read as LF, and the given text swapped back."""

    def fix(value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.replace("\r\n", "\n")
        return value.replace(swap[0], swap[1]) if swap else value

    return [tuple(fix(v) for v in row) for row in contents]


# a word of each good fixture that a Latin-1 file would spell with an ï. No single-byte Western
# file of two fixtures can exist: VIINA's text is Cyrillic (in its info file), and CISSM's keeps
# mojibake with both a euro sign (cp1252 only) and C1 characters (Latin-1 only)
ANCHORS = {"ddosia": "vseosvita"}
LATIN = sorted(n for n in TEXT if n not in ("viina", "cissm"))


@pytest.mark.parametrize("name", LATIN)
def test_latin1_is_rejected_naming_encoding_and_loads_with_it(empty_store, tmp_path, name, plain):
    text, anchor = _text(name), ANCHORS.get(name, "Ukraine")
    assert anchor in text, f"the odd-input tests need {anchor!r} in the format's good fixture"
    odd = anchor.replace("i", "ï", 1)
    codec = "cp1252"  # as Excel writes
    data = text.replace(anchor, odd).encode(codec)
    file, db = _ingest(empty_store, tmp_path, name, data)
    if name in (*JSON, "ddosia"):  # an undecodable JSON document fails whole: nothing of it is stored
        assert (file["code"], file["status"], _contents(db)) == (3, "failed", []), file
    else:
        assert file["code"] == 3 and file["rejected"] >= 1, file
    assert HINT in file["err"]
    file, db = _ingest(empty_store, tmp_path, name, data, "--encoding", codec)
    assert (file["code"], file["rejected"]) == (0, 0), file
    assert _same(_contents(db), odd, anchor) == _same(plain[name])


@pytest.mark.parametrize("name", sorted(JSON))
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_json_without_a_bom_is_told_by_its_nul_bytes(empty_store, tmp_path, name, codec, plain):
    file, db = _ingest(empty_store, tmp_path, name, _text(name).encode(codec))
    assert (file["code"], file["rejected"]) == (0, 0), file
    assert _contents(db) == plain[name]


def test_a_wrong_encoding_for_json_is_a_clear_reject(empty_store, tmp_path):
    data = _text("stix").replace("Ukraine", "Україна").encode("utf-8")
    file, _ = _ingest(empty_store, tmp_path, "stix", data, "--encoding", "ascii")
    assert file["code"] == 3 and HINT in file["err"] and "ascii" in file["err"], file
    assert "Traceback" not in file["err"]


@pytest.mark.parametrize("name", QUOTED_CSV)
def test_newlines_inside_quoted_fields_stay_in_the_value(empty_store, tmp_path, name, plain):
    table = list(csv.reader(io.StringIO(_text(name))))
    header, first = table[0], table[1]
    longest = max(range(len(first)), key=lambda i: len(first[i]) if header[i] not in ("ref", "id") else -1)
    first[longest] = first[longest] + '\r\nsecond line, "quoted"\nthird line'
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table)
    file, db = _ingest(empty_store, tmp_path, name, out.getvalue().encode("utf-8"))
    assert (file["code"], file["rejected"], file["records_read"]) == (0, 0, len(table) - 1), file
    assert len(_contents(db)) == len(plain[name])
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "SELECT count(*) FROM (SELECT title, description FROM incidents UNION ALL "
            "SELECT title, description FROM diplomatic_events) "
            "WHERE concat_ws(' ', title, description) LIKE '%second line, \"quoted\"' || chr(10) || 'third line%'"
        ).fetchall()[0][0]
    assert stored == 1 or header[longest] not in ("title", "description", "summary", "name", "notes")


@pytest.mark.parametrize("name", sorted(JSON))
def test_a_record_nested_50000_deep_is_a_reject_and_the_others_load(empty_store, tmp_path, name, plain):
    doc = json.loads(_text(name))
    records = doc["objects"] if name == "stix" else doc if isinstance(doc, list) else [doc]
    records.append({"type": "incident", "id": "incident--deep", "nested": "__DEEP__"})
    text = json.dumps(doc).replace('"__DEEP__"', "[" * 50_000 + "]" * 50_000)
    file, db = _ingest(empty_store, tmp_path, name, text.encode("utf-8"))
    assert file["code"] == 3 and file["rejected"] == 1, file
    assert "JSON nested deeper than 100 levels" in file["err"]
    assert _contents(db) == plain[name]
