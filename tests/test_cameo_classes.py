"""CAMEO codes to event classes, reviewed: every root, and the codes that read as their
opposite of what their root suggests. A change to ingest/data/cameo_classes.csv must
change this table too, so it is a decision, not a drift."""

from __future__ import annotations

import pytest

from ingest.canon import cameo

ROOTS = {
    "01": "statement",
    "02": "statement",
    "03": "statement",
    "04": "talks",
    "05": "statement",
    "06": "other",
    "07": "other",
    "08": "other",
    "09": "other",
    "10": "statement",
    "11": "statement",
    "12": "statement",
    "13": "threat",
    "14": "other",
    "15": "military",
    "16": "sanction",
    "17": "other",
    "18": "military",
    "19": "military",
    "20": "military",
}

CODES = [
    ("036", "talks"),  # express intent to meet or negotiate
    ("042", "visit"),
    ("043", "visit"),
    ("046", "talks"),  # engage in negotiation
    ("051", "statement"),  # praise or endorse
    ("053", "statement"),  # rally support on behalf of: words, not an agreement
    ("054", "recognition"),
    ("057", "agreement"),  # sign formal agreement: the agreement
    ("064", "other"),  # share intelligence: cooperation, not an agreement
    ("081", "other"),  # ease administrative sanctions: not an agreement, and the opposite of a sanction
    ("085", "other"),  # ease economic sanctions: likewise
    ("0871", "military"),  # declare truce
    ("0874", "military"),  # retreat or surrender militarily: the MoD's 15 Feb pullback
    ("111", "statement"),  # criticize or denounce
    ("112", "attribution"),
    ("1123", "attribution"),
    ("1125", "attribution"),  # accuse (of aggression, espionage)
    ("141", "other"),  # demonstrate or rally
    ("163", "sanction"),  # impose embargo, boycott or sanctions
    ("172", "other"),
    ("1724", "other"),  # administrative sanctions: domestic (emergency rule)
    ("173", "other"),  # arrest
    ("190", "military"),
]


@pytest.mark.parametrize(("root", "klass"), ROOTS.items())
def test_every_cameo_root_has_its_reviewed_class(root: str, klass: str) -> None:
    assert cameo.event_class(root) == klass


@pytest.mark.parametrize(("code", "klass"), CODES)
def test_codes_that_read_against_their_root(code: str, klass: str) -> None:
    assert cameo.event_class(code) == klass


def test_every_shipped_code_gets_a_class_from_the_table() -> None:
    found = {row["code"]: row["event_class"] for row in cameo.codes()}
    assert len(found) > 300 and set(found.values()) <= {
        "talks",
        "visit",
        "statement",
        "agreement",
        "sanction",
        "recognition",
        "threat",
        "attribution",
        "military",
        "other",
    }
    assert {code for code, klass in found.items() if klass == "attribution"} == {
        c for c in found if c.startswith("112")
    }


def test_a_store_classed_by_the_old_table_follows_the_new_one(tmp_path) -> None:
    """GDELT and ICEWS classes come from the table, so they follow it; a class a curated
    file states is the analyst's and stays, even beside a CAMEO code."""
    import duckdb
    from conftest import FIXTURES, rows, run

    db = tmp_path / "store.duckdb"
    for path in (
        FIXTURES / "icews" / "good" / "icews-2022-02.tab",
        FIXTURES / "events_csv" / "good" / "ukraine-2022.csv",
    ):
        assert run("ingest", path, "--db", db).code == 0
    con = duckdb.connect(str(db))
    icews = "source_ref LIKE '%@%'"  # ICEWS refs: event id @ day
    con.execute(f"UPDATE diplomatic_events SET event_class = 'statement' WHERE cameo_code = '112' AND {icews}")
    con.execute(
        "UPDATE diplomatic_events SET event_class = 'talks' WHERE source_ref = '2022-02-15-rus-mod-partial-pullback'"
    )
    con.execute("UPDATE schema_version SET fingerprint = 'older'")
    con.close()
    assert run("ingest", FIXTURES / "gdelt" / "good" / "20220113.export.CSV", "--db", db).code == 0
    assert rows(db, f"SELECT DISTINCT event_class FROM diplomatic_events WHERE cameo_code = '112' AND {icews}") == [
        ("attribution",)
    ]
    assert rows(
        db, "SELECT event_class FROM diplomatic_events WHERE source_ref = '2022-02-15-rus-mod-partial-pullback'"
    ) == [("talks",)]
