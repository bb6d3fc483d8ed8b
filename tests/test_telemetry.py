"""Security telemetry: Suricata EVE alerts, IP addresses SQL can filter by network, and
incidents derived from bursts of alerts."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import FIXTURES, ip_number, rows, run, scalar
from hypothesis import given, settings
from hypothesis import strategies as st
from stores import WAF_START, aggregating_waf

from ingest.derive.bursts import BurstSettings, derive
from ingest.store import sql_dir, statements

EVE = FIXTURES / "eve" / "good" / "ids01-2022-02-15.json"
EVE_BAD = FIXTURES / "eve" / "bad" / "ids01-broken.json"
SMALL = BurstSettings(min_per_minute=5, max_gap_minutes=2, min_alerts=20)


@pytest.fixture(scope="module")
def eve(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("eve") / "s.duckdb"
    result = run("ingest", EVE, "--db", db, "--json")
    assert result.code == 0, result.err
    return db, json.loads(result.out)


def test_eve_alerts_load_and_other_records_are_counted(eve):
    db, summary = eve
    (file,) = summary["files"]
    assert (file["format"], file["records_read"], file["inserted"], file["rejected"]) == ("eve", 45, 38, 0)
    assert file["skipped"] == {
        "Suricata EVE flow record (not an alert)": 6,
        "Suricata EVE stats record (not an alert)": 1,
    }
    assert rows(db, "SELECT category, severity, count(*) FROM alerts GROUP BY ALL ORDER BY ALL") == [
        ("ddos", "medium", 36),
        ("other", "low", 1),
        ("other", "medium", 1),
    ]
    flood = rows(
        db,
        "SELECT min(observed_at), max(observed_at), any_value(signature_id), any_value(dst_host), "
        "count(DISTINCT url), any_value(product) FROM alerts WHERE category = 'ddos'",
    )[0]
    assert flood[0] == datetime(2022, 2, 15, 13, 58, 5, 249054, tzinfo=UTC)
    assert flood[1] == datetime(2022, 2, 15, 14, 3, 53, 760258, tzinfo=UTC)
    assert flood[2:] == ("1:2100001", "www.mil.gov.ua", 2, "Suricata")
    assert scalar(db, "SELECT count(*) FROM alerts WHERE url LIKE '%\\/%'") == 0  # JSON's \/ read as /


def test_eve_bad_lines_are_rejects_with_line_field_and_reason(db):
    result = run("ingest", EVE_BAD, "--db", db)
    assert result.code == 3 and "Traceback" not in result.err
    assert rows(db, "SELECT line, field, reason FROM rejects ORDER BY line") == [
        (2, "(record)", "malformed JSON: Unterminated string starting at: line 1 column 114 (char 113)"),
        (3, "src_ip", "'300.1.2.3' is not an IPv4 or IPv6 address"),
        (4, "dest_port", "'70000' is not a port (0-65535)"),
        (
            5,
            "timestamp",
            "'2022-02-15T14:00:03.377446' has no UTC offset (older Suricata writes the sensor's local time): "
            "set timezone for the source",
        ),
        (6, "(record)", "expected a JSON object on each line"),
        (7, "timestamp", "'15/02/2022 14:00:04' is not an ISO 8601 time"),
    ]
    assert scalar(db, "SELECT count(*) FROM alerts") == 2
    assert scalar(db, "SELECT count(*) FROM rejects WHERE raw IS NULL OR raw = ''") == 0


def _eve_line(flow_id: int, pad: int = 0) -> str:
    """An EVE alert line; `pad` characters in a field cyberlog ignores make it that much longer."""
    record = {
        "timestamp": "2022-02-15T13:00:00.000000+0000",
        "flow_id": flow_id,
        "event_type": "alert",
        "src_ip": "10.0.0.1",
        "dest_ip": "203.0.113.10",
        "dest_port": 443,
        "tx_id": 0,
        "alert": {"signature_id": 2100001, "signature": "ET DOS flood", "severity": 2},
    }
    if pad:
        record["payload_printable"] = "A" * pad
    return json.dumps(record)


def _padded_to(flow_id: int, size: int) -> str:
    line = _eve_line(flow_id, 1)
    return _eve_line(flow_id, 1 + size - len(line))


def test_a_line_too_long_for_duckdbs_reader_is_a_reject_and_the_rest_loads(db, tmp_path):
    from ingest.inputs.lines import MAX_LINE_BYTES

    log = tmp_path / "ids.json"
    longest, too_long = _padded_to(2, MAX_LINE_BYTES - 1), _padded_to(3, MAX_LINE_BYTES)
    assert (len(longest), len(too_long)) == (MAX_LINE_BYTES - 1, MAX_LINE_BYTES)
    huge = _eve_line(4, 3 * MAX_LINE_BYTES)
    log.write_text("\n".join([_eve_line(1), longest, too_long, huge, _eve_line(5)]) + "\n")
    result = run("ingest", log, "--format", "eve", "--db", db)
    assert result.code == 3 and "Traceback" not in result.err
    assert rows(db, "SELECT line FROM alerts ORDER BY line") == [(1,), (2,), (5,)]
    found = rows(db, "SELECT line, field, reason, length(raw) FROM rejects ORDER BY line")
    assert found == [
        (
            3,
            "(record)",
            f"line of {MAX_LINE_BYTES:,} bytes: DuckDB's reader takes lines under {MAX_LINE_BYTES:,} "
            "(its first 65,536 characters are kept here)",
            65_536,
        ),
        (
            4,
            "(record)",
            f"line of {len(huge):,} bytes: DuckDB's reader takes lines under {MAX_LINE_BYTES:,} "
            "(its first 65,536 characters are kept here)",
            65_536,
        ),
    ]


def test_malformed_json_nested_too_deep_for_python_is_a_reject(db, tmp_path):
    log = tmp_path / "ids.json"
    deep = '{"event_type":"alert","x":' + "[" * 100_000  # never closed: DuckDB says malformed, Python recurses
    valid_deep = _eve_line(3)[:-1] + ', "x": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}"
    log.write_text("\n".join([_eve_line(1), deep, valid_deep]) + "\n")
    result = run("ingest", log, "--format", "eve", "--db", db)
    assert result.code == 3 and "Traceback" not in result.err
    assert rows(db, "SELECT line, field, reason FROM rejects") == [
        (2, "(record)", "malformed JSON: nested deeper than can be read")
    ]
    assert rows(db, "SELECT line FROM alerts ORDER BY line") == [(1,), (3,)]


@pytest.mark.parametrize(
    ("message", "raised"),
    [
        ("Invalid Input Error: CSV Error on Line: 300001", duckdb.InvalidInputException),
        ("IO Error: Unexpected end of GZIP stream: eve.json.gz", duckdb.IOException),
        ("No space left on device", OSError),  # not DuckDB's: as it came
    ],
)
def test_an_error_duckdb_meets_after_the_first_batch_is_still_its_own(message, raised):
    """Past the first batch, DuckDB's error reaches Python through Arrow's reader as a plain
    OSError (seen on a busy machine: a too-long line on line 3 failed the whole file about
    one run in four); the chunks raise it as DuckDB's again, for the line fallback."""
    from ingest.load.staging import _chunks

    schema = pa.schema([("raw", pa.string())])

    def batches():
        yield pa.record_batch([pa.array(["{}"] * 3)], schema=schema)
        raise OSError(message)

    chunks = _chunks(pa.RecordBatchReader.from_batches(schema, batches()), 2)
    assert next(chunks).num_rows == 3
    with pytest.raises(raised) as caught:
        next(chunks)
    assert str(caught.value) == message and type(caught.value) is raised


