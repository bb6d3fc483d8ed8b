"""Hostile JSON, made at test time: each class of input has one exact outcome, a reject of
the one record (with its JSON pointer and reason), a failed file with nothing stored, or a
load. Loaded through `load_file` into a real store in tmp_path."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest import formats
from ingest.inputs.json_stream import JsonDocument
from ingest.load.files import load_file
from ingest.store import open_store

INCIDENT = "incident--7b3e9c10-2d4f-4a6b-8c1d-9e0f1a2b3c4d"
OTHER = "incident--7b3e9c10-2d4f-4a6b-8c1d-9e0f1a2b3c4e"
VICTIM = "identity--8a1b2f44-0a5e-4d6c-9d6f-3c2a7b1e9f01"
STAMP = "2022-02-16T09:00:00.000Z"
STRICT = "is not a STIX timestamp: RFC 3339 in UTC, YYYY-MM-DDTHH:MM:SS[.sss]Z"
ISO_HINT = "use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] with Z or an offset like +02:00"
GDELT = Path(__file__).resolve().parent.parent / "fixtures" / "gdelt" / "good" / "20220113.export.CSV"


@dataclass
class Loaded:
    status: str
    error: str | None
    rejects: list[tuple[Any, ...]]  # (pointer or line, field, reason)
    stored: list[str]  # source_ref of what the store holds


def _load(db: Path, tmp_path: Path, fmt: str, data: bytes | str, name: str = "input.json") -> Loaded:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    with open_store(db, write=True) as con:
        result = load_file(con, path, run_id="hostile", fmt=formats.get(fmt))
        rejects = con.execute(
            "SELECT coalesce(pointer, line::VARCHAR), field, reason FROM rejects ORDER BY line, pointer"
        ).fetchall()
        table = "diplomatic_events" if fmt == "gdelt" else "incidents"
        stored = [r[0] for r in con.execute(f"SELECT source_ref FROM {table} ORDER BY source_ref").fetchall()]
    return Loaded(result.status, result.error, rejects, stored)


def _incident(oid: str = INCIDENT, **extra: Any) -> dict[str, Any]:
    return {
        "type": "incident",
        "spec_version": "2.1",
        "id": oid,
        "created": STAMP,
        "modified": STAMP,
        "name": "DDoS on a ministry",
        "first_seen": "2022-02-15T12:00:00Z",
        **extra,
    }


def _victim() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": VICTIM,
        "created": STAMP,
        "modified": STAMP,
        "name": "Ministry of Defence",
        "identity_class": "organization",
    }


def _targets(**extra: Any) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d",
        "created": STAMP,
        "modified": STAMP,
        "relationship_type": "targets",
        "source_ref": INCIDENT,
        "target_ref": VICTIM,
        **extra,
    }


def _bundle(*objects: Any, **top: Any) -> str:
    return json.dumps(
        {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", **top, "objects": list(objects)}
    )


def _event(uuid: str, **extra: Any) -> dict[str, Any]:
    return {
        "Event": {"uuid": uuid, "info": "DDoS on a ministry", "date": "2022-02-15", "timestamp": "1644973200", **extra}
    }


MISP_A, MISP_B = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607", "b3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"


# bounded depth ------------------------------------------------------------------------


def test_a_stix_object_100000_deep_is_a_reject_and_the_bundle_loads(db, tmp_path):
    text = _bundle(_incident(), _incident(OTHER, x="__DEEP__")).replace('"__DEEP__"', "[" * 100_000 + "]" * 100_000)
    found = _load(db, tmp_path, "stix", text)
    assert (found.status, found.stored) == ("loaded", [INCIDENT])
    assert found.rejects == [("/objects/1", None, "JSON nested deeper than 100 levels (at /objects/1/x/0/0/…)")]


def test_a_misp_event_100000_deep_is_a_reject_and_the_others_load(db, tmp_path):
    deep = {"x": "__DEEP__"}
    text = json.dumps([_event(MISP_A), _event(MISP_B, Object=[deep])])
    found = _load(db, tmp_path, "misp", text.replace('"__DEEP__"', "{" + '"a":{' * 99_999 + "}" * 100_000))
    assert (found.status, found.stored) == ("loaded", [MISP_A])
    assert found.rejects == [("/1", None, "JSON nested deeper than 100 levels (at /1/Event/Object/0/…)")]


@pytest.mark.parametrize("fmt", ["stix", "misp"])
def test_a_100000_deep_document_is_refused_in_little_memory(tmp_path, fmt):
    """Read in a fresh interpreter: the refusal must not build what it refuses (it once
    grew past 6 GB). No database here, so the bound is the reader's own."""
    deep = "[" * 100_000 + "]" * 100_000
    text = _bundle(_incident(x="__D__")) if fmt == "stix" else json.dumps(_event(MISP_A, x="__D__"))
    path = tmp_path / "deep.json"
    path.write_text(text.replace('"__D__"', deep))
    reader = "stix_bundle.read_bundle" if fmt == "stix" else "misp.read_events"
    code = (
        "import re, sys\nfrom pathlib import Path\nfrom ingest.formats import stix_bundle, misp\n"
        f"found = [r.problem for r in {reader}(Path(sys.argv[1]), 'utf-8', None) if r.problem]\n"
        # VmHWM is this process's own peak; ru_maxrss would carry the forking pytest's over exec
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
        "print(found, peak // 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    problems, rss_mb = out.rsplit(" ", 1)
    assert "JSON nested deeper than 100 levels" in problems and int(rss_mb) < 300, out


# strict timestamps, identities and versions -------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "\uff12\uff10\uff12\uff12-02-16T09:00:00.000Z",
            f"'\uff12\uff10\uff12\uff12-02-16T09:00:00.000Z' is not an ISO 8601 time: {ISO_HINT}",
        ),
        (" 2022-02-16T09:00:00.000Z", f"' 2022-02-16T09:00:00.000Z' {STRICT}"),
        ("2022-02-16T09:00:00.000Z\n", f"'2022-02-16T09:00:00.000Z\n' {STRICT}"),
        ("2022-02-16", f"'2022-02-16' {STRICT}"),
        ("2022-02-16T09:00:00+00:00", f"'2022-02-16T09:00:00+00:00' {STRICT}"),
    ],
    ids=["fullwidth", "leading-space", "trailing-newline", "date-only", "offset"],
)
def test_a_stix_timestamp_is_rfc3339_exactly(db, tmp_path, value, reason):
    found = _load(db, tmp_path, "stix", _bundle(_incident(created=value, modified=value), _incident(OTHER)))
    assert (found.status, found.stored) == ("loaded", [OTHER])
    assert found.rejects == [("/objects/0", "created", reason)]


