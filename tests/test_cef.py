"""ArcSight CEF: header and extension parsed inside DuckDB, every line an alert or a reject."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, rows, run, scalar

from ingest import formats

GOOD = FIXTURES / "cef" / "good" / "waf01-2022-02-15.cef"
BAD = FIXTURES / "cef" / "bad" / "waf01-broken.cef"
HEADER = "<134>Feb 15 14:10:00 waf01 CEF:0|Example|WAF|2.1|ddos-101|HTTP flood detected|9|"
FIELDS = "src_ip, src_port, dst_ip, dst_port, dst_host, url, target_org, event_count, message, action"


def _ingest(db: Path, path: Path, *args: str) -> dict[str, Any]:
    result = run("ingest", path, "--db", db, "--json", *args)
    assert "Traceback" not in result.err
    summary: dict[str, Any] = json.loads(result.out)
    return summary


def _one(tmp_path: Path, db: Path, text: str, *args: str) -> dict[str, Any]:
    """A one-line (or few-line) CEF file, ingested as CEF."""
    path = tmp_path / "one.cef"
    path.write_text(text if text.endswith("\n") else text + "\n", "utf-8", newline="")
    return _ingest(db, path, "--format", "cef", *args)


@pytest.fixture(scope="module")
def waf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The good WAF log ingested once, for the tests that only read the store."""
    db = tmp_path_factory.mktemp("waf") / "store.duckdb"
    return db, _ingest(db, GOOD)


def test_the_waf_log_loads_whole_with_its_format_told_by_its_lines(waf):
    db, summary = waf
    assert summary["exit_code"] == 0
    (file,) = summary["files"]
    assert (file["format"], file["records_read"], file["inserted"], file["rejected"]) == ("cef", 68, 68, 0)
    assert formats.detect(GOOD).name == "cef"
    assert rows(
        db,
        """SELECT target_org, count(*), sum(event_count) > 0, list(DISTINCT category ORDER BY category),
                  strftime(min(observed_at), '%H:%M:%S.%g'), strftime(max(observed_at), '%H:%M:%S.%g'),
                  list(DISTINCT dst_ip ORDER BY dst_ip), list(DISTINCT dst_host ORDER BY dst_host)
           FROM alerts GROUP BY target_org ORDER BY target_org NULLS LAST""",
    ) == [
        ("Oschadbank", 30, True, ["ddos"], "14:03:00.000", "14:07:59.000", ["198.51.100.40"], ["www.oschadbank.ua"]),
        ("PrivatBank", 36, True, ["ddos"], "14:01:00.000", "14:06:59.102", ["198.51.100.20"], ["privatbank.ua"]),
        (
            None,
            2,
            True,
            ["other"],
            "09:12:07.000",
            "11:40:31.000",
            ["198.51.100.20", "198.51.100.40"],
            ["privatbank.ua", "www.oschadbank.ua"],
        ),
    ]
    # six alerts a minute on each bank
    assert rows(
        db,
        """SELECT DISTINCT target_org, count(*) OVER (PARTITION BY target_org, date_trunc('minute', observed_at))
           FROM alerts WHERE target_org IS NOT NULL ORDER BY 1""",
    ) == [("Oschadbank", 6), ("PrivatBank", 6)]
    assert rows(db, "SELECT severity, count(*) FROM alerts GROUP BY 1 ORDER BY 1") == [
        ("critical", 33),
        ("high", 33),
        ("low", 1),
        ("medium", 1),
    ]
    assert rows(db, "SELECT DISTINCT product, action FROM alerts") == [("Example WAF", "blocked")]
    assert rows(
        db, "SELECT line, signature, signature_id, severity_raw, category_raw FROM alerts WHERE line <= 4 ORDER BY line"
    ) == [
        (1, "SQL injection attempt", "sqli-942100", "5", "Injection"),
        (2, "Scanner detected | Nikto", "scan-913100", "Low", "Reconnaissance"),
        (3, "HTTP flood detected", "ddos-101", "9", "DoS"),
        (4, "HTTP flood detected", "ddos-101", "High", "HTTP flood detected"),
    ]