def test_lines_duckdb_still_cannot_read_fail_the_file_not_the_run(db, tmp_path, monkeypatch):
    """The clean copy blanks what DuckDB's reader is known to refuse; should it still refuse
    one, the file is recorded as failed with DuckDB's reason and the run goes on."""
    import ingest.inputs.lines

    monkeypatch.setattr(ingest.inputs.lines, "MAX_LINE_BYTES", 10**9)  # the clean copy no longer blanks long lines
    log = tmp_path / "ids.json"
    log.write_text("\n".join([_eve_line(1), _eve_line(2, 3_000_000)]) + "\n")
    other = tmp_path / "other.json"
    other.write_text(_eve_line(7) + "\n")
    result = run("ingest", log, other, "--format", "eve", "--db", db)
    assert result.code == 3 and "Traceback" not in result.err
    (error,) = [e for (e,) in rows(db, "SELECT error FROM ingest_files WHERE status = 'failed'")]
    assert error.startswith("DuckDB cannot read the file's lines: CSV Error on Line: 2")
    assert rows(db, "SELECT line FROM alerts") == [(1,)]  # the other file loaded; the failed one left nothing


@pytest.mark.parametrize(
    ("hostname", "dst_host", "target_key"),
    [
        ("www.mil.gov.ua", "www.mil.gov.ua", "mil.gov.ua"),
        ("WWW.Mil.Gov.UA:8080", "www.mil.gov.ua", "mil.gov.ua"),
        ("mil.gov.ua.", "mil.gov.ua", "mil.gov.ua"),
        ("mil.gov.ua.:443", "mil.gov.ua", "mil.gov.ua"),
        ("[2001:DB8::1]:443", "2001:db8::1", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_a_hosts_port_case_and_final_dot_do_not_split_the_site(db, tmp_path, hostname, dst_host, target_key):
    record = json.loads(_eve_line(1))
    record["http"] = {"hostname": hostname, "url": "/"}
    log = tmp_path / "ids.json"
    log.write_text(json.dumps(record) + "\n")
    assert run("ingest", log, "--format", "eve", "--db", db).code == 0
    assert rows(db, "SELECT dst_host, target_key FROM alerts") == [(dst_host, target_key)]


def test_sensor_local_time_loads_with_the_sources_zone(db, tmp_path):
    line = EVE_BAD.read_text("utf-8").splitlines()[4]
    path = tmp_path / "local.json"
    path.write_text(line + "\n", "utf-8")
    assert run("ingest", path, "--format", "eve", "--timezone", "Europe/Kyiv", "--db", db).code == 0
    assert scalar(db, "SELECT observed_at FROM alerts") == datetime(2022, 2, 15, 12, 0, 3, 377446, tzinfo=UTC)


def test_a_renamed_copy_and_overlapping_logs_do_not_duplicate(eve, tmp_path):
    db, _ = eve
    copy = tmp_path / "rotated.json"
    lines = EVE.read_text("utf-8").splitlines(keepends=True)
    copy.write_text("".join(lines[10:]), "utf-8")  # a rotated log that repeats most of the first
    work = tmp_path / "s.duckdb"
    shutil.copy(db, work)
    summary = json.loads(run("ingest", copy, "--db", work, "--json").out)
    assert summary["inserted"] == 0 and summary["unchanged"] > 0
    assert scalar(work, "SELECT count(*) FROM alerts") == 38
    assert scalar(work, "SELECT count(*) - count(DISTINCT alert_id) FROM alerts") == 0


# IP addresses -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def macros():
    con = duckdb.connect()
    for statement in statements((sql_dir() / "schema.sql").read_text("utf-8")):
        if "MACRO" in statement:
            con.execute(statement)
    return con


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.ip_addresses(v=4).map(str),
        st.ip_addresses(v=6).map(lambda a: a.compressed),
        st.ip_addresses(v=6).map(lambda a: a.exploded),
        st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    )
)
def test_ip_num_agrees_with_pythons_ipaddress(macros, text):
    assert macros.execute("SELECT ip_num($t)", {"t": text}).fetchone()[0] == ip_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3",
        "256.1.1.1",
        "1.2.3.4.5",
        "1:2:3",
        "1::2::3",
        "g::1",
        "1:2:3:4:5:6:7:8:9",
        "",
        "x",
        ":::",
        "1.2.3.04",
        "010.0.0.1",
        "00.0.0.0",
        "::ffff:1.2.3.04",
    ],  # a leading zero: octal to some, decimal to others
)
def test_ip_num_is_null_for_what_is_not_an_address(macros, text):
    assert macros.execute("SELECT ip_num($t)", {"t": text}).fetchone()[0] is None


