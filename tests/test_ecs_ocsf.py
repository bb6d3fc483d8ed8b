"""Elastic Common Schema alerts and OCSF findings: staged inside DuckDB like Suricata EVE,
every line accounted for (stored, skipped with its reason, or rejected with its field)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, ip_number, rows, run, scalar

from ingest import formats
from ingest.formats import ecs, ocsf

ECS_GOOD = FIXTURES / "ecs" / "good" / "siem-2022-02-15.ndjson"
ECS_BAD = FIXTURES / "ecs" / "bad" / "siem-broken.ndjson"
OCSF_GOOD = FIXTURES / "ocsf" / "good" / "soar-2022-02-15.ndjson"
OCSF_BAD = FIXTURES / "ocsf" / "bad" / "soar-broken.ndjson"
MOD = "Ministry of Defence of Ukraine"
UTC = "strftime(observed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ')"


def _ingest(db: Path, *paths: Path, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    result = run("ingest", *paths, "--db", db, "--json", *extra)
    assert "Traceback" not in result.err
    return result.code, json.loads(result.out)


def _flatten(doc: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.fixture(scope="module")
def ecs_good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict]:
    """The good ECS log ingested once, for the tests that only read the store."""
    db = tmp_path_factory.mktemp("ecs") / "store.duckdb"
    return db, *_ingest(db, ECS_GOOD)


@pytest.fixture(scope="module")
def ocsf_good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict]:
    """The good OCSF log ingested once, for the tests that only read the store."""
    db = tmp_path_factory.mktemp("ocsf") / "store.duckdb"
    return db, *_ingest(db, OCSF_GOOD)


# ECS


def test_ecs_alerts_load_and_other_kinds_are_counted_and_skipped(ecs_good):
    db, code, summary = ecs_good
    assert code == 0
    (file,) = summary["files"]
    assert file["format"] == "ecs"  # detected, not told
    assert (file["records_read"], file["inserted"], file["rejected"]) == (48, 43, 0)
    assert file["skipped"] == {"ECS event document (not an alert)": 4, "ECS metric document (not an alert)": 1}
    assert rows(
        db,
        f"""SELECT product, target_org, category, severity, severity_raw, count(*), min({UTC}), max({UTC}),
                   sum(event_count)
            FROM alerts GROUP BY ALL ORDER BY ALL""",
    ) == [
        # the unrelated alert: 12:15+02:00 is 10:15 UTC; T1110 is not an attack type cyberlog maps
        (
            "Example VPN Gateway",
            "State Service of Special Communications",
            "other",
            "low",
            "21",
            1,
            "2022-02-15T10:15:00Z",
            "2022-02-15T10:15:00Z",
            1,
        ),
        # event.severity 73 on 0-100: high
        ("Example WAF", MOD, "ddos", "high", "73", 28, "2022-02-15T13:58:00Z", "2022-02-15T14:04:36Z", 28),
        # the Kibana signal: kibana.alert.severity wins over the risk score
        ("OISF Suricata", MOD, "ddos", "high", "high", 1, "2022-02-15T14:01:59Z", "2022-02-15T14:01:59Z", 1),
        # event.risk_score 47: medium
        ("OISF Suricata", MOD, "ddos", "medium", "47", 13, "2022-02-15T13:58:48Z", "2022-02-15T14:04:59Z", 13),
    ]
    # six alerts a minute against the MoD website, 13:58 to 14:04
    assert rows(
        db,
        """SELECT strftime(date_trunc('minute', observed_at) AT TIME ZONE 'UTC', '%H:%M'), count(*)
           FROM alerts WHERE dst_host = 'www.mil.gov.ua' GROUP BY 1 ORDER BY 1""",
    ) == [(f"{h:02d}:{m:02d}", 6) for h, m in [(13, 58), (13, 59), (14, 0), (14, 1), (14, 2), (14, 3), (14, 4)]]
    assert rows(
        db,
        """SELECT DISTINCT category_raw, dst_ip, dst_port FROM alerts ORDER BY 1""",
    ) == [("T1110 Brute Force", "203.0.113.50", 22), ("T1498 Network Denial of Service", "203.0.113.10", 443)]
    assert scalar(db, "SELECT count(*) FROM alerts WHERE in_network(src_ip, '198.18.0.0/15')") == 21
    assert scalar(db, "SELECT count(*) FROM alerts WHERE in_network(src_ip, '192.0.2.0/24')") == 20
    assert rows(db, "SELECT src_ip, action FROM alerts WHERE src_ip LIKE '%:%'") == [("2001:db8::7", "blocked")]


def test_ecs_field_by_field(ecs_good):
    db, _, _ = ecs_good
    assert rows(
        db,
        f"""SELECT source_ref, {UTC}, signature, signature_id, category_raw, action, src_ip, src_port, url, message
            FROM alerts WHERE source_ref IN ('siem-0000', 'siem-0001', 'siem-0019') ORDER BY source_ref""",
    ) == [
        (
            "siem-0000",
            "2022-02-15T10:15:00Z",
            "SSH brute force",
            "vpn-bf-7",
            "T1110 Brute Force",
            "logon-failed",
            "198.51.100.77",
            51515,
            None,
            "320 failed SSH logins from 198.51.100.77 in 5 minutes",
        ),
        (
            "siem-0001",
            "2022-02-15T13:58:00Z",
            "HTTP flood against www.mil.gov.ua",
            "waf-ddos-101",
            "T1498 Network Denial of Service",
            "blocked",
            "192.0.2.10",
            1024,
            "https://www.mil.gov.ua/",
            "HTTP flood against www.mil.gov.ua from 192.0.2.10",
        ),
        # @timestamp as epoch milliseconds (1644933660000)
        (
            "siem-0019",
            "2022-02-15T14:01:00Z",
            "HTTP flood against www.mil.gov.ua",
            "waf-ddos-101",
            "T1498 Network Denial of Service",
            "blocked",
            "192.0.2.28",
            18970,
            "https://www.mil.gov.ua/",
            "HTTP flood against www.mil.gov.ua from 192.0.2.28",
        ),
    ]
    # the signal's rule name is kibana.alert.rule.name; the mixed document's event.kind is a flat key
    assert scalar(db, "SELECT signature FROM alerts WHERE source_ref = 'siem-0024'") == (
        "ET DOS Possible HTTP flood against www.mil.gov.ua"
    )
    assert scalar(db, "SELECT count(*) FROM alerts WHERE source_ref = 'siem-0009'") == 1
    # without event.id: the line's digest and its occurrence
    (ref,) = rows(db, "SELECT source_ref FROM alerts WHERE source_ref NOT LIKE 'siem-%'")[0]
    assert str(ref).endswith(":1") and len(str(ref)) == 34


COLUMNS = """product, signature, signature_id, severity, severity_raw, category, category_raw, action, src_ip, src_port,
             dst_ip, dst_port, dst_host, url, target_org, event_count, message, observed_at"""


def test_ecs_flat_dotted_keys_read_as_the_nested_objects(db, tmp_path):
    nested = json.loads(ECS_GOOD.read_text("utf-8").splitlines()[1])
    flat = _flatten(nested)
    assert "event.kind" in flat and "threat.technique.id" in flat
    flat["event.id"] = "flat-copy"
    path = tmp_path / "mixed.ndjson"
    path.write_text(json.dumps(nested) + "\n" + json.dumps(flat) + "\n", "utf-8")
    code, summary = _ingest(db, path, extra=("--format", "ecs"))
    assert code == 0 and summary["inserted"] == 2
    first, second = rows(db, f"SELECT {COLUMNS} FROM alerts ORDER BY line")
    assert first == second
    # in the fixture too: siem-0014 is written flat, siem-0008 nested; alike but for times, addresses, ids
    alike = """product, signature, signature_id, severity, severity_raw, category, category_raw, action, dst_ip,
               dst_port, dst_host, url, target_org"""
    _ingest(db, ECS_GOOD)
    pair = rows(db, f"SELECT DISTINCT {alike} FROM alerts WHERE source_ref IN ('siem-0008', 'siem-0014')")
    assert len(pair) == 1


def test_ecs_rejects_say_which_field_and_why_and_the_good_lines_load(db):
    code, summary = _ingest(db, ECS_BAD, extra=("--format", "ecs"))
    assert code == 3
    assert (summary["inserted"], summary["rejected"]) == (2, 5)
    found = rows(db, "SELECT line, field, reason FROM rejects ORDER BY line")
    assert found[0][:2] == (2, "(record)") and str(found[0][2]).startswith("malformed JSON: Unterminated string")
    assert found[1:] == [
        (3, "@timestamp", "'1644933600': epoch in seconds? ECS @timestamp epochs are milliseconds"),
        (4, "source.ip", "'192.0.2.300' is not an IPv4 or IPv6 address"),
        (5, "destination.port", "'99999' is not a port (0-65535)"),
        (6, "@timestamp", "'2022-02-15T14:00:00' has no UTC offset: set timezone for the source"),
    ]
    assert rows(db, "SELECT source_ref, line FROM alerts ORDER BY line") == [("bad-0001", 1), ("bad-0007", 7)]


def test_ecs_time_without_offset_takes_the_source_zone(db, tmp_path):
    line = ECS_BAD.read_text("utf-8").splitlines()[5]
    folder = tmp_path / "siem"
    folder.mkdir()
    (folder / "naive.ndjson").write_text(line + "\n", "utf-8")
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        '[[sources]]\nname = "siem"\nformat = "ecs"\npath = "siem/*.ndjson"\ntimezone = "Europe/Kyiv"\n', "utf-8"
    )
    result = run("nightly", "--config", config, "--db", db)
    assert result.code == 0, result.err
    assert scalar(db, f"SELECT {UTC} FROM alerts") == "2022-02-15T12:00:00Z"


def test_ecs_documents_without_a_kind_or_not_objects(db, tmp_path):
    path = tmp_path / "odd.ndjson"
    path.write_text('{"@timestamp": "2022-02-15T14:00:00Z", "ecs.version": "8.11.0"}\n[1, 2]\n', "utf-8")
    code, summary = _ingest(db, path, extra=("--format", "ecs"))
    assert code == 3
    assert summary["files"][0]["skipped"] == {"ECS document without event.kind (not an alert)": 1}
    assert rows(db, "SELECT line, field, reason FROM rejects") == [(2, "(record)", "not a JSON object")]


def test_a_renamed_copy_is_not_stored_twice(db, tmp_path):
    _ingest(db, ECS_GOOD, OCSF_GOOD)
    for good in (ECS_GOOD, OCSF_GOOD):  # the same lines, other bytes (CRLF), another name
        copy = tmp_path / f"copy-of-{good.name}"
        copy.write_bytes(good.read_bytes().replace(b"\n", b"\r\n"))
        code, summary = _ingest(db, copy)
        file = summary["files"][0]
        assert code == 0 and file["status"] == "loaded"
        assert (file["inserted"], file["updated"]) == (0, 0)
        assert file["unchanged"] == {"ecs": 43, "ocsf": 8}[file["format"]]
    assert scalar(db, "SELECT count(*) FROM alerts") == 51


# OCSF


def test_ocsf_findings_load_and_other_classes_are_skipped(ocsf_good):
    db, code, summary = ocsf_good
    assert code == 0
    (file,) = summary["files"]
    assert file["format"] == "ocsf"
    assert (file["records_read"], file["inserted"], file["rejected"]) == (9, 8, 0)
    assert file["skipped"] == {"OCSF class 4001 (not a finding)": 1}
    assert rows(
        db,
        f"""SELECT product, target_org, category, count(*), min({UTC}), max({UTC}), sum(event_count)
            FROM alerts GROUP BY ALL""",
    ) == [("Example SOAR", MOD, "ddos", 8, "2022-02-15T14:00:00Z", "2022-02-15T14:03:30Z", 19502)]
    assert rows(db, "SELECT severity, severity_raw, count(*) FROM alerts GROUP BY ALL ORDER BY ALL") == [
        ("critical", "Critical", 2),
        ("high", "High", 5),
        ("medium", "Medium", 1),
    ]


def test_ocsf_field_by_field(ocsf_good):
    db, _, _ = ocsf_good
    assert rows(
        db,
        f"""SELECT source_ref, {UTC}, signature, signature_id, category_raw, action, src_ip, src_port, dst_ip,
                   dst_port, dst_host, url, event_count, message
            FROM alerts WHERE source_ref IN ('DF-2022-0215-001', 'DF-2022-0215-004', 'INC-2022-0215-01')
            ORDER BY source_ref""",
    ) == [
        (
            "DF-2022-0215-001",
            "2022-02-15T14:00:00Z",
            "HTTP flood against www.mil.gov.ua",
            "waf-ddos-101",
            "T1498 Network Denial of Service",
            "Denied",
            "192.0.2.44",
            30007,
            "203.0.113.10",
            443,
            "www.mil.gov.ua",
            None,
            1000,
            "HTTP flood from 192.0.2.44 against www.mil.gov.ua",
        ),
        # no count: one event
        (
            "DF-2022-0215-004",
            "2022-02-15T14:01:48Z",
            "HTTP flood against www.mil.gov.ua",
            "waf-ddos-101",
            "T1498 Network Denial of Service",
            "Denied",
            "198.19.200.4",
            30028,
            "203.0.113.10",
            443,
            "www.mil.gov.ua",
            None,
            1,
            "HTTP flood from 198.19.200.4 against www.mil.gov.ua",
        ),
        # the Incident Finding: its first finding_info_list entry, its desc, its status
        (
            "INC-2022-0215-01",
            "2022-02-15T14:03:30Z",
            "HTTP flood against mil.gov.ua",
            "INC-2022-0215-01",
            "DDoS against Ukrainian MoD website and state banks",
            "In Progress",
            None,
            None,
            None,
            None,
            None,
            "https://soar.example.org/incidents/INC-2022-0215-01",
            1,
            "DDoS against Ukrainian MoD website and state banks",
        ),
    ]


def test_ocsf_rejects_say_which_field_and_why_and_the_good_lines_load(db):
    code, summary = _ingest(db, OCSF_BAD, extra=("--format", "ocsf"))
    assert code == 3
    assert (summary["inserted"], summary["rejected"]) == (2, 5)
    found = rows(db, "SELECT line, field, reason FROM rejects ORDER BY line")
    assert found[2][:2] == (4, "(record)") and str(found[2][2]).startswith("malformed JSON: ")
    assert found[:2] + found[3:] == [
        (2, "time", "'1644933600': epoch in seconds? OCSF times are milliseconds"),
        (3, "class_uid", "no class_uid: not an OCSF event"),
        (5, "severity_id", "'high' is not an OCSF severity_id (0-6 or 99)"),
        (6, "src_endpoint.ip", "'198.51.100.256' is not an IPv4 or IPv6 address"),
    ]
    assert rows(db, "SELECT source_ref, event_count FROM alerts ORDER BY line") == [
        ("DF-2022-0215-101", 1),
        ("DF-2022-0215-107", 12),
    ]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"count": 0}, "count", "'0' is not a count of events (1 or more)"),
        ({"time": "soon"}, "time", "'soon' is not an epoch in milliseconds"),
        (
            {"time": None, "time_dt": "2022-02-15 14:00:00"},
            "time_dt",
            "'2022-02-15 14:00:00' has no UTC offset: set timezone for the source",
        ),
        ({"class_uid": "finding"}, "class_uid", "'finding' is not an OCSF class_uid"),
        (
            {"dst_endpoint": {"ip": "203.0.113.10", "port": 70000}},
            "dst_endpoint.port",
            "'70000' is not a port (0-65535)",
        ),
    ],
)
def test_ocsf_odd_values(db, tmp_path, change, field, reason):
    doc = json.loads(OCSF_GOOD.read_text("utf-8").splitlines()[0])
    doc.update(change)
    doc = {k: v for k, v in doc.items() if v is not None}
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(doc) + "\n", "utf-8")
    code, _ = _ingest(db, path, extra=("--format", "ocsf"))
    assert code == 3
    assert rows(db, "SELECT line, field, reason FROM rejects") == [(1, field, reason)]


def test_ocsf_time_dt_stands_in_for_time_and_severity_99_reads_the_caption(db, tmp_path):
    doc = json.loads(OCSF_GOOD.read_text("utf-8").splitlines()[0])
    del doc["time"]
    doc.update({"time_dt": "2022-02-15T16:00:00+02:00", "severity_id": 99, "severity": "Critical"})
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(doc) + "\n", "utf-8")
    assert _ingest(db, path, extra=("--format", "ocsf"))[0] == 0
    assert rows(db, f"SELECT {UTC}, severity, severity_raw FROM alerts") == [
        ("2022-02-15T14:00:00Z", "critical", "Critical")
    ]


# Detection


def test_each_fixture_is_told_by_its_own_sniffer_only():
    assert formats.detect(ECS_GOOD).name == "ecs"
    assert formats.detect(OCSF_GOOD).name == "ocsf"
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in (".toml", ".md"):
            continue
        head = path.read_bytes()[: formats.SNIFF_BYTES]
        assert ecs.sniff(head) == (path.parent.parent.name == "ecs"), path
        assert ocsf.sniff(head) == (path.parent.parent.name == "ocsf"), path


def test_eve_and_the_two_json_line_formats_do_not_collide():
    eve_line = b'{"timestamp":"2022-02-15T14:00:00.000000+0000","event_type":"alert","src_ip":"192.0.2.1"}\n'
    ecs_line = ECS_GOOD.read_bytes().split(b"\n", 1)[0]
    ocsf_line = OCSF_GOOD.read_bytes().split(b"\n", 1)[0]
    for head, name in ((eve_line, "eve"), (ecs_line, "ecs"), (ocsf_line, "ocsf")):
        assert [fmt.name for fmt in formats.all_formats() if fmt.sniff(head)] == [name]


def test_ocsf_repeated_lines_without_a_uid_are_distinct_alerts_and_a_repeated_uid_is_a_duplicate(db, tmp_path):
    doc = json.loads(OCSF_GOOD.read_text("utf-8").splitlines()[0])
    path = tmp_path / "repeats.ndjson"
    no_uid = {**doc, "finding_info": {k: v for k, v in doc["finding_info"].items() if k != "uid"}}
    path.write_text((json.dumps(no_uid) + "\n") * 2 + (json.dumps(doc) + "\n") * 2, "utf-8")
    code, summary = _ingest(db, path, extra=("--format", "ocsf"))
    assert code == 3 and (summary["inserted"], summary["rejected"]) == (3, 1)
    assert rows(db, "SELECT line, field FROM rejects") == [(4, "ref")]


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("2022-02-15T13:00:05Z", "2022-02-15T13:00:05Z"),
        ("2022-02-15T15:00:05+02:00", "2022-02-15T13:00:05Z"),
        ("2022-02-15T15:00:05.25+0200", "2022-02-15T13:00:05Z"),
        ("2022-02-15T15:00:05+02", "2022-02-15T13:00:05Z"),  # ISO 8601 allows an offset of hours only
        ("2022-02-15T13:00Z", "2022-02-15T13:00:00Z"),
        ("2022-02-15T13:00:05", None),  # no offset: the source's zone, else a reject
        ("2022-02-15", "date"),  # a date's "-15" is not an offset, and a date is not an alert's time
        ("2022-02-15T15:00:05+14:00", "2022-02-15T01:00:05Z"),  # Kiribati
        ("2022-02-15T00:00:05-12:00", "2022-02-15T12:00:05Z"),
        ("2022-02-15T13:00:05+99:00", "has a UTC offset past 23:59"),  # DuckDB alone reads 99 hours
        ("2022-02-15T13:00:05+24:00", "has a UTC offset past 23:59"),
        ("2022-02-15T13:00:05+02:75", "has a UTC offset past 23:59"),
        ("Infinity", "is not an"),  # DuckDB alone reads an infinite time
    ],
)
@pytest.mark.parametrize("fmt", ["eve", "ecs", "ocsf"])
def test_every_json_format_reads_the_same_utc_offsets(db, tmp_path, fmt, written, instant):
    doc = {
        "eve": {
            "timestamp": written,
            "flow_id": 1,
            "event_type": "alert",
            "src_ip": "192.0.2.1",
            "alert": {"signature_id": 1, "signature": "flood"},
        },
        "ecs": {"@timestamp": written, "event": {"kind": "alert", "id": "e1"}, "rule": {"name": "flood"}},
        "ocsf": {
            "class_uid": 2004,
            "time_dt": written,
            "severity_id": 4,
            "finding_info": {"uid": "f1", "title": "flood"},
        },
    }[fmt]
    path = tmp_path / f"one.{fmt}.json"
    path.write_text(json.dumps(doc) + "\n", "utf-8")
    code, _ = _ingest(db, path, extra=("--format", fmt))
    if instant is None:
        assert code == 3
        assert "has no UTC offset" in scalar(db, "SELECT reason FROM rejects")
    elif instant.startswith(("has ", "is ")):
        assert code == 3
        assert f"'{written}' {instant}" in scalar(db, "SELECT reason FROM rejects")
        zoned = tmp_path / "zoned.duckdb"  # the source's zone does not make it a time either
        assert _ingest(zoned, path, extra=("--format", fmt, "--timezone", "Europe/Kyiv"))[0] == 3
    elif instant == "date":
        assert code == 3
        assert f"'{written}' is a date without a time of day" in scalar(db, "SELECT reason FROM rejects")
        zoned = tmp_path / "zoned.duckdb"  # with the source's zone too: midnight is not when it fired
        assert _ingest(zoned, path, extra=("--format", fmt, "--timezone", "Europe/Kyiv"))[0] == 3
    else:
        assert code == 0
        assert scalar(db, f"SELECT {UTC} FROM alerts") == instant


# Every IPv6 address, link-local and multicast included: the top half of the number line
# (fe80::, ff02::, anything from 8000::) once came back negative from the chunk's Arrow
# table and failed the whole file.
ADDRESSES = [
    "fe80::1",
    "ff02::1",
    "fd00::2",
    "8000::",
    "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "::1",
    "255.255.255.255",
    "0.0.0.0",
]


def _alert_line(fmt: str, i: int, src: str, dst: str) -> str:
    at = f"2022-02-15T13:00:{i:02d}Z"
    if fmt == "cef":
        return f"CEF:0|Example|WAF|2.1|ddos-101|HTTP flood|9|rt={1644930000000 + i * 1000} src={src} dst={dst}"
    doc = {
        "eve": {
            "timestamp": at,
            "flow_id": i,
            "event_type": "alert",
            "src_ip": src,
            "dest_ip": dst,
            "alert": {"signature_id": 1, "signature": "flood"},
        },
        "ecs": {
            "@timestamp": at,
            "event": {"kind": "alert", "id": f"e{i}"},
            "rule": {"name": "flood"},
            "source": {"ip": src},
            "destination": {"ip": dst},
        },
        "ocsf": {
            "class_uid": 2004,
            "time_dt": at,
            "severity_id": 4,
            "finding_info": {"uid": f"f{i}", "title": "flood"},
            "src_endpoint": {"ip": src},
            "dst_endpoint": {"ip": dst},
        },
    }[fmt]
    return json.dumps(doc)


@pytest.mark.parametrize("fmt", ["eve", "ecs", "ocsf", "cef"])
def test_every_address_is_stored_as_its_number_whatever_the_format(db, tmp_path, fmt):
    path = tmp_path / f"addresses.{fmt}"
    path.write_text("".join(_alert_line(fmt, i, ip, ip) + "\n" for i, ip in enumerate(ADDRESSES)), "utf-8")
    code, summary = _ingest(db, path, extra=("--format", fmt))
    assert (code, summary["inserted"], summary["rejected"]) == (0, len(ADDRESSES), 0)
    stored = rows(db, "SELECT src_ip, src_ip_num, dst_ip_num, ip_num(src_ip) FROM alerts ORDER BY line")
    assert [r[0] for r in stored] == ADDRESSES
    assert all(r[1] == r[2] == r[3] == ip_number(r[0]) for r in stored)
    assert scalar(db, "SELECT count(*) FROM alerts WHERE in_network(src_ip, 'ff00::/8')") == 2
    assert scalar(db, "SELECT count(*) FROM alerts WHERE in_network(dst_ip, 'fe80::/10')") == 1