def test_extension_escapes_are_undone(waf):
    db, summary = waf
    assert summary["exit_code"] == 0
    assert rows(db, "SELECT message, count(*) FROM alerts GROUP BY 1 ORDER BY 1") == [
        ("SQL injection in parameter q", 1),
        ("first line\nsecond line", 1),
        ("origin C:\\inetpub\\wwwroot overloaded", 1),
        ("rate=200k rps | threshold exceeded", 64),
        ("scanner user agent Nikto, client outside Ukraine", 1),  # trailing spaces of the last value dropped
    ]
    assert rows(db, "SELECT DISTINCT url FROM alerts ORDER BY 1") == [
        ("https://privatbank.ua/online/login?lang=uk",),
        ("https://privatbank.ua/search?q=1' OR '1'='1",),
        ("https://www.oschadbank.ua/",),
        (None,),
    ]


def test_an_ipv6_source_is_a_number_sql_can_match_networks_with(waf):
    db, summary = waf
    assert summary["exit_code"] == 0
    assert rows(db, "SELECT line, src_ip, src_ip_num IS NOT NULL FROM alerts WHERE src_ip LIKE '%:%'") == [
        (23, "2001:db8::25", True)
    ]
    assert rows(
        db,
        """SELECT count(*) FILTER (in_network(src_ip, '2001:db8::/32')),
                  count(*) FILTER (in_network(src_ip, '192.0.2.0/24') OR in_network(src_ip, '203.0.113.0/24')),
                  count(*) FILTER (src_ip_num IS NULL OR dst_ip_num IS NULL)
           FROM alerts""",
    ) == [(1, 67, 0)]


def test_a_renamed_copy_adds_nothing_and_a_grown_log_only_its_new_line(db, tmp_path):
    assert _ingest(db, GOOD)["exit_code"] == 0
    copy = tmp_path / "waf01-copy.log"
    shutil.copy(GOOD, copy)
    again = _ingest(db, copy)
    assert (again["exit_code"], again["inserted"], again["updated"]) == (0, 0, 0)
    grown = tmp_path / "waf01-grown.log"
    extra = HEADER + "rt=1644934200000 src=192.0.2.99 dst=198.51.100.20 cs1=PrivatBank cs1Label=targetOrg\n"
    grown.write_text(GOOD.read_text("utf-8") + extra, "utf-8")
    summary = _ingest(db, grown)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (1, 0, 68)
    assert scalar(db, "SELECT count(*) FROM alerts") == 69


def test_the_same_line_twice_is_two_alerts(db, tmp_path):
    line = HEADER + "rt=1644934200000 src=192.0.2.1 dst=198.51.100.20 cnt=3"
    summary = _one(tmp_path, db, f"{line}\n{line}\n")
    assert (summary["inserted"], summary["rejected"]) == (2, 0)
    assert rows(db, "SELECT line, event_count FROM alerts ORDER BY line") == [(1, 3), (2, 3)]


def test_a_broken_log_rejects_each_bad_line_with_its_field_and_reason(db):
    summary = _ingest(db, BAD)
    assert (summary["exit_code"], summary["inserted"], summary["rejected"]) == (3, 3, 9)
    assert rows(db, "SELECT line, field, reason FROM rejects ORDER BY line") == [
        (
            2,
            "(record)",
            "CEF header has 4 of the 7 unescaped '|' it needs (CEF:Version|Device Vendor|Device Product"
            "|Device Version|Device Event Class ID|Name|Severity|Extension)",
        ),
        (3, "(record)", "no CEF: header (a CEF line is [syslog prefix] CEF:Version|Vendor|Product|...)"),
        (5, "rt", "'Feb 15 14:10:04' has no year: cyberlog does not guess one"),
        (6, "rt", "'1644934205' looks like an epoch in seconds? CEF rt is milliseconds"),
        (
            7,
            "rt",
            "'Feb 15 2022 19:40:06 IST' names the zone IST, which can mean more than one offset: "
            "set timezone for the source",
        ),
        (8, "src", "'300.1.2.3' is not an IPv4 or IPv6 address"),
        (9, "dpt", "'70000' is not a port (0-65535)"),
        (10, "Severity", "'Extreme' is not a CEF severity (0-10, Low, Medium, High, Very-High or Unknown)"),
        (
            11,
            "(record)",
            "byte 0xe9 at column 138 is not valid utf-8: pass --encoding (e.g. --encoding cp1252) "
            "or set encoding in cyberlog.toml",
        ),
    ]
    assert rows(db, "SELECT line, strftime(observed_at, '%H:%M:%S.%g'), severity FROM alerts ORDER BY line") == [
        (1, "14:10:00.000", "critical"),
        (4, "14:10:03.000", "high"),
        (12, "14:10:11.250", "critical"),
    ]