@pytest.mark.parametrize(
    ("ip", "cidr", "inside"),
    [
        ("198.51.100.23", "198.51.100.0/24", True),
        ("198.51.101.23", "198.51.100.0/24", False),
        ("2001:db8::bad:1", "2001:db8::/32", True),
        ("2001:db9::1", "2001:db8::/32", False),
        ("::ffff:198.51.100.7", "198.51.100.0/24", True),
        ("10.0.0.1", "0.0.0.0/0", True),
        ("::1", "0.0.0.0/0", False),
        ("::1", "::/0", True),
        ("10.0.0.1", "10.0.0.1", True),
    ],
)
def test_in_network(macros, ip, cidr, inside):
    assert macros.execute("SELECT in_network($ip, $cidr)", {"ip": ip, "cidr": cidr}).fetchone()[0] is inside


def test_stored_alerts_filter_by_network(eve):
    db, _ = eve
    assert scalar(db, "SELECT count(*) FROM alerts WHERE in_network(src_ip, '2001:db8::/32')") == 3
    assert scalar(db, "SELECT count(*) FROM alerts WHERE in_network(src_ip, '192.0.2.0/24')") == 34
    assert scalar(db, "SELECT count(*) FROM alerts WHERE src_ip_num IS NULL OR dst_ip_num IS NULL") == 0


