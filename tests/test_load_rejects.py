"""Rejects after their load (ingest.load.rejects), without the CLI: the filter, one reject
whole, the files a replay reads again, and marking them replayed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from stores import CFR, FIXTURES, UNKNOWN_SECTOR, bad_sectors, load

from ingest.errors import UsageError
from ingest.load import rejects
from ingest.load.rejects import RejectFilter

BAD_COUNTRY = FIXTURES / "incidents_csv" / "bad" / "bad_country.csv"  # line 4 rejected


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three files with rejects, from two runs: unknown_sector (1); bad_country (1) and bad (4)."""
    folder = tmp_path_factory.mktemp("rejects")
    db = folder / "store.duckdb"
    load(db, UNKNOWN_SECTOR, CFR)
    load(db, BAD_COUNTRY, bad_sectors(folder / "bad.csv", 4))
    return db


def _listed(db: Path, which: RejectFilter, replayed_too: bool = False) -> list[tuple[str, str, str]]:
    sql, params = rejects.listing(which, replayed_too=replayed_too)
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql, params)
        named = [dict(zip([d[0] for d in cursor.description], r, strict=True)) for r in cursor.fetchall()]
    return [(Path(r["path"]).name, r["at"], r["field"]) for r in named]


@pytest.mark.parametrize(
    ("which", "names"),
    [
        (RejectFilter(), {"unknown_sector.csv", "bad_country.csv", "bad.csv"}),
        (RejectFilter(source="cfr"), set()),
        (RejectFilter(file=str(UNKNOWN_SECTOR)), {"unknown_sector.csv"}),  # a path, resolved
        (RejectFilter(reason="got 'banks'"), {"unknown_sector.csv", "bad.csv"}),
        (RejectFilter(reason="no such reason"), set()),
    ],
)
def test_the_filter_narrows_the_rejects(store: Path, which: RejectFilter, names: set[str]) -> None:
    assert {name for name, _, _ in _listed(store, which)} == names


def test_a_run_and_a_file_id_select_their_own(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        file_id, run_id = con.execute(
            "SELECT file_id, run_id FROM rejects WHERE path LIKE '%bad.csv' LIMIT 1"
        ).fetchone()
    assert [name for name, _, _ in _listed(store, RejectFilter(file=file_id))] == ["bad.csv"] * 4
    assert {name for name, _, _ in _listed(store, RejectFilter(run=run_id))} == {"bad_country.csv", "bad.csv"}


def test_one_reject_is_shown_whole(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        (reject_id,) = con.execute("SELECT reject_id FROM v_rejects WHERE path LIKE '%unknown_sector.csv'").fetchone()
        shown = dict(rejects.show(con, reject_id))
        assert shown["reject_id"] == reject_id and shown["line"] == 3 and shown["field"] == "target_sector[0]"
        assert shown["outstanding"] is True
        with pytest.raises(UsageError) as unknown:
            rejects.show(con, "rej_nothing")
    assert str(unknown.value) == "no reject 'rej_nothing': see `cyberlog rejects list`"


def test_the_files_of_outstanding_rejects_and_whether_they_can_be_read_again(store: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        files = rejects.rejected_files(con, RejectFilter(source="curated-incidents"))
    assert [f.path for f in files] == sorted(f.path for f in files)  # by path: where the clone sits decides
    assert sorted((f.path.name, f.format, f.rejects) for f in files) == [
        ("bad.csv", "incidents_csv", 4),
        ("bad_country.csv", "incidents_csv", 1),
        ("unknown_sector.csv", "incidents_csv", 1),
    ]
    assert all(f.unchanged() for f in files)
    bad = next(f for f in files if f.path.name == "bad.csv")
    copy = tmp_path / "bad.csv"  # the same bytes elsewhere, then other bytes
    copy.write_bytes(bad.path.read_bytes())
    assert replace(bad, path=copy).unchanged()
    copy.write_bytes(copy.read_bytes() + b"\n")
    assert not replace(bad, path=copy).unchanged()
    assert not replace(bad, path=tmp_path / "gone.csv").unchanged()


def test_marking_a_file_replayed_leaves_its_rejects_listed_only_with_replayed_too(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    run = load(db, UNKNOWN_SECTOR)
    file_id = run.files[0].file_id
    assert file_id is not None
    with duckdb.connect(str(db)) as con:
        rejects.mark_replayed(con, file_id, run.run_id)
        rejects.mark_replayed(con, file_id, "a later run")  # replayed once: the first mark stays
        assert con.execute("SELECT replay_run FROM rejects").fetchall() == [(run.run_id,)]
    assert _listed(db, RejectFilter()) == []
    assert _listed(db, RejectFilter(), replayed_too=True) == [("unknown_sector.csv", "3", "target_sector[0]")]