@pytest.mark.parametrize(
    "times",
    [
        {"created": "9999-12-31T23:59:59.999Z", "modified": "9999-12-31T23:59:59.999Z"},
        {"first_seen": "0001-01-01T00:00:00Z"},
        {
            "first_seen": "9999-12-31T23:59:59.999999Z",
            "created": "9999-12-31T23:59:59.999999Z",
            "modified": "9999-12-31T23:59:59.999999Z",
        },
    ],
    ids=["created-9999", "first-seen-0001", "first-seen-9999"],
)
def test_the_ends_of_the_calendar_load_without_overflow(db, tmp_path, times):
    found = _load(db, tmp_path, "stix", _bundle(_incident(**times)))
    assert (found.status, found.error, found.rejects, found.stored) == ("loaded", None, [], [INCIDENT])


def test_modified_before_created_is_a_reject(db, tmp_path):
    early = "2022-02-01T00:00:00.000Z"
    found = _load(
        db, tmp_path, "stix", _bundle(_incident(modified=early), _incident(OTHER), _victim(), _targets(modified=early))
    )
    assert found.stored == [OTHER]
    assert found.rejects == [
        ("/objects/0", "modified", "modified 2022-02-01T00:00:00+00:00 is before created 2022-02-16T09:00:00+00:00"),
        ("/objects/3", None, f"modified '{early}' is before created '{STAMP}'"),
    ]


def test_an_id_of_another_type_is_a_reject(db, tmp_path):
    found = _load(db, tmp_path, "stix", _bundle(_incident(VICTIM), _incident(OTHER)))
    assert found.stored == [OTHER]
    assert found.rejects == [("/objects/0", None, f"id '{VICTIM}' does not match type 'incident'")]


def test_spec_version_is_read_and_checked(db, tmp_path):
    found = _load(db, tmp_path, "stix", _bundle(_incident(spec_version="2.2"), _incident(OTHER)))
    assert found.stored == [OTHER]
    why = 'spec_version \'2.2\' is not "2.1" (a STIX 2.1 object says "2.1"; a 2.0 object has none)'
    assert found.rejects == [("/objects/0", None, why)]


def test_a_stix_2_0_bundle_of_objects_without_spec_version_loads(db, tmp_path):
    incident = {k: v for k, v in _incident().items() if k != "spec_version"}
    found = _load(db, tmp_path, "stix", _bundle(incident, spec_version="2.0"))
    assert (found.status, found.rejects, found.stored) == ("loaded", [], [INCIDENT])