# Derived incidents --------------------------------------------------------------------


@pytest.fixture
def nightly(loaded):
    """This test's own copy of the store the nightly made of the bundled fixtures."""
    return loaded


def _derived(db):
    return rows(
        db,
        "SELECT d.incident_id, d.target_key, d.category, d.started_at, d.ended_at, d.alerts, d.peak_per_minute "
        "FROM derived_incidents d ORDER BY ALL",
    )


def test_a_burst_becomes_an_incident_that_starts_and_ends_with_its_alerts(nightly):
    spans = rows(  # the fixtures' floods: the IDS, SIEM and SOAR on the MoD; the WAF on two banks
        nightly,
        "SELECT alert_target_key(dst_host, target_org, dst_ip), min(observed_at), max(observed_at) FROM alerts "
        "WHERE category = 'ddos' AND observed_at BETWEEN '2022-02-15 13:00Z' AND '2022-02-15 15:00Z' "
        "GROUP BY 1 HAVING count(*) >= 20 ORDER BY 1",  # not the SOAR's one summary finding
    )
    assert [key for key, *_ in spans] == ["mil.gov.ua", "oschadbank.ua", "privatbank.ua"]
    found = rows(
        nightly,
        "SELECT d.target_key, i.started_at, i.ended_at, i.source, i.attack_types, i.time_precision "
        "FROM derived_incidents d JOIN incidents i USING (incident_id) ORDER BY 1",
    )
    assert [(key, start, end) for key, start, end, *_ in found] == spans
    assert {tuple(rest) for *_, source, types, precision in found for rest in [(source, tuple(types), precision)]} == {
        ("derived", ("ddos",), "second")
    }
    evidence = "SELECT alert_sources, alerts, (SELECT count(*) FROM v_derived_evidence e WHERE e.incident_id = d.incident_id) FROM derived_incidents d ORDER BY target_key"  # noqa: E501
    assert rows(nightly, evidence) == [(["ids", "siem", "soar"], 85, 85), (["waf"], 30, 30), (["waf"], 36, 36)]