@pytest.mark.parametrize(
    ("rt", "instant"),
    [
        ("Feb 15 2022 15:10:06 CET", "2022-02-15T14:10:06.000Z"),
        ("Jul 15 2022 15:10:06.5 CEST", "2022-07-15T13:10:06.500Z"),
        ("Feb 15 2022 16:10:06 EET", "2022-02-15T14:10:06.000Z"),
        ("Feb 15 2022 09:10:06 est", "2022-02-15T14:10:06.000Z"),
        ("Feb 15 2022 17:10:06 MSK", "2022-02-15T14:10:06.000Z"),
        ("Feb 15 2013 18:10:06 MSK", "2013-02-15T14:10:06.000Z"),  # Moscow kept +04:00 from 2011 to 2014
        ("Feb 15 2022 16:10:06 Europe/Kyiv", "2022-02-15T14:10:06.000Z"),
        ("Jul 15 2022 17:10:06 Europe/Kyiv", "2022-07-15T14:10:06.000Z"),
        ("Feb 15 2022 16:10:06 Etc/GMT-2", "2022-02-15T14:10:06.000Z"),
        ("Feb 15 2022 16:10:06 +0200", "2022-02-15T14:10:06.000Z"),
        ("2022-02-15T14:10:06Z", "2022-02-15T14:10:06.000Z"),
        ("2022-02-15T16:10:06.25+02:00", "2022-02-15T14:10:06.250Z"),
    ],
)
def test_a_zone_that_means_one_offset_is_resolved(db, tmp_path, rt, instant):
    _alert(tmp_path, db, f"rt={rt} src=192.0.2.1")
    assert scalar(db, "SELECT strftime(observed_at, '%Y-%m-%dT%H:%M:%S.%gZ') FROM alerts") == instant


@pytest.mark.parametrize(
    ("rt", "instant", "why"),
    [
        ("Feb 15 2022 15:10:06 IST", "2022-02-15T14:10:06.000Z", "can mean more than one offset"),
        ("Feb 15 2022 15:10:06", "2022-02-15T14:10:06.000Z", "has no time zone"),
        ("2022-02-15T15:10:06", "2022-02-15T14:10:06.000Z", "has no time zone"),
        ("Jul 15 2022 15:10:06 Mars/Olympus", "2022-07-15T13:10:06.000Z", "is not in the tz database"),
    ],
)
def test_an_ambiguous_zone_or_none_is_the_sources_declared_zone(db, tmp_path, rt, instant, why):
    line = HEADER + f"rt={rt} src=192.0.2.1"
    refused = _one(tmp_path, db, line)
    assert (refused["exit_code"], refused["rejected"]) == (3, 1)
    reason = scalar(db, "SELECT field || ': ' || reason FROM rejects")
    assert why in reason and reason.endswith("set timezone for the source")
    zoned = tmp_path / "zoned.duckdb"  # the same bytes again would be skipped as loaded
    loaded = _one(tmp_path, zoned, line, "--timezone", "Europe/Berlin")
    assert (loaded["exit_code"], loaded["inserted"]) == (0, 1)
    assert scalar(zoned, "SELECT strftime(observed_at, '%Y-%m-%dT%H:%M:%S.%gZ') FROM alerts") == instant


@pytest.mark.parametrize(
    "rt",
    [
        "Feb 15 2022 16:10:06 +9900",
        "Feb 15 2022 16:10:06 +24",
        "2022-02-15T16:10:06+99:00",
        "2022-02-15T16:10:06-02:75",
    ],
)
def test_an_offset_past_23_59_is_a_reject_whatever_the_sources_zone(db, tmp_path, rt):
    line = HEADER + f"rt={rt} src=192.0.2.1"
    for store, extra in ((db, ()), (tmp_path / "zoned.duckdb", ("--timezone", "Europe/Berlin"))):
        refused = _one(tmp_path, store, line, *extra)
        assert (refused["exit_code"], refused["rejected"]) == (3, 1)
        assert scalar(store, "SELECT field || ': ' || reason FROM rejects") == f"rt: '{rt}' has a UTC offset past 23:59"


