"""The package's parts keep to their layers (docs/STYLE: "Shape of the package").

Read from the source with `ast`, not by importing: an import under TYPE_CHECKING, or inside
a function, counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT / "ingest" / "formats"

# A format says what a source's record is and how it maps to ours (pydantic models, or the
# name of a SQL file that staging runs): it never opens the store, nor reaches above itself.
NOT_FOR_FORMATS = (
    "duckdb",
    "ingest.store",
    "ingest.load",
    "ingest.run",
    "ingest.cli",
    "ingest.reports",
    "ingest.derive",
    "ingest.lake",
)
SQL_CALLS = frozenset({"execute", "executemany", "sql", "query", "register", "cursor"})


def imported(source: str, package: str) -> set[str]:
    """Every module the source imports (relative imports resolved against `package`), and
    for `from x import y` also `x.y`, which may be a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def forbidden(source: str, package: str = "ingest.formats") -> list[str]:
    return sorted(
        name
        for name in imported(source, package)
        if any(name == banned or name.startswith(banned + ".") for banned in NOT_FOR_FORMATS)
    )


def sql_calls(source: str) -> list[str]:
    """The method calls that run SQL on a connection (`con.execute(...)`, `con.sql(...)` ...)."""
    return sorted(
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS
    )


def format_modules() -> list[Path]:
    modules = sorted(FORMATS.glob("*.py"))
    assert len(modules) >= 15  # the registry, base, telemetry and a module per format: the glob found them
    return modules


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import duckdb", ["duckdb"]),
        ("import duckdb as db", ["duckdb"]),
        ("from duckdb import DuckDBPyConnection", ["duckdb", "duckdb.DuckDBPyConnection"]),
        ("if TYPE_CHECKING:\n    import duckdb", ["duckdb"]),
        ("def f():\n    from ingest.store import sql_dir", ["ingest.store", "ingest.store.sql_dir"]),
        ("from ingest import store", ["ingest.store"]),
        ("from ingest.load import staging", ["ingest.load", "ingest.load.staging"]),
        ("from ..load.staging import stream", ["ingest.load.staging", "ingest.load.staging.stream"]),
        ("from .. import cli", ["ingest.cli"]),
        ("import ingest.reports.catalog", ["ingest.reports.catalog"]),
        ("from ingest.derive import clusters", ["ingest.derive", "ingest.derive.clusters"]),
        ("from ingest.lake import parquet", ["ingest.lake", "ingest.lake.parquet"]),
        ("from ingest.run.config import load_config", ["ingest.run.config", "ingest.run.config.load_config"]),
        ("from ingest.canon import vocab\nfrom ingest.formats.base import Format", []),
        ("from . import base\nfrom ingest.inputs import lines\nimport pyarrow as pa", []),
        ("import duckdb_extension_helpers\nfrom ingest.storage import x", []),  # not these modules
    ],
)
def test_the_layer_check_finds_what_a_format_must_not_import(source, expected):
    assert forbidden(source) == expected


def test_formats_know_no_database():
    """No module under ingest/formats/ imports DuckDB or the store, nor any part above it
    (load, run, cli, reports, derive, lake): a format only declares."""
    found = {path.name: names for path in format_modules() if (names := forbidden(path.read_text("utf-8")))}
    assert found == {}


def test_formats_run_no_sql():
    """Nor does a format run SQL on a connection it was given: staging does."""
    found = {path.name: calls for path in format_modules() if (calls := sql_calls(path.read_text("utf-8")))}
    assert found == {}
    assert sql_calls("con.execute('SELECT 1')\nwork.sql(q).fetchall()") == ["execute", "sql"]  # the check can fail