def test_a_bundle_of_another_spec_version_fails(db, tmp_path):
    found = _load(db, tmp_path, "stix", _bundle(_incident(), spec_version="3.0"))
    assert (found.status, found.error, found.stored) == (
        "failed",
        'bundle spec_version "3.0" is not STIX 2.0 or 2.1',
        [],
    )


# keys, text and times of one record ---------------------------------------------------


def test_a_key_given_twice_is_a_reject_of_that_record(db, tmp_path):
    text = _bundle(_incident(x="__X__"), _incident(OTHER)).replace('"x": "__X__"', '"name": "a", "name": "b"')
    found = _load(db, tmp_path, "stix", text)
    assert found.stored == [OTHER]
    assert found.rejects == [("/objects/0", None, "the key 'name' is given twice in the object at /objects/0")]


def test_a_misp_key_given_twice_deep_inside_is_a_reject_of_that_event(db, tmp_path):
    attribute = {"type": "domain", "value": "mil.gov.ua", "x": 1}
    text = json.dumps([_event(MISP_A, Attribute=[attribute]), _event(MISP_B)]).replace('"x": 1', '"value": "b"')
    found = _load(db, tmp_path, "misp", text)
    assert found.stored == [MISP_B]
    assert found.rejects == [("/0", None, "the key 'value' is given twice in the object at /0/Event/Attribute/0")]


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\ud800\\u0041"], ids=["high", "low", "high-then-A"])
def test_a_lone_surrogate_is_a_reject_of_that_record_and_the_file_loads(db, tmp_path, escape):
    text = _bundle(_incident(name="__S__"), _incident(OTHER)).replace("__S__", f"DDoS {escape}")
    assert text.isascii()
    found = _load(db, tmp_path, "stix", text)
    assert (found.status, found.stored) == ("loaded", [OTHER])
    why = "the string at /objects/0/name holds a lone UTF-16 surrogate escape (such as \\ud800): not valid Unicode"
    assert found.rejects == [("/objects/0", None, why)]


def test_a_surrogate_pair_and_an_escaped_backslash_are_text(db, tmp_path):
    text = _bundle(_incident(name="__S__")).replace("__S__", "DDoS \\ud83d\\ude00 \\\\ud800")
    found = _load(db, tmp_path, "stix", text)
    assert (found.status, found.rejects, found.stored) == ("loaded", [], [INCIDENT])


def test_a_misp_string_with_a_nul_is_a_reject_of_that_event(db, tmp_path):
    text = json.dumps([_event(MISP_A, info="DDoS\u0000"), _event(MISP_B)])
    found = _load(db, tmp_path, "misp", text)
    assert found.stored == [MISP_B]
    assert found.rejects == [("/0", None, "the string at /0/Event/info holds a NUL character (\\u0000)")]


def test_a_relationship_without_a_zone_rejects_the_relationship_not_the_incident(db, tmp_path):
    found = _load(db, tmp_path, "stix", _bundle(_incident(), _victim(), _targets(start_time="2022-02-15T12:00:00")))
    assert found.stored == [INCIDENT]
    assert found.rejects == [("/objects/2", None, f"start_time: '2022-02-15T12:00:00' {STRICT}")]


def test_a_report_with_a_day_for_published_rejects_the_report_not_the_incident(db, tmp_path):
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b",
        "created": STAMP,
        "modified": STAMP,
        "name": "DDoS",
        "published": "2022-02-16",
        "object_refs": [INCIDENT],
    }
    found = _load(db, tmp_path, "stix", _bundle(_incident(), report))
    assert found.stored == [INCIDENT]
    assert found.rejects == [("/objects/1", None, f"published: '2022-02-16' {STRICT}")]


# documents that fail whole --------------------------------------------------------------


def test_a_bundle_cut_short_fails_and_stores_nothing(db, tmp_path):
    text = _bundle(_incident(), _incident(OTHER), _victim(), _targets())
    cut = text[: text.index(VICTIM) + 10]  # inside the third object, after two whole incidents
    found = _load(db, tmp_path, "stix", cut)
    why = "malformed JSON (in the record at /objects/2): parse error: premature EOF; nothing of the file was loaded"
    assert (found.status, found.error, found.rejects, found.stored) == ("failed", why, [], [])


def test_an_array_of_misp_events_cut_short_fails_and_stores_nothing(db, tmp_path):
    text = json.dumps([_event(MISP_A), _event(MISP_B)])
    found = _load(db, tmp_path, "misp", text[:-20])
    why = "malformed JSON (in the record at /1): parse error: premature EOF; nothing of the file was loaded"
    assert (found.status, found.error, found.stored) == ("failed", why, [])