def test_the_derived_incident_joins_the_reported_ones_in_a_cluster(nightly):
    sources = scalar(
        nightly,
        "SELECT list_sort(list(i.source)) FROM incident_clusters c JOIN incidents i USING (incident_id) "
        "WHERE c.cluster_id = (SELECT cluster_id FROM incident_clusters JOIN derived_incidents USING (incident_id) "
        "WHERE target_key = 'mil.gov.ua')",
    )
    assert "derived" in sources and "curated-incidents" in sources


def test_rederiving_the_same_alerts_gives_the_same_incidents(nightly):
    before = _derived(nightly)
    with duckdb.connect(str(nightly)) as con:
        result = derive(con, "again", SMALL, everything=True)
    assert (result.inserted, result.updated, result.removed) == (0, 0, 0) and result.unchanged == len(before)
    assert _derived(nightly) == before


def _shifted(lines: list[str], minutes: int) -> str:
    out = []
    for line in lines:
        doc = json.loads(line)
        at = datetime.fromisoformat(doc["timestamp"]) + timedelta(minutes=minutes)
        doc["timestamp"] = at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
        doc["flow_id"] += 7
        out.append(json.dumps(doc))
    return "\n".join(out) + "\n"


def test_new_alerts_extend_an_open_burst_instead_of_adding_an_incident(nightly, tmp_path):
    (before,) = [d for d in _derived(nightly) if d[1] == "mil.gov.ua"]
    flood = [ln for ln in EVE.read_text("utf-8").splitlines() if "2100001" in ln]
    later = tmp_path / "ids01-later.json"
    later.write_text(_shifted(flood[-12:], 2), "utf-8")  # the last two minutes again, two minutes on
    summary = json.loads(run("ingest", later, "--db", nightly, "--json").out)
    assert summary["bursts"] == {"inserted": 0, "updated": 1, "unchanged": 0, "removed": 0}
    (after,) = [d for d in _derived(nightly) if d[1] == "mil.gov.ua"]
    assert after[0] == before[0] and after[3] == before[3]  # same incident, same start
    assert after[4] > before[4] and after[5] == before[5] + 12


def test_a_burst_a_day_later_is_a_second_incident(nightly, tmp_path):
    flood = [ln for ln in EVE.read_text("utf-8").splitlines() if "2100001" in ln]
    later = tmp_path / "ids01-next-day.json"
    later.write_text(_shifted(flood, 24 * 60), "utf-8")
    assert run("ingest", later, "--db", nightly).code == 0  # by the rule the nightly's config set, kept
    assert scalar(nightly, "SELECT count(*) FROM derived_incidents WHERE target_key = 'mil.gov.ua'") == 2


def test_a_changed_rule_derives_every_alert_again(nightly, tmp_path):
    """Tuning [bursts] holds for the alerts already stored, not only for those to come: a
    stricter rule removes what it no longer calls an incident, the old rule restores it
    under the same id."""
    before = _derived(nightly)
    assert len(before) == 3
    text = (FIXTURES / "cyberlog.toml").read_text("utf-8")
    for min_alerts, targets in ((40, ["mil.gov.ua"]), (20, ["mil.gov.ua", "oschadbank.ua", "privatbank.ua"])):
        config = tmp_path / "cyberlog.toml"  # the fixtures' paths made absolute
        config.write_text(
            text.replace("min_alerts = 20 ", f"min_alerts = {min_alerts} ").replace('path = "', f'path = "{FIXTURES}/'),
            "utf-8",
        )
        result = run("nightly", "--config", config, "--db", nightly, "--json")
        assert result.code == 0, result.err
        assert "the [bursts] rule changed: every alert derived again" in result.err
        assert sorted(row[1] for row in _derived(nightly)) == targets
        assert scalar(nightly, "SELECT count(*) FROM incidents WHERE source = 'derived'") == len(targets)
    assert _derived(nightly) == before  # the same incidents, ids and all
    again = run("nightly", "--config", config, "--db", nightly)
    assert "rule changed" not in again.err  # the same rule: nothing to derive again


