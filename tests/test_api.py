"""The notebook API: `ingest.connect(db)` gives queries and reports as DuckDB relations that
hold exactly what the CLI prints, describes each report, and raises cyberlog's own errors."""

from __future__ import annotations

import io
import subprocess
import sys

import duckdb
import pytest
from conftest import ROOT, run

import ingest
from ingest.errors import QueryError, StoreError, UsageError
from ingest.reports.export import write_csv


def _csv(relation: duckdb.DuckDBPyRelation) -> str:
    out = io.StringIO(newline="")
    write_csv(out, relation.columns, relation.fetchall())
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("lag_profile", {"event_class": "sanction"}),  # a report with a Python step
        ("lag_profile", {"event_class": "visit", "bin": "hour", "k": 2}),
        ("incidents_near_events", {"country": "Ukraine", "since": "2022-02-15", "until": "2022-02-15"}),
        ("timeline", {}),
        ("event_study", {"group": "event"}),
        ("lead_lag", {}),
    ],
)
def test_a_report_from_python_is_the_clis_csv(fixture_store, name, params):
    with ingest.connect(fixture_store) as store:
        relation = store.report(name, **params)
        from_python = _csv(relation)
        assert len(relation.df()) == len(relation.fetchall())
    argv = [arg for key, value in params.items() for arg in ("-p", f"{key}={value}")]
    cli = run("report", "run", name, *argv, "--format", "csv", "--db", fixture_store)
    assert cli.code == 0, cli.err
    assert from_python == cli.out


def test_python_values_are_read_as_the_cli_reads_text(fixture_store):
    from datetime import date

    with ingest.connect(fixture_store) as store:
        by_text = store.report("incidents_near_events", country="UA", since="2022-02-15").fetchall()
        by_value = store.report("incidents_near_events", country="Ukraine", since=date(2022, 2, 15)).fetchall()
    assert by_text == by_value and by_text


def test_a_query_takes_params_and_gives_a_relation(fixture_store):
    with ingest.connect(fixture_store) as store:
        found = store.query(
            "SELECT count(*) AS n FROM v_incidents WHERE list_contains(target_countries, $c)", {"c": "UKR"}
        )
        assert found.columns == ["n"] and found.fetchall()[0][0] > 0
        assert found.to_arrow_table().num_rows == 1


def test_reports_describe_themselves(fixture_store):
    with ingest.connect(fixture_store) as store:
        described = {r.name: r for r in store.reports()}
    assert set(described) >= {"lag_profile", "timeline", "incidents_near_events"}
    params = {p.name: p for p in described["lag_profile"].params}
    assert params["event_class"].type.startswith("EVENT_CLASS(") and "sanction" in params["event_class"].type
    assert params["k"].default == 7 and params["bin"].choices == ("day", "hour")
    assert all(p.help for r in described.values() for p in r.params)


def test_errors_are_cyberlogs_own(fixture_store, tmp_path):
    with ingest.connect(fixture_store) as store:
        with pytest.raises(UsageError, match="has no param colour"):
            store.report("timeline", colour="red")
        with pytest.raises(UsageError, match=r"unknown report|no report"):
            store.report("no_such_report")
        with pytest.raises(QueryError):
            store.query("SELECT * FROM no_such_table")
        with pytest.raises(QueryError):
            store.query("DELETE FROM incidents")  # read-only
    with pytest.raises(StoreError, match="no store here yet"):
        ingest.connect(tmp_path / "missing.duckdb")


def test_the_docs_walkthrough_runs(fixture_store):
    """docs/examples/notebook.py, the page's walkthrough, runs as a script on the fixtures."""
    done = subprocess.run(
        [sys.executable, ROOT / "docs" / "examples" / "notebook.py", fixture_store],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "lag_profile - Lag profile: attacks by signed lag from diplomatic events, against a local baseline" in lines
    assert any(
        line.endswith(
            "attacks on Ukraine; the first: Defacement of Ukrainian government websites on 13-14 January 2022"
        )
        for line in lines
    )
    assert lines[-1].startswith("UsageError: param event_class: 'sanctions!' is not one of talks, visit")