@pytest.mark.parametrize(
    ("field", "value"), [("spt", "1.5"), ("spt", "0x1bb"), ("dpt", "1e3"), ("cnt", "2.5"), ("cnt", "1_000")]
)
def test_ports_and_counts_are_written_in_digits(db, tmp_path, field, value):
    refused = _one(tmp_path, db, HEADER + f"{T}src=192.0.2.1 {field}={value}")
    assert (refused["exit_code"], refused["rejected"]) == (3, 1)
    reason = scalar(db, "SELECT reason FROM rejects")
    assert reason.startswith(f"'{value}' is not a")


def _alert(tmp_path: Path, db: Path, extension: str, header: str = HEADER) -> dict[str, Any]:
    summary = _one(tmp_path, db, header + extension)
    assert (summary["inserted"], summary["rejected"]) == (1, 0), rows(db, "SELECT * FROM rejects")
    names = [n.strip() for n in FIELDS.split(",")]
    (values,) = rows(db, f"SELECT {FIELDS} FROM alerts")
    return {k: v for k, v in zip(names, values, strict=True) if v is not None}


T = "rt=1644934200000 "
CANNOT = "which cyberlog cannot read in a CEF extension"


@pytest.mark.parametrize(
    ("extension", "expected"),
    [
        # an escaped backslash before n stays a backslash and an n; `\=` and `\r` undone
        (T + r"msg=a\\nb", {"message": "a\\nb"}),
        (T + r"msg=a\\\=b c\rd", {"message": "a\\=b c\rd"}),
        # the first of a repeated key wins; an empty value is none
        (T + "src=192.0.2.1 src=192.0.2.2 act= msg=x", {"src_ip": "192.0.2.1", "message": "x"}),
        # a tab is no separator; pipes and spaces are part of a value; trailing whitespace dropped
        (T + "msg=a\tb=c | d  ", {"message": "a\tb=c | d"}),
        # dotted, bracketed and vendor keys are keys (so they end the value before them)
        (T + "msg=m ad.field[0]=x TrendMicroDsTenant=t spt=1", {"message": "m", "src_port": 1}),
        # IPv6 slots when src/dst are absent; the host from the URL, lower case
        (
            T + "c6a2=2001:db8::1 c6a3=2001:db8::2 request=https://user@Example.COM:8443/a?b\\=c",
            {
                "src_ip": "2001:db8::1",
                "dst_ip": "2001:db8::2",
                "dst_host": "example.com",
                "url": "https://user@Example.COM:8443/a?b=c",
            },
        ),
        # the target from whichever csN its label names, the label after or before the value
        (T + "cs2=Kyivstar cs3Label=x cs3=y cs2Label=TARGET_ORG cnt=7", {"target_org": "Kyivstar", "event_count": 7}),
        (
            T + "cs6Label=TargetOrganization cs6=Ukrenergo dhost=ukrenergo.ua",
            {"target_org": "Ukrenergo", "dst_host": "ukrenergo.ua"},
        ),
        # no rt: end, else start
        ("start=1644934100000 end=1644934200000 act=alert", {"action": "alert"}),
    ],
)
def test_extension_edge_cases(db, tmp_path, extension, expected):
    assert _alert(tmp_path, db, extension) == {"event_count": 1, **expected}
    if "end=" in extension:
        assert scalar(db, "SELECT epoch_ms(observed_at) FROM alerts") == 1644934200000


@pytest.mark.parametrize(
    ("severity", "mapped"),
    [
        ("0", "low"),
        ("3", "low"),
        ("4", "medium"),
        ("6", "medium"),
        ("7", "high"),
        ("8", "high"),
        ("9", "critical"),
        ("10", "critical"),
        ("low", "low"),
        ("MEDIUM", "medium"),
        ("High", "high"),
        ("very-high", "critical"),
        ("Unknown", None),
    ],
)
def test_severity_scales(db, tmp_path, severity, mapped):
    _alert(tmp_path, db, T, HEADER.replace("|9|", f"|{severity}|"))
    assert rows(db, "SELECT severity, severity_raw FROM alerts") == [(mapped, severity)]


