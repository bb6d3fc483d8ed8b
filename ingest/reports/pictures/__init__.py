"""Each report's own picture on its page: what the report answered, drawn, and nothing else.

A builder turns the report's rows (and, where the rows name them, a few facts the page
needs, such as the exact interval an incident's time can lie in) into the JSON one drawer
of the page's script reads. The drawers are plain JavaScript files beside this module
(`base.js`, the axis, ticks, zoom, legend and hover every picture shares, then one file per
kind), inlined into the page: no network, no CDN, nothing to fetch.

A report without a builder gets its table alone, and the page says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import duckdb

MAX_MARKS = 5000  # marks a page draws before it says how many it left out


@dataclass(frozen=True)
class Drawing:
    """What a builder may look at: the report's result and the store it came from."""

    con: duckdb.DuckDBPyConnection
    report: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    params: dict[str, Any]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts by column name, each with its place in the report (`row`)."""
        return [{"row": i, **dict(zip(self.columns, r, strict=True))} for i, r in enumerate(self.rows)]


@dataclass(frozen=True)
class Picture:
    kind: str  # the drawer: a file `<kind>.js` beside this module
    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # said above the picture (marks capped, nothing to draw)


Builder = Callable[[Drawing], Picture]
_BUILDERS: dict[str, Builder] = {}


def builds(*reports: str) -> Callable[[Builder], Builder]:
    """Register a builder for the named reports."""

    def register(builder: Builder) -> Builder:
        for name in reports:
            _BUILDERS[name] = builder
        return builder

    return register


def drawn() -> list[str]:
    """The reports that have a picture."""
    _load()
    return sorted(_BUILDERS)


def picture(drawing: Drawing) -> Picture | None:
    _load()
    builder = _BUILDERS.get(drawing.report)
    return builder(drawing) if builder else None


@cache
def script(kind: str) -> str:
    """The page's script for one kind of picture: the shared base, then its drawer."""
    folder = resources.files(__name__)
    return folder.joinpath("base.js").read_text("utf-8") + "\n" + folder.joinpath(f"{kind}.js").read_text("utf-8")


@cache
def style(kind: str) -> str:
    """The CSS a kind of picture adds to the page's (a `<kind>.css` beside its drawer), if any."""
    sheet = resources.files(__name__).joinpath(f"{kind}.css")
    return sheet.read_text("utf-8") if sheet.is_file() else ""


def capped(items: list[dict[str, Any]], what: str, limit: int = MAX_MARKS) -> tuple[list[dict[str, Any]], list[str]]:
    """At most `limit` items, and the note that says so when some were left out."""
    if len(items) <= limit:
        return items, []
    return items[:limit], [
        f"the picture shows the first {limit:,} of {len(items):,} {what}: --format csv gives every row"
    ]


def _load() -> None:
    """Import the builder modules once (they register themselves)."""
    from ingest.reports.pictures import lags, tallies, timeline  # noqa: F401
