"""CAMEO event codes to cyberlog's readable event classes.

The mapping is data (`data/cameo_classes.csv`, code prefix → class), longest prefix
wins, so a leaf such as 0874 (troop pullback) falls under 087 (de-escalate) → military.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from pydantic_core import PydanticCustomError

from ingest.records import EventClass


@cache
def _prefixes() -> dict[str, EventClass]:
    text = resources.files("ingest").joinpath("data/cameo_classes.csv").read_text("utf-8")
    return {row["prefix"]: row["event_class"] for row in csv.DictReader(text.splitlines())}  # type: ignore[misc]


def check_code(code: str) -> str:
    """A CAMEO code as text (leading zeros kept) with a root 01-20, or a validation error."""
    if not (code.isdigit() and 2 <= len(code) <= 4 and 1 <= int(code[:2]) <= 20):
        raise PydanticCustomError(
            "cameo_code",
            "'{value}' is not a CAMEO code: 2 to 4 digits with a root 01-20, as text (e.g. 042)",
            {"value": code},
        )
    return code


def event_class(code: str) -> EventClass:
    """The event class of a valid CAMEO code."""
    table = _prefixes()
    for end in range(len(code), 1, -1):
        if code[:end] in table:
            return table[code[:end]]
    return "other"
