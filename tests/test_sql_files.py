"""SQL files as DuckDB splits them: `statements` and `sections` (ingest/store.py)."""

from __future__ import annotations

import duckdb
import pytest

from ingest.store import sections, sql_dir, statements

SQL_FILES = sorted(path.relative_to(sql_dir()).as_posix() for path in sql_dir().rglob("*.sql"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1;\nSELECT 2", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1;\n", ["SELECT 1"]),
        ("-- a header\n-- of comments\n\nSELECT 1;", ["SELECT 1"]),
        ("-- only comments\n/* and a block */\n", []),
        ("", []),
        # a `;` in a string or a comment ends nothing; one not followed by a newline does
        ("SELECT ';\n' AS s;\nSELECT 2", ["SELECT ';\n' AS s", "SELECT 2"]),
        ("SELECT 1 -- one; not two\n;SELECT 2", ["SELECT 1 -- one; not two", "SELECT 2"]),
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        # comments after a statement's `;` are not part of it, nor are those before the next
        ("SELECT 1;  -- the first\n-- the second\nSELECT 2;  -- done\n", ["SELECT 1", "SELECT 2"]),
        # comments inside a statement stay, and so do its $parameters
        ("SELECT $a -- the a\n    + $b;", ["SELECT $a -- the a\n    + $b"]),
    ],
)
def test_statements_are_split_by_duckdb(text, expected):
    assert statements(text) == expected


def test_sections_are_the_statements_of_each_named_part():
    text = "-- header; with $ignored\n\n/* first */\nSELECT 1;\nSELECT 2;\n\n/* second part */\n-- why\nSELECT $x\n"
    assert sections(text) == {"first": ["SELECT 1", "SELECT 2"], "second part": ["SELECT $x"]}


@pytest.mark.parametrize("name", SQL_FILES)
def test_every_sql_file_is_sql_duckdb_parses(name):
    """No file is a template Python fills in: each parses as it is, part by part."""
    text = (sql_dir() / name).read_text("utf-8")
    parts = sections(text) or {"": statements(text)}
    assert all(parts.values())  # every part has a statement
    for found in parts.values():
        for statement in found:
            [parsed] = duckdb.extract_statements(statement)  # one statement, which parses
            assert parsed.query.strip() == statement


def test_the_merge_has_a_part_for_each_kind_of_record_it_merges():
    assert set(sections((sql_dir() / "merge.sql").read_text("utf-8"))) == {"keys", "incident", "event", "claim"}
