"""Reading the clusters (ingest.derive.clusters: listing, sizes, shown), without the CLI,
on a store the nightly made of the bundled fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from stores import nightly

from ingest.errors import UsageError
from ingest.reports import clusters


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = tmp_path_factory.mktemp("clusters") / "store.duckdb"
    assert nightly(db).exit_code == 0
    with duckdb.connect(str(db), read_only=True) as connection:
        yield connection


@pytest.mark.parametrize("events", [False, True])
def test_the_listing_and_the_sizes_agree(con: duckdb.DuckDBPyConnection, events: bool) -> None:
    several, single = clusters.sizes(con, events=events)
    assert several > 0 and single > 0
    for every, expected in ((False, several), (True, several + single)):
        sql, params = clusters.listing(events=events, every=every)
        listed = con.execute(sql, params).fetchall()
        assert len(listed) == expected
        assert all(records > 1 for _, records, *_ in listed) or every
    prefix = "ecl_" if events else "clu_"
    assert all(
        row[0].startswith(prefix) for row in con.execute(*clusters.listing(events=events, every=True)).fetchall()
    )


def test_a_cluster_is_shown_by_its_id_or_any_of_its_records(con: duckdb.DuckDBPyConnection) -> None:
    cluster_id, incident_id = con.execute(
        "SELECT cluster_id, min(incident_id) FROM v_incidents GROUP BY cluster_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    for given in (cluster_id, incident_id):
        found, sections = clusters.shown(con, given)
        assert found == cluster_id
        assert list(sections) == ["records", "decisions", "disagreements"]
    records = con.execute(*sections["records"]).fetchall()
    assert incident_id in {row[0] for row in records} and len(records) > 1
    assert con.execute(*sections["decisions"]).fetchall()


def test_an_event_cluster_is_shown_by_an_event(con: duckdb.DuckDBPyConnection) -> None:
    cluster_id, event_id = con.execute(
        "SELECT cluster_id, min(event_id) FROM v_events GROUP BY cluster_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    found, sections = clusters.shown(con, event_id)
    assert found == cluster_id and list(sections) == ["records", "decisions"]
    assert {row[0] for row in con.execute(*sections["records"]).fetchall()} >= {event_id}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("inc_nothing", "no cluster or record 'inc_nothing': see `cyberlog clusters list`"),
        ("evt_nothing", "no cluster or record 'evt_nothing': see `cyberlog clusters list --events`"),
        ("ecl_nothing", "no cluster or record 'ecl_nothing': see `cyberlog clusters list --events`"),
    ],
)
def test_an_unknown_id_says_where_ids_are(con: duckdb.DuckDBPyConnection, given: str, message: str) -> None:
    with pytest.raises(UsageError) as unknown:
        clusters.shown(con, given)
    assert str(unknown.value) == message