def test_bytes_that_are_not_utf8_fail_the_file_and_store_nothing(db, tmp_path):
    data = _bundle(_incident(), _incident(OTHER, name="__N__")).encode("utf-8").replace(b"__N__", b"\xff\xfe")
    found = _load(db, tmp_path, "stix", data)
    why = (
        "malformed JSON (in the record at /objects/1): lexical error: invalid bytes in UTF8 string: pass --encoding "
        "(e.g. --encoding cp1252) or set encoding in cyberlog.toml; nothing of the file was loaded"
    )
    assert (found.status, found.error, found.rejects, found.stored) == ("failed", why, [], [])


@pytest.mark.parametrize(
    ("fmt", "text", "why"),
    [
        ("stix", "null", "a STIX bundle is a JSON object; this document is null"),
        ("stix", "[]", "a STIX bundle is a JSON object; this document is an array"),
        ("stix", '{"type": "bundle", "objects": {}}', "'objects' must be an array of STIX objects; it is an object"),
        (
            "stix",
            '{"type": "bundle", "id": "bundle--1"}',
            "no 'objects' array: a STIX bundle (or TAXII envelope) lists its objects there",
        ),
        ("stix", '{"type": "incident", "objects": []}', 'the top-level object has type "incident", not "bundle"'),
        ("stix", '{"objects": [], "objects": []}', "the bundle gives the key 'objects' twice"),
        ("misp", "null", "a MISP file is an event, an array of events or a search result; this is null"),
        ("misp", '"Event"', "a MISP file is an event, an array of events or a search result; this is a string"),
        ("misp", "42", "a MISP file is an event, an array of events or a search result; this is a number"),
        ("veris", "true", "not a JSON object or array: the document is a boolean"),
    ],
    ids=[
        "stix-null",
        "stix-array",
        "objects-dict",
        "no-objects",
        "not-a-bundle",
        "objects-twice",
        "misp-null",
        "misp-string",
        "misp-number",
        "veris-boolean",
    ],
)
def test_a_wrong_top_level_shape_fails_the_file(db, tmp_path, fmt, text, why):
    found = _load(db, tmp_path, fmt, text)
    assert (found.status, found.error, found.rejects, found.stored) == ("failed", why, [], [])


def test_a_second_document_after_the_first_fails_the_file(db, tmp_path):
    found = _load(db, tmp_path, "stix", _bundle(_incident()) + _bundle(_incident(OTHER)))
    assert (found.status, found.stored) == ("failed", [])
    assert found.error is not None and found.error.startswith("malformed JSON: parse error: trailing garbage")


# GDELT ----------------------------------------------------------------------------------


def test_a_nul_inside_a_gdelt_field_is_a_reject_of_that_line(db, tmp_path):
    lines = GDELT.read_bytes().split(b"\n")
    fields = lines[0].split(b"\t")
    fields[6] = fields[6][:2] + b"\x00" + fields[6][2:]
    lines[0] = b"\t".join(fields)
    found = _load(db, tmp_path, "gdelt", b"\n".join(lines), "20220113.export.CSV")
    assert found.rejects == [("1", "(record)", "contains a NUL byte: binary data, or a UTF-16 file without a BOM?")]
    assert len(found.stored) == len([line for line in lines if line.strip()]) - 1


class _Trickle(io.RawIOBase):
    """A stream that serves `size` bytes at a time: escapes cut at every place."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out, self.data = self.data[: self.size], self.data[self.size :]
        return out


@pytest.mark.parametrize(
    "text",
    [
        r"\ud83d\ude00",
        r"\\ud800",
        r"\\\ud83d\ude00",
        r"\\ud800\udc00",
        r"\ud800\ud83d\ude00",
        r"\ud83d\ude00\udc00",
        r"\u00e9\ud800\u0041",
        r"\\\\\ud800",
        r"caf\u00e9",
    ],
)
@pytest.mark.parametrize("size", [1, 5, 64])
def test_surrogates_are_told_apart_however_the_bytes_arrive(text, size):
    """A string is rejected exactly when Python's own JSON reads a lone surrogate in it."""
    document = JsonDocument(_Trickle(f'["{text}", 1]'.encode(), size), Path("x.json"))
    document.next()
    (_, value, problem), (_, number, _) = document.items("")
    expected = json.loads(f'"{text}"')
    lone = any(0xD800 <= ord(c) <= 0xDFFF for c in expected)
    assert (value, number) == (None if lone else expected, 1)
    assert (problem is not None) == lone, problem