def test_header_escapes_and_cef_1(db, tmp_path):
    header = r"CEF:1|Ex\|ample|W\\AF|2.1|id\|1|a \| b \\ c = d|5|"
    _alert(tmp_path, db, T, header)
    assert rows(db, "SELECT product, signature_id, signature FROM alerts") == [
        ("Ex|ample W\\AF", "id|1", "a | b \\ c = d")
    ]


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (HEADER + "src=192.0.2.1", "rt", "no time (rt, start or end)"),
        (HEADER + "rt=Feb 30 2022 10:00:00 UTC", "rt", "'Feb 30 2022 10:00:00 UTC' is not a valid date and time"),
        (
            HEADER + "rt=15/02/2022 10:00:00",
            "rt",
            "'15/02/2022 10:00:00' is not epoch milliseconds, MMM dd yyyy HH:mm:ss[.SSS][ zone] or ISO 8601",
        ),
        (HEADER + "rt=2022-02-30T10:00:00Z", "rt", "'2022-02-30T10:00:00Z' is not a valid date and time"),
        # digits are read as epoch milliseconds only: the other forms are not tried on them
        (HEADER + "rt=1644934200", "rt", "'1644934200' looks like an epoch in seconds? CEF rt is milliseconds"),
        (
            HEADER + "rt=16449342",
            "rt",
            "'16449342' is not epoch milliseconds, MMM dd yyyy HH:mm:ss[.SSS][ zone] or ISO 8601",
        ),
        # the character the extension is split at, inside a value: refused, not cut short
        *[
            (HEADER + T + ext, "(record)", "the extension holds the control character U+001F, " + CANNOT)
            for ext in ("msg=a\x1f b=c", "msg=a\x1fb", "\x1f msg=a")
        ],
        (HEADER + "rt=1644934200000 cnt=0", "cnt", "'0' is not a count of events (1 or more)"),
        (HEADER + "garbage rt=1644934200000", "(record)", "extension starts with 'garbage', not key=value"),
        (HEADER.replace("CEF:0", "CEF:2") + T, "Version", "CEF version '2' is not 0 or 1"),
        (
            HEADER.replace("|9|", "||") + T,
            "Severity",
            "'' is not a CEF severity (0-10, Low, Medium, High, Very-High or Unknown)",
        ),
    ],
)
def test_what_a_line_is_rejected_for(db, tmp_path, line, field, reason):
    summary = _one(tmp_path, db, line)
    assert (summary["exit_code"], summary["rejected"]) == (3, 1)
    assert rows(db, "SELECT line, field, reason FROM rejects") == [(1, field, reason)]


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b"CEF:0|a|b|c|d|e|1|rt=1\n", True),
        (b"<134>Feb 15 17:05:12 host CEF:0|a|b|c|d|e|1|\n", True),
        (b"<134>1 2022-02-15T17:05:12Z host app - - - CEF:1|a|b|c|d|e|1|\n", True),
        (b"<134>CEF:0|a|b|c|d|e|1|\n", True),
        (b"some text\nmore text\nCEF:0|a|b|c|d|e|1|\n", True),
        (b'{"msg": "CEF:0|a|b|c|d|e|1|"}\n', False),
        (b"id,note\n1,CEF:0|a\n", False),
        (b"CEF:2|a|b|c|d|e|1|\n", False),
    ],
)
def test_the_sniffer(head, found):
    from ingest.formats import cef

    assert cef.sniff(head) is found


def test_no_other_format_claims_the_cef_fixtures_and_cef_claims_no_other_fixture():
    for path in (GOOD, BAD):
        assert [f.name for f in formats.all_formats() if f.sniff(path.read_bytes()[: formats.SNIFF_BYTES])] == ["cef"]
    others = [p for p in FIXTURES.glob("*/*/*") if p.is_file() and p.parent.parent.name != "cef"]
    assert others
    from ingest.formats import cef

    assert [p for p in others if cef.sniff(p.read_bytes()[: formats.SNIFF_BYTES])] == []
