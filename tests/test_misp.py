"""MISP: events from single files, arrays, search results and feed folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, rows, run, scalar

from ingest.formats.misp import MispTag, _tag_values

GOOD = FIXTURES / "misp" / "good"
DDOS = "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"


def _event(uuid: str, timestamp: str, info: str) -> dict[str, object]:
    return {"uuid": uuid, "info": info, "date": "2022-02-15", "timestamp": timestamp}


def test_the_15_feb_ddos_event(db):
    assert run("ingest", GOOD / "ddos-mod-banks.json", "--db", db).code == 0
    (ddos,) = rows(
        db,
        """SELECT title, attack_types, strftime(started_at, '%Y-%m-%dT%H:%MZ'), time_precision, time_basis,
                  strftime(ended_at, '%Y-%m-%dT%H:%MZ'), severity, target_orgs, target_domains, target_countries,
                  target_sectors, url, description, strftime(source_modified, '%Y-%m-%dT%H:%MZ')
           FROM v_incidents WHERE source_ref = $ref""",
        {"ref": DDOS},
    )
    assert ddos == (
        # first_seen 2022-02-15T14:00:00Z: an hour as written, not a claim to the second
        "DDoS on Ukrainian MoD and state banks (PrivatBank, Oschadbank)",
        ["ddos"],
        "2022-02-15T14:00Z",
        "hour",
        "MISP attribute first_seen",
        "2022-02-16T10:30Z",
        "medium",
        ["Ministry of Defence of Ukraine", "PrivatBank", "Oschadbank"],
        ["mil.gov.ua", "privatbank.ua", "oschadbank.ua"],
        ["UKR"],
        ["government"],
        "https://cert.gov.ua/article/37139",
        "Online banking and card payments unavailable for several hours;\r\n"
        "spoofed SMS claimed ATMs were out of service",
        "2022-02-16T01:00Z",
    )


@pytest.mark.parametrize(
    ("written", "start", "precision"),
    [
        ("2022-02-15T13:00:00Z", "2022-02-15T13:00:00+00:00", "hour"),
        ("2022-02-15T13:58:00Z", "2022-02-15T13:58:00+00:00", "minute"),
        ("2022-02-15T13:58:07Z", "2022-02-15T13:58:07+00:00", "second"),
        ("2022-02-15T13:00:00.250000Z", "2022-02-15T13:00:00+00:00", "second"),
        ("2022-02-15T00:00:00+02:00", "2022-02-14T22:00:00+00:00", "day"),  # midnight where it was written
        ("2022-02-15T13:00", None, None),  # no offset: the time-zone reject, as before
    ],
)
def test_a_seen_time_is_as_precise_as_it_is_written(written, start, precision):
    from ingest.formats.misp import MispAttribute

    if start is None:
        with pytest.raises(ValueError, match="has a time but no UTC offset"):
            MispAttribute.model_validate({"type": "text", "value": "x", "first_seen": written})
        return
    seen = MispAttribute.model_validate({"type": "text", "value": "x", "first_seen": written}).first_seen
    assert (seen.at.isoformat(), seen.precision) == (start, precision)


def test_galaxy_actors_are_attributed_by_the_creator_when_published(db):
    assert run("ingest", GOOD / "events-2022-01.json", "--db", db).code == 0
    assert rows(
        db,
        "SELECT actor, actor_raw, role, attributed_by, strftime(attributed_at, '%Y-%m-%dT%H:%MZ'), country, "
        "country_raw FROM incident_actors",
    ) == [("DEV-0586", None, "attributed", "Example CERT", "2022-01-15T17:00Z", "RUS", "RU")]
    # two threat actors of the MISP galaxy claim DEV-0586 as a synonym: it stays as written
    # the bare (unwrapped) event beside the wrapped one: dated 14 Jan, last edited at 16:00 that day
    assert rows(
        db,
        "SELECT time_basis, strftime(started_at, '%H:%M'), strftime(started_latest, '%H:%M') FROM incidents "
        "WHERE title LIKE 'Defacement%'",
    ) == [
        ("MISP event date (entered by the analyst); no later than its writing, 2022-01-14T16:00:00Z", "00:00", "16:00")
    ]


def test_a_feed_folder_loads_its_events_once(db):
    first = json.loads(run("ingest", GOOD / "feed", "--db", db, "--json").out)
    assert (first["exit_code"], first["files_loaded"], first["inserted"]) == (0, 2, 2)
    second = json.loads(run("ingest", GOOD / "feed", "--db", db, "--json").out)
    assert (second["files_skipped"], second["inserted"]) == (2, 0)


def test_an_event_the_manifest_lists_but_the_feed_lacks_is_a_failed_file(db, tmp_path):
    feed = shutil.copytree(GOOD / "feed", tmp_path / "feed")
    manifest = json.loads((feed / "manifest.json").read_text("utf-8"))
    manifest["0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"] = {"info": "gone", "timestamp": "1645000000"}
    (feed / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    summary = json.loads(run("ingest", feed, "--db", db, "--json").out)
    assert summary["exit_code"] == 3
    failed = [f for f in summary["files"] if f["status"] == "failed"]
    assert [(f["path"].rsplit("/", 1)[1], f["error"]) for f in failed] == [
        ("0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e.json", "cannot read the file: No such file or directory")
    ]
    assert scalar(db, "SELECT count(*) FROM incidents") == 2


def test_a_newer_timestamp_updates_in_place_and_an_older_copy_does_not(db, tmp_path):
    versions = [("1644973200", "first"), ("1645059600", "second"), ("1644980000", "stale copy from another feed")]
    for n, (timestamp, info) in enumerate(versions):
        path = tmp_path / f"{n}.json"
        path.write_text(json.dumps({"Event": _event(DDOS, timestamp, info)}), "utf-8")
        assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT title FROM incidents") == [("second",)]
    assert rows(db, "SELECT inserted, updated, unchanged FROM ingest_files ORDER BY started_at") == [
        (1, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]


def test_the_same_event_twice_in_one_array_keeps_the_newest(db, tmp_path):
    path = tmp_path / "twice.json"
    path.write_text(json.dumps([_event(DDOS, "1645059600", "newer"), _event(DDOS, "1644973200", "older")]), "utf-8")
    summary = json.loads(run("ingest", path, "--db", db, "--json").out)
    assert summary["files"][0]["skipped"] == {"older version of a record given again in this file": 1}
    assert rows(db, "SELECT title FROM incidents") == [("newer",)]


def test_a_rest_search_result_is_unwrapped(db, tmp_path):
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"response": [{"Event": _event(DDOS, "1644973200", "from the API")}]}), "utf-8")
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT title, pointer FROM incidents") == [("from the API", "/response/0/Event")]


def _uuid(n: int) -> str:
    return f"{n:08x}-5b6e-4f70-8a91-b2c3d4e5f607"


@pytest.mark.parametrize("before", [{}, {"took": 12, "meta": {"page": 1}}], ids=["first", "after other members"])
def test_a_search_result_is_read_an_event_at_a_time(db, tmp_path, before):
    # a bad event is its own reject (the others load), and what follows the array is read too,
    # wherever the array stands
    deep = {"Event": {**_event(_uuid(2), "1644973200", "deep"), "Object": [{"a": "__DEEP__"}]}}
    events = [{"Event": _event(_uuid(n), "1644973200", f"event {n}")} for n in (1, 3)]
    text = json.dumps({**before, "response": [events[0], deep, events[1]], "took_after": 12})
    path = tmp_path / "search.json"
    path.write_text(text.replace('"__DEEP__"', "[" * 200 + "]" * 200), "utf-8")
    result = run("ingest", path, "--db", db, "--max-rejects", "1")
    assert result.code == 0, result.err
    assert rows(db, "SELECT title, pointer FROM incidents ORDER BY title") == [
        ("event 1", "/response/0/Event"),
        ("event 3", "/response/2/Event"),
    ]
    assert rows(db, "SELECT pointer, reason FROM rejects") == [
        ("/response/1", "JSON nested deeper than 100 levels (at /response/1/Event/Object/0/…)")
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"response": [], "response": []}', "the key 'response' is given twice in the object at /"),
        ('{"took": 12, "response": [], "took": 3}', "the key 'took' is given twice in the object at /"),
        ('{"took": 12, "response": [], "response": []}', "the key 'response' is given twice in the object at /"),
        ('{"took": 12, "took": [1], "response": []}', "the key 'took' is given twice in the object at /"),
        ('{"took": {"a": 1}, "took": 3, "response": []}', "the key 'took' is given twice in the object at /"),
        ('{"response": {}, "response": []}', "the key 'response' is given twice in the object at /"),
        ('{"info": "x", "Attribute": "\\u0000"}', "the string at /Attribute"),
        ('{"info": "\\u0000", "response": []}', "the string at /info"),
    ],
    ids=[
        "response twice",
        "key twice",
        "response twice after a member",
        "key twice before the response",
        "key twice, a map first",
        "response twice, a map first",
        "a NUL",
        "a NUL before the response",
    ],
)
def test_a_top_level_object_with_a_fault_is_one_reject(db, tmp_path, text, reason):
    path = tmp_path / "bad.json"
    path.write_text(text, "utf-8")
    run("ingest", path, "--db", db)
    ((pointer, found),) = rows(db, "SELECT pointer, reason FROM rejects")
    assert pointer == "" and found.startswith(reason), found


@pytest.mark.parametrize("before", ["", '"took": 12, "meta": {"page": 1}, '], ids=["first", "after other members"])
def test_a_big_search_result_is_read_in_little_memory(tmp_path, before):
    """Read in a fresh interpreter: 40 MB of events in a search result (as MISP's restSearch
    writes one) must not be built whole, which took about 250 MB."""
    path = tmp_path / "search.json"
    attributes = [{"type": "text", "value": "x" * 200, "category": "Other"}] * 40
    with path.open("w", encoding="utf-8") as out:
        out.write("{" + before + '"response": [')
        for n in range(4_000):
            event = {"Event": {**_event(_uuid(n), "1644973200", f"event {n}"), "Attribute": attributes}}
            out.write(("," if n else "") + json.dumps(event))
        out.write("]}")
    code = (
        "import re, sys\nfrom pathlib import Path\nfrom ingest.formats import misp\n"
        "n = sum(1 for r in misp.read_events(Path(sys.argv[1]), 'utf-8', None) if r.fields)\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
        "print(n, peak // 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    events, rss_mb = map(int, out.split())
    assert path.stat().st_size > 40_000_000 and events == 4_000 and rss_mb < 120, out


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ('misp-galaxy:threat-actor="Sandworm"', {"misp-galaxy:threat-actor": ["Sandworm"]}),
        ('circl:incident-classification="denial-of-service"', {"circl:incident-classification": ["denial-of-service"]}),
        ("ecsirt:availability=ddos", {"ecsirt:availability": ["ddos"]}),
        ('misp-galaxy:sector="Government, Administration"', {"misp-galaxy:sector": ["Government, Administration"]}),
        ("tlp:clear", {}),
        ("for_intelmq_processing", {}),
    ],
)
def test_machine_tags(tag, expected):
    assert _tag_values([MispTag(name=tag)]) == expected


@pytest.mark.parametrize(
    ("attributes", "tags", "expected"),
    [
        # the normal shape: an attribute and a galaxy tag naming the same country
        ([("target-location", "Ukraine")], ['misp-galaxy:country="ukraine"'], [(None, "UKR")]),
        (
            [("target-location", "Ukraine"), ("target-org", "PrivatBank")],
            ['misp-galaxy:country="ukraine"'],
            [("PrivatBank", "UKR")],
        ),
        # two countries and no telling where each organisation is: both countries kept
        (
            [("target-location", "Ukraine"), ("target-location", "Poland"), ("target-org", "PrivatBank")],
            [],
            [("PrivatBank", None), (None, "POL"), (None, "UKR")],
        ),
    ],
)
def test_every_stated_country_is_kept_once(db, tmp_path, attributes, tags, expected):
    event = _event(DDOS, "1644973200", "DDoS on banks") | {
        "Attribute": [{"type": t, "category": "Targeting data", "value": v} for t, v in attributes],
        "Tag": [{"name": name} for name in tags],
    }
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"Event": event}), "utf-8")
    assert run("ingest", path, "--db", db).code == 0
    assert rows(db, "SELECT organisation, country FROM incident_targets ORDER BY organisation NULLS LAST, country") == (
        expected
    )