def _ids_line(n: int, at: datetime, dst_ip: str, hostname: str | None = None) -> str:
    record = json.loads(_eve_line(n))
    record.update(timestamp=at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"), dest_ip=dst_ip, src_ip=f"192.0.2.{n % 250 + 1}")
    record["alert"]["signature"] = "ET DOS Possible SYN Flood" if hostname is None else "ET DOS HTTP GET flood"
    if hostname:
        record["http"] = {"hostname": hostname, "url": "/"}
    return json.dumps(record)


def _nightly_over(tmp_path, name: str, lines: list[str]) -> Path:
    (tmp_path / "ids").mkdir(exist_ok=True)
    (tmp_path / "ids" / f"{name}.json").write_text("\n".join(lines) + "\n", "utf-8")
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        '[[sources]]\nname = "ids"\nformat = "eve"\npath = "ids/*.json"\n'
        "[bursts]\nmin_per_minute = 5\nmax_gap_minutes = 2\nmin_alerts = 20\n",
        "utf-8",
    )
    db = tmp_path / "s.duckdb"
    result = run("nightly", "--config", config, "--db", db)
    assert result.code == 0, result.err
    return db


def test_address_only_alerts_join_the_one_host_their_address_serves(tmp_path):
    """An IDS's SYN flood names only the address; the site's HTTP alerts name the host on
    it. Both are one target, so one incident, whichever file came first."""
    start = datetime(2022, 2, 15, 14, 0, tzinfo=UTC)
    syn = [_ids_line(n, start + timedelta(seconds=10 * n), "198.51.100.40") for n in range(30)]
    db = _nightly_over(tmp_path, "syn", syn)
    assert rows(db, "SELECT target_key, alerts FROM derived_incidents") == [("198.51.100.40", 30)]
    http = [
        _ids_line(100 + n, start + timedelta(seconds=61 + n), "198.51.100.40", "www.oschadbank.ua") for n in range(2)
    ]
    _nightly_over(tmp_path, "http", http)
    assert rows(db, "SELECT target_key, alerts, started_at FROM derived_incidents") == [("oschadbank.ua", 32, start)]
    assert scalar(db, "SELECT count(*) FROM incidents WHERE source = 'derived'") == 1  # the address's one is gone
    assert scalar(db, "SELECT count(*) FROM v_derived_evidence") == 32
    assert scalar(db, "SELECT count(DISTINCT target_key) FROM alerts") == 1


def test_an_address_serving_several_hosts_keeps_its_own_key(tmp_path):
    start = datetime(2022, 2, 15, 14, 0, tzinfo=UTC)
    lines = [_ids_line(n, start + timedelta(seconds=10 * n), "198.51.100.40") for n in range(30)]
    lines += [
        _ids_line(200, start, "198.51.100.40", "www.oschadbank.ua"),
        _ids_line(201, start, "198.51.100.40", "cdn.example.net"),
    ]
    db = _nightly_over(tmp_path, "shared", lines)
    assert rows(db, "SELECT target_key, alerts FROM derived_incidents") == [("198.51.100.40", 30)]


def test_without_a_config_the_default_rule_holds(db):
    summary = json.loads(run("ingest", EVE, "--db", db, "--json").out)
    assert summary["bursts"] == {"inserted": 0, "updated": 0, "unchanged": 0, "removed": 0}  # 6 a minute < 60
    assert scalar(db, "SELECT bursts_done_at IS NOT NULL FROM ingest_runs") is True


def test_a_run_killed_before_deriving_is_caught_up_by_the_next(nightly):
    before = _derived(nightly)
    with duckdb.connect(str(nightly)) as con:  # what a kill between the files and the bursts leaves
        con.execute("DELETE FROM incident_targets WHERE incident_id IN (SELECT incident_id FROM derived_incidents)")
        con.execute("DELETE FROM incidents WHERE source = 'derived'")
        con.execute("DELETE FROM derived_incidents")
        con.execute("UPDATE ingest_runs SET bursts_done_at = NULL")
    assert run("nightly", "--config", FIXTURES / "cyberlog.toml", "--db", nightly).code == 0
    assert _derived(nightly) == before


