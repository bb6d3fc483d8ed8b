"""Report params read like ingest: countries, sectors and attack types as sources write them,
choices from the one vocabulary the schema checks, and a word on stderr when a filter
matches nothing in the store."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from conftest import ROOT, run

from ingest.canon.records import VOCABULARIES
from ingest.errors import UsageError
from ingest.reports import catalog as reports


@pytest.fixture
def store(fixture_store: Path) -> Path:
    """The bundled fixtures, loaded once for the test run; the tests only read it."""
    return fixture_store


def _param(report: str, name: str) -> reports.Param:
    return next(p for p in reports.get(report).params if p.name == name)


@pytest.mark.parametrize(
    ("report", "name", "given", "value"),
    [
        ("targets_by_period", "country", "UKR", "UKR"),
        ("targets_by_period", "country", "UA", "UKR"),
        ("targets_by_period", "country", "Ukraine", "UKR"),
        ("targets_by_period", "country", "ukr", "UKR"),
        ("event_study", "event_country", "Russia", "RUS"),
        ("timeline", "country", "Iran (Islamic Republic of)", "IRN"),
        ("targets_by_period", "sector", "banking", "finance"),
        ("targets_by_period", "sector", "Finance", "finance"),
        ("event_study", "attack_type", "DDoS", "ddos"),
        ("event_study", "attack_type", "T1498", "ddos"),
        ("event_study", "attack_type", "Disk Wipe", "wiper"),
        ("attack_bursts", "category", "DDoS", "ddos"),
        ("incidents_near_events", "event_class", "Sanction", "sanction"),
        ("incidents_near_events", "coarsest", "HOUR", "hour"),
        ("lag_profile", "bin", "Hour", "hour"),
        ("targets_by_period", "sector", "", None),
        ("targets_by_period", "country", "NULL", None),
    ],
)
def test_params_take_what_ingest_takes(report, name, given, value):
    assert _param(report, name).parse(given) == value


@pytest.mark.parametrize(
    ("report", "name", "given", "message"),
    [
        (
            "targets_by_period",
            "country",
            "Ukrane",
            "param country: 'Ukrane' is not a country: give an alpha-2 or "
            "alpha-3 code or a name (UA, UKR, Ukraine); did you mean Ukraine (UKR)?",
        ),
        (
            "targets_by_period",
            "country",
            "Atlantis",
            "param country: 'Atlantis' is not a country: give an alpha-2 or alpha-3 code or a name (UA, UKR, Ukraine)",
        ),
        (
            "event_study",
            "event_country",
            "NATO",
            "param event_country: 'NATO' names an organisation or region, not a country",
        ),
        (
            "targets_by_period",
            "sector",
            "bakery",
            "param sector: 'bakery' is not one of government, military, "
            "finance, energy, telecom, media, transport, health, education, other, nor a term ingest maps to one",
        ),
        (
            "event_study",
            "attack_type",
            "sneeze",
            "param attack_type: 'sneeze' is not one of ddos, defacement, "
            "wiper, ransomware, phishing, intrusion, data_leak, other, nor a term ingest maps to one",
        ),
        (
            "incidents_near_events",
            "event_class",
            "summit",
            "param event_class: 'summit' is not one of talks, "
            "visit, statement, agreement, sanction, recognition, threat, attribution, military, other",
        ),
        ("lag_profile", "bin", "minute", "param bin: 'minute' is not one of day, hour"),
    ],
)
def test_a_value_that_names_nothing_is_a_usage_error(report, name, given, message):
    with pytest.raises(UsageError) as caught:
        _param(report, name).parse(given)
    assert str(caught.value) == message
    result = run("report", "run", report, "-p", f"{name}={given}", "--db", "unused.duckdb")
    assert (result.code, result.out, result.err) == (2, "", f"cyberlog: error: {message}\n")


@pytest.mark.parametrize(
    ("report", "column"),
    [("incidents_near_events", "target_countries"), ("targets_by_period", "target_country"), ("timeline", "countries")],
)
def test_a_country_by_code_or_name_gives_the_same_rows(store, report, column):
    found = {
        given: run("report", "run", report, "-p", f"country={given}", "--format", "csv", "--db", store)
        for given in ("UKR", "UA", "Ukraine", "ukraine")
    }
    assert {result.code for result in found.values()} == {0}
    assert len({result.out for result in found.values()}) == 1
    table = list(csv.DictReader(io.StringIO(found["UKR"].out)))
    assert table and all("UKR" in row[column].split(";") for row in table)


@pytest.mark.parametrize(
    ("report", "alias", "value"),
    [
        ("targets_by_period", "sector=banking", "sector=finance"),
        ("attack_bursts", "category=DDoS", "category=ddos"),
        ("incidents_near_events", "event_class=Military", "event_class=military"),
    ],
)
def test_an_alias_gives_the_rows_of_its_value(store, report, alias, value):
    by_alias = run("report", "run", report, "-p", alias, "--format", "csv", "--db", store)
    by_value = run("report", "run", report, "-p", value, "--format", "csv", "--db", store)
    assert by_alias.code == by_value.code == 0
    assert by_alias.out == by_value.out and by_alias.out.count("\n") > 1


@pytest.mark.parametrize(
    ("report", "params", "notes"),
    [
        ("incidents_near_events", ["country=EST"], ["no incident has a target in EST"]),
        ("targets_by_period", ["sector=education"], ["no incident has a target in sector education"]),
        ("targets_by_period", ["country=LVA", "sector=health"], ["no incident has a target in sector health"]),
        ("attack_bursts", ["category=ransomware"], ["no incident has attack type ransomware"]),
        ("incidents_near_events", ["event_class=threat"], ["no diplomatic event is of class threat"]),
        ("incidents_near_events", ["coarsest=second"], ["no diplomatic event is known to the second"]),
        (
            "timeline",
            ["country=Estonia"],
            ["no incident has a target in EST", "no diplomatic event has an actor from EST"],
        ),
        (
            "timeline",
            ["since=2030-01-01", "until=2030-12-31"],
            [
                "no incident between 2030-01-01 and 2030-12-31; "
                "the store holds incidents from 2022-01-13 to 2022-02-24",
                "no diplomatic event between 2030-01-01 and 2030-12-31; the store holds diplomatic events from "
                "2022-01-10 to 2022-02-24",
            ],
        ),
        (
            "incidents_near_events",
            ["until=2021-12-31"],
            [
                "no incident on or before 2021-12-31; the store holds incidents from 2022-01-13 to 2022-02-24",
                "no diplomatic event on or before 2021-12-31; the store holds diplomatic events from 2022-01-10 to "
                "2022-02-24",
            ],
        ),
    ],
)
def test_an_empty_report_says_why_on_stderr_and_only_there(store, report, params, notes):
    result = run("report", "run", report, *(a for p in params for a in ("-p", p)), "--format", "csv", "--db", store)
    assert result.code == 0
    assert result.out.count("\n") == 1  # the header: the rows are empty, stdout holds nothing else
    assert result.err == "".join(f"cyberlog: note: {note}\n" for note in notes)


def test_hour_bins_over_data_known_to_the_day_say_so(tmp_path):
    """A report that counts zeros rather than returning none says why too."""
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "ref,title,attack_types,started_at,time_precision,target_org,target_country\n"
        "a1,DDoS on a bank,ddos,2022-02-15,day,PrivatBank,UKR\n"
        "a2,Wiper at a ministry,wiper,2022-02-23,day,Ministry of Defence,UKR\n",
        "utf-8",
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "ref,occurred_at,time_precision,title,event_class,actor_countries\n"
        "e1,2022-02-15,day,Troops pulled back,military,RUS\ne2,2022-02-22,day,Sanctions,sanction,USA\n",
        "utf-8",
    )
    db = tmp_path / "day.duckdb"
    assert run("ingest", incidents, events, "--db", db).code == 0
    result = run(
        "report", "run", "lag_profile", "-p", "bin=hour", "-p", "permutations=10", "--format", "csv", "--db", db
    )
    assert result.code == 0 and "known" not in result.out
    assert result.err == (
        "cyberlog: note: no incident is known to the hour or finer\n"
        "cyberlog: note: no diplomatic event is known to the hour or finer\n"
    )
    assert run("report", "run", "lag_profile", "-p", "permutations=10", "--db", db).err == ""


def test_a_report_with_rows_says_nothing_on_stderr(store):
    result = run("report", "run", "targets_by_period", "-p", "country=UA", "-p", "sector=banking", "--db", store)
    assert result.code == 0 and result.out and result.err == ""


def test_report_show_lists_a_vocabularys_values():
    shown = run("report", "show", "targets_by_period").out
    assert f"  sector SECTOR({'|'.join(VOCABULARIES['sector'])}) = NULL  only this sector\n" in shown
    assert "  country COUNTRY = NULL  only attacks with a target in this country\n" in shown


# one vocabulary, defined once ---------------------------------------------------------------


@pytest.mark.parametrize("report", reports.all_reports(), ids=lambda r: r.name)
def test_report_headers_take_vocabularies_from_records_not_by_hand(report):
    for param in report.params:
        assert param.choices not in VOCABULARIES.values(), f"{report.name}.{param.name}: use its type"
        expected = {
            "country": "COUNTRY",
            "event_country": "COUNTRY",
            "sector": "SECTOR",
            "attack_type": "ATTACK_TYPE",
            "event_class": "EVENT_CLASS",
        }.get(param.name)
        assert expected in (None, param.type), f"{report.name}.{param.name} is a {param.type}"
        vocabulary = reports.TYPES[param.type].vocabulary
        assert vocabulary is None or set(param.choices) <= set(VOCABULARIES[vocabulary])


# the schema's CHECK constraints and which vocabulary each holds; the others are no vocabulary
_SCHEMA_VOCABULARIES = {
    "time_precision": "time_precision",
    "evidence": "evidence",
    "severity": "severity",
    "role": "actor_role",
    "sector": "sector",
    "sectors": "sector",
    "event_class": "event_class",
    "attack_types": "attack_type",
    "category": "attack_type",
}
_NOT_VOCABULARIES = {"status", "decision"}  # a file's load status, a link's decision: the store's own words


def _schema_checks() -> list[tuple[str, tuple[str, ...]]]:
    schema = (ROOT / "sql" / "schema.sql").read_text("utf-8")
    column_in = re.findall(r"CHECK \((\w+) IN \(([^)]*)\)\)", schema)
    found = re.findall(r"CHECK \(list_has_all\(\[([^\]]*)\], (\w+)\)\)", schema)
    list_in = [(column, values) for values, column in found]
    assert len(column_in) + len(list_in) == schema.count("CHECK ("), "a CHECK this test cannot read"
    return [(column, tuple(re.findall(r"'([^']*)'", values))) for column, values in column_in + list_in]


def test_the_schema_checks_the_vocabularies_records_define():
    checks = _schema_checks()
    assert {column for column, _ in checks} == set(_SCHEMA_VOCABULARIES) | _NOT_VOCABULARIES
    for column, values in checks:
        if column in _SCHEMA_VOCABULARIES:
            assert values == VOCABULARIES[_SCHEMA_VOCABULARIES[column]], column
