"""Real public files from ../shared/realworld (when present): never a crash, every record
accounted for, and what each file yields pinned so a regression shows.

A user's clone has no ../shared, so these tests skip with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REALWORLD, rows, run, scalar

from ingest import formats

pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is not beside this checkout")

DATA_SUFFIXES = (".json", ".csv", ".tab")
FILES = sorted(str(p.relative_to(REALWORLD)) for p in REALWORLD.glob("*/*") if p.suffix.lower() in DATA_SUFFIXES)

# file -> (format, records, targets, actors, rejected, skipped); records are incidents or
# diplomatic events, as the format stores; None: not a format cyberlog reads yet
EXPECTED: dict[str, tuple[str, int, int, int, int, int] | None] = {
    # CISSM: the KillNet row shifted one column (rejected, naming event_type and country); 39
    # exact duplicate rows counted once, as skipped
    "cissm/full_cyber_attack_data.part1.csv": ("cissm", 1954, 1954, 1954, 1, 39),
    # DDoSia lists: one claimed attack per host (16, 26 and 27 hosts, as FORMATS.md counted), one
    # record per request entry (80, 339, 342); `targets: null` is a list with none
    "ddosia/05-06-2023_20-15-12_DDoSia-target-list-full.json": ("ddosia", 16, 16, 16, 0, 0),
    "ddosia/2023-10-29_12-45-53_DDoSia-target-list-full.json": ("ddosia", 0, 0, 0, 0, 0),
    "ddosia/2024-05-20_07-10-29_DDoSia-target-list-full.json": ("ddosia", 26, 26, 26, 0, 0),
    "ddosia/2025-11-05_07-05-09_DDoSia-target-list-full.json": ("ddosia", 27, 27, 27, 0, 0),
    # 16 rows have no start_date: rejected, each with that reason
    # actors: the aliases EuRepoC lists for one attribution are one actor (MISP galaxy synonyms)
    "eurepoc/EuRepoC_Global_Database_1.1.csv": ("eurepoc", 1627, 2840, 1719, 16, 0),
    "gdelt/20191024143000.export.CSV": ("gdelt", 2111, 0, 0, 0, 0),
    "icews/events.2018.sample.tab": ("icews", 3705, 0, 0, 0, 0),
    "misp/57c4445b-c548-4654-af0b-4be3950d210f.json": ("misp", 1, 0, 0, 0, 0),
    "misp/attribute.json": ("misp", 0, 0, 0, 1, 0),  # a skeleton without its uuid: rejected, says so
    "misp/def_param.json": ("misp", 0, 0, 0, 1, 0),
    "misp/existing_event.json": ("misp", 1, 0, 1, 0, 0),
    "misp/misp_event.json": ("misp", 1, 0, 0, 0, 0),
    "misp/shadow.json": ("misp", 1, 0, 0, 0, 0),
    "stix/apt1.json": ("stix", 0, 0, 0, 0, 76),
    "stix/defining-campaigns-threat-actors-intrusion-sets.json": ("stix", 2, 2, 4, 0, 1),
    "stix/incident_expo_1.json": ("stix", 1, 1, 0, 0, 11),
    "stix/incident_ransom.json": ("stix", 1, 0, 0, 0, 6),
    "stix/poisonivy.json": ("stix", 3, 0, 0, 0, 102),
    "stix/sighting-of-an-indicator.json": ("stix", 1, 1, 0, 0, 1),
    "stix/sighting-of-observed-data.json": ("stix", 1, 1, 0, 0, 5),
    "stix/threat-actor-leveraging-attack-patterns-and-malware.json": ("stix", 0, 0, 0, 0, 7),
    "stix/using-granular-markings.json": ("stix", 0, 0, 0, 0, 4),
}


def test_every_real_file_has_an_expectation():
    assert FILES, "the real-world corpus is empty"
    missing = [name for name in FILES if name not in EXPECTED and not name.startswith(UNSUPPORTED)]
    assert not missing, f"add what these files yield to EXPECTED: {missing}"


UNSUPPORTED = ()


@pytest.mark.parametrize("name", FILES)
def test_real_file(db: Path, name: str):
    result = run("ingest", REALWORLD / name, "--db", db, "--json")
    assert "Traceback" not in result.err
    file = json.loads(result.out)["files"][0]
    expected = EXPECTED.get(name)
    if expected is None:
        assert (result.code, file["status"]) == (3, "failed")
        assert file["error"].startswith("cannot tell the file's format (no format recognises it): use --format")
        return
    fmt, incidents, targets, actors, rejected, skipped = expected
    assert (file["status"], file["format"]) == ("loaded", fmt), file["error"]
    table = "v_incidents" if formats.get(fmt).kind in ("incident", "claim") else "diplomatic_events"
    got = (
        scalar(db, f"SELECT count(*) FROM {table}"),
        scalar(db, "SELECT count(*) FROM incident_targets"),
        scalar(db, "SELECT count(*) FROM incident_actors"),
        file["rejected"],
        sum(file["skipped"].values()),
    )
    assert got == (incidents, targets, actors, rejected, skipped)
    # every record read is stored, rejected with a reason, or skipped with a reason
    assert file["records_read"] == file["inserted"] + file["rejected"] + sum(file["skipped"].values())
    assert scalar(db, "SELECT count(*) FROM rejects WHERE reason IS NULL OR reason = ''") == 0
    assert result.code == (3 if rejected else 0)


def test_forcing_a_curated_format_on_a_real_file_explains_the_header(db):
    eurepoc = REALWORLD / "eurepoc" / "EuRepoC_Global_Database_1.1.csv"
    result = run("ingest", eurepoc, "--format", "incidents_csv", "--db", db, "--json")
    assert result.code == 3
    error = json.loads(result.out)["files"][0]["error"]
    assert error.startswith(
        "unknown column(s) ID, name, start_date (did you mean 'started_at'?), end_date (did you mean 'ended_at'?), "
        "inclusion_criteria, "
    )
    assert " (and 72 more); missing required column(s) attack_types, ref, started_at, title;" in error


def test_a_real_misp_event_keeps_its_galaxy_actor(db):
    assert run("ingest", REALWORLD / "misp" / "existing_event.json", "--db", db).code == 0
    actor = scalar(db, "SELECT concat_ws(' ', actor, actor_raw, attributed_by, country) FROM incident_actors")
    assert actor == "APT28 Sofacy CIRCL RUS"  # the galaxy's Sofacy is a synonym of APT28


def test_a_real_gdelt_batch_keeps_codes_countries_and_times(db):
    """Checked against the file itself with awk: 1,503 codes with a leading zero, ActionGeo
    FIPS RS 80 times and UP 15 times, QuadClass 1222/281/271/337, one 15-minute batch."""
    assert run("ingest", REALWORLD / "gdelt" / "20191024143000.export.CSV", "--db", db).code == 0
    assert rows(
        db,
        """SELECT count(*) FILTER (WHERE cameo_code LIKE '0%'), count(*) FILTER (WHERE location_country = 'RUS'),
                  count(*) FILTER (WHERE location_country = 'UKR'), count(DISTINCT recorded_at),
                  strftime(min(recorded_at), '%Y-%m-%dT%H:%M:%SZ')
           FROM diplomatic_events""",
    ) == [(1503, 80, 15, 1, "2019-10-24T14:30:00Z")]
    assert rows(db, "SELECT quad_class, count(*) FROM diplomatic_events GROUP BY ALL ORDER BY 1") == [
        (1, 1222),
        (2, 281),
        (3, 271),
        (4, 337),
    ]


def test_the_real_icews_sample_keeps_days_codes_and_countries(db):
    """Checked against the file itself with awk: 2,359 rows dated 2018-06-01 and 1,346 dated
    2018-06-02; 2,608 CAMEO codes with a leading zero, 87 of four digits; Country Ukraine 60
    times and Russian Federation 122; Russian Federation as Source or Target Country in 333
    rows, Ukraine in 130; QuadClass by root 2512/96/543/554; Intensity -10 in 154 rows."""
    assert run("ingest", REALWORLD / "icews" / "events.2018.sample.tab", "--db", db).code == 0
    days = "SELECT strftime(occurred_at, '%Y-%m-%d'), time_precision, count(*) FROM diplomatic_events GROUP BY ALL"
    assert rows(db, days + " ORDER BY 1") == [("2018-06-01", "day", 2359), ("2018-06-02", "day", 1346)]
    assert rows(
        db,
        """SELECT count(*) FILTER (WHERE cameo_code LIKE '0%'), count(*) FILTER (WHERE length(cameo_code) = 4),
                  count(*) FILTER (WHERE location_country = 'UKR'), count(*) FILTER (WHERE location_country = 'RUS'),
                  count(*) FILTER (WHERE list_contains(actor_countries, 'RUS')),
                  count(*) FILTER (WHERE list_contains(actor_countries, 'UKR')), count(*) FILTER (WHERE goldstein = -10)
           FROM diplomatic_events""",
    ) == [(2608, 87, 60, 122, 333, 130, 154)]
    assert rows(db, "SELECT quad_class, count(*) FROM diplomatic_events GROUP BY ALL ORDER BY 1") == [
        (1, 2512),
        (2, 96),
        (3, 543),
        (4, 554),
    ]