def test_bursts_settings_are_validated(tmp_path):
    config = tmp_path / "cyberlog.toml"
    config.write_text(
        '[[sources]]\nname = "ids"\nformat = "eve"\npath = "*.json"\n[bursts]\nmin_per_minute = 0\n', "utf-8"
    )
    result = run("nightly", "--config", config, "--db", tmp_path / "s.duckdb")
    assert result.code == 2 and "min_per_minute" in result.err


def test_an_aggregating_waf_is_a_burst_when_the_rule_counts_events(tmp_path):
    """A WAF that logs one alert per attack and minute, with the requests it stands for in
    CEF cnt, never makes a burst of alerts; counting events, it does."""
    aggregating_waf(tmp_path)
    start = WAF_START
    base = '[[sources]]\nname = "waf"\nformat = "cef"\npath = "waf/*.cef"\n[bursts]\nmin_per_minute = 1000\n'
    for count, derived in (("alerts", []), ("events", [("privatbank.ua", 12, 180_011)])):
        config = tmp_path / f"{count}.toml"
        config.write_text(base + f'min_alerts = 100000\ncount = "{count}"\n', "utf-8")
        db = tmp_path / f"{count}.duckdb"
        assert run("nightly", "--config", config, "--db", db).code == 0
        assert rows(db, "SELECT target_key, alerts, peak_per_minute FROM derived_incidents") == derived
    (incident,) = rows(db, "SELECT started_at, ended_at, title FROM incidents WHERE source = 'derived'")
    assert incident == (start, start + timedelta(minutes=11), "DDoS on PrivatBank: 12 alerts, peak 180,011 events/min")
    bad = tmp_path / "bad.toml"
    bad.write_text(base + 'count = "requests"\n', "utf-8")
    result = run("nightly", "--config", bad, "--db", tmp_path / "bad.duckdb")
    assert result.code == 2 and "count" in result.err


TELEMETRY_FILES = [
    f"{fmt}/{kind}/{p.name}"
    for fmt in ("eve", "cef", "ecs", "ocsf")
    for kind in ("good", "bad")
    for p in sorted((FIXTURES / fmt / kind).iterdir())
]
STORED = {
    "alerts": "SELECT * EXCLUDE (run_id, file_id, first_loaded_at, loaded_at) FROM alerts ORDER BY alert_id",
    "rejects": "SELECT line, field, reason, raw FROM rejects ORDER BY line, field",
}


@pytest.mark.parametrize("name", TELEMETRY_FILES)
def test_staging_in_chunks_stores_what_one_chunk_does(name, tmp_path, monkeypatch):
    """Big logs are staged a chunk of lines at a time and merged a few chunks at a time;
    chunks of 2 lines merged 2 lines per thread at a time must store exactly what one chunk does: the
    same alerts and ids, the same rejects at the same lines."""
    from ingest.load import staging

    fmt = name.split("/")[0]
    whole, chunked = tmp_path / "whole.duckdb", tmp_path / "chunked.duckdb"
    expected = run("ingest", FIXTURES / name, "--format", fmt, "--db", whole).code
    monkeypatch.setattr(staging, "CHUNK_LINES", 2)
    monkeypatch.setattr(staging, "MERGE_ROWS_PER_THREAD", 2)
    assert run("ingest", FIXTURES / name, "--format", fmt, "--db", chunked).code == expected
    for sql in STORED.values():
        assert rows(chunked, sql) == rows(whole, sql)


