"""Real public files from ../shared/realworld (when present): never a crash.

cyberlog's own curated formats have no public corpus; these files belong to formats
still to come (STIX, MISP, EuRepoC, GDELT, ICEWS). Until their ingesters land, each
must be recognised as "not a format we read" with the fix named, and the run goes on.
A user's clone has no ../shared, so the test skips with the reason.
"""

from __future__ import annotations

import json

import pytest
from conftest import REALWORLD, run

FILES = sorted(p for p in REALWORLD.glob("*/*") if p.is_file() and p.name != "LICENSE" and p.suffix != ".md")


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is not beside this checkout")
def test_real_files_of_unsupported_formats_fail_cleanly(tmp_path):
    assert FILES, "the real-world corpus is empty"
    result = run("ingest", *FILES, "--db", tmp_path / "s.duckdb", "--json")
    assert result.code == 3
    summary = json.loads(result.out)
    assert [f["status"] for f in summary["files"]] == ["failed"] * len(FILES)
    for file in summary["files"]:
        assert file["error"].startswith("cannot tell the file's format (no format recognises it): use --format")


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is not beside this checkout")
def test_forcing_a_curated_format_on_a_real_file_explains_the_header(tmp_path):
    eurepoc = REALWORLD / "eurepoc" / "EuRepoC_Global_Database_1.1.csv"
    result = run("ingest", eurepoc, "--format", "incidents_csv", "--db", tmp_path / "s.duckdb", "--json")
    assert result.code == 3
    error = json.loads(result.out)["files"][0]["error"]
    assert error.startswith("unknown column(s) ID, name, start_date, end_date, inclusion_criteria, ")
    assert " (and 72 more); missing required column(s) attack_types, ref, started_at, title;" in error