def test_the_same_line_in_many_chunks_is_numbered_across_the_file(tmp_path, monkeypatch):
    """CEF has no ids: a line is known by its digest and how many times the same text came
    before it in the file, whichever chunk each copy falls in."""
    from ingest.load import staging

    good = (FIXTURES / "cef" / "good" / "waf01-2022-02-15.cef").read_text("utf-8").splitlines()
    repeated = [*good[:3], good[1], *good[3:6], good[1], good[2], *good[6:]]
    log = tmp_path / "repeated.cef"
    log.write_text("\n".join(repeated) + "\n", "utf-8")
    whole, chunked = tmp_path / "whole.duckdb", tmp_path / "chunked.duckdb"
    assert run("ingest", log, "--format", "cef", "--db", whole).code == 0
    monkeypatch.setattr(staging, "CHUNK_LINES", 3)
    assert run("ingest", log, "--format", "cef", "--db", chunked).code == 0
    refs = "SELECT source_ref, line FROM alerts ORDER BY line"
    assert rows(chunked, refs) == rows(whole, refs)
    suffixes = [str(ref).rsplit(":", 1)[1] for ref, _ in rows(chunked, refs)]
    assert suffixes.count("2") == 2 and suffixes.count("3") == 1  # good[1] three times, good[2] twice
    assert scalar(chunked, "SELECT count(*) FROM alerts") == len(repeated)


def test_a_ref_repeated_in_later_merges_is_a_duplicate_whether_new_or_unchanged(tmp_path, monkeypatch):
    """The first copy of a ref in a file is kept, later ones are rejects that say where the
    kept one is: also when they fall in a later merge, and when the first copy was already
    stored by another file (unchanged)."""
    from ingest.load import staging

    good = (FIXTURES / "eve" / "good" / "ids01-2022-02-15.json").read_text("utf-8").splitlines()
    alert = next(i for i, line in enumerate(good) if '"event_type":"alert"' in line.replace(" ", ""))
    log = tmp_path / "again.json"
    log.write_text("\n".join([*good, good[alert], good[alert]]) + "\n", "utf-8")
    whole, chunked = tmp_path / "whole.duckdb", tmp_path / "chunked.duckdb"
    assert run("ingest", log, "--format", "eve", "--db", whole).code == 3
    monkeypatch.setattr(staging, "CHUNK_LINES", 2)
    monkeypatch.setattr(staging, "MERGE_ROWS_PER_THREAD", 2)
    assert run("ingest", log, "--format", "eve", "--db", chunked).code == 3
    for sql in STORED.values():
        assert rows(chunked, sql) == rows(whole, sql)
    reasons = [str(r[0]) for r in rows(chunked, "SELECT reason FROM rejects WHERE field = 'ref' ORDER BY line")]
    assert len(reasons) == 2 and all(f"the record on line {alert + 1} is kept" in r for r in reasons)
    # the same alerts again in another file: stored ones are unchanged, the repeats still rejects
    other = tmp_path / "other.json"
    other.write_text("\n".join([good[alert], *good[:3], good[alert]]) + "\n", "utf-8")
    monkeypatch.setattr(staging, "MERGE_ROWS_PER_THREAD", 1_000_000)
    expected = json.loads(run("ingest", other, "--format", "eve", "--db", whole, "--json").out)
    monkeypatch.setattr(staging, "MERGE_ROWS_PER_THREAD", 1)
    got = json.loads(run("ingest", other, "--format", "eve", "--db", chunked, "--json").out)
    for key in ("inserted", "updated", "unchanged", "rejected"):
        assert got[key] == expected[key], key
    assert expected["rejected"] >= 1 and expected["unchanged"] >= 1


def test_an_address_with_a_leading_zero_is_a_reject_that_says_why(db, tmp_path):
    doc = json.loads(EVE.read_text("utf-8").splitlines()[0])
    path = tmp_path / "zero.json"
    path.write_text(json.dumps({**doc, "src_ip": "192.0.2.010"}) + "\n", "utf-8")
    result = run("ingest", path, "--db", db, "--format", "eve")
    assert result.code == 3, result.err
    assert rows(db, "SELECT field, reason FROM rejects") == [
        (
            "src_ip",
            "'192.0.2.010' is not an IPv4 or IPv6 address: an octet with a leading zero is octal to some "
            "tools and decimal to others",
        )
    ]
