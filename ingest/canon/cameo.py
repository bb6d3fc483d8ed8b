"""CAMEO event codes: labels, QuadClass, Goldstein scores and cyberlog's readable classes.

Two data files, both shipped with the package:
- `data/cameo_codes.csv`, the official code list (code, label, quad class, Goldstein),
  made from GDELT's `CAMEO.eventcodes.txt` and `CAMEO.goldsteinscale.txt` by
  `parse_eventcodes` below, which repairs that file's known damage on purpose;
- `data/cameo_classes.csv`, cyberlog's mapping of code prefixes to event classes
  (longest prefix wins: 0874 troop pullback falls under 087 de-escalate -> military).
The store keeps both as the table `cameo_codes`, so SQL can join event codes to labels.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

from pydantic_core import PydanticCustomError

from ingest.canon.records import EventClass

# The official CAMEO.eventcodes.txt has two kinds of damage. A line where the next code
# was glued onto a label, with its Goldstein score ("...engagement106:[-5.0] Demand
# withdrawal"), is split in two; labels mangled by a character-set accident or a typo
# are replaced from this table (the manual's wording).
_GLUED = re.compile(r"^(?P<label>.*?\D)(?P<code>\d{2,4}):\[(?P<goldstein>-?\d+(?:\.\d+)?)\]\s*(?P<rest>.+)$")
_REPAIRED = {
    "033": "Express intent to provide material aid, not specified below",
    "044": "Meet at a third location",
    "2041": "Use chemical, biological, or radiological weapons",
}


def _label(text: str) -> str:
    label = " ".join(text.split())
    return label[:1] + label[1:].lower() if label.isupper() else label


def parse_eventcodes(text: str) -> list[tuple[str, str]]:
    """(code, label) for every CAMEO event code in the official file's text.

    Header and QuadClass heading lines (one-digit codes) are skipped; glued lines are
    split; damaged labels are repaired from `_REPAIRED`.
    """
    codes: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        code, _, label = line.partition("\t")
        code = code.strip()
        if not code.isdigit() or len(code) < 2:
            continue
        glued = _GLUED.match(label.strip())
        if glued:
            codes[code] = _label(glued["label"])
            codes[glued["code"]] = _label(glued["rest"])
        else:
            codes[code] = _label(label)
    codes.update((code, label) for code, label in _REPAIRED.items() if code in codes)
    return sorted(codes.items())


def quad_class(code: str) -> int:
    """CAMEO's QuadClass follows the root: 01-05 verbal cooperation ... 15-20 material conflict."""
    root = int(code[:2])
    return 1 if root <= 5 else 2 if root <= 9 else 3 if root <= 14 else 4


@cache
def _prefixes() -> dict[str, EventClass]:
    text = resources.files("ingest").joinpath("data/cameo_classes.csv").read_text("utf-8")
    return {row["prefix"]: row["event_class"] for row in csv.DictReader(text.splitlines())}  # type: ignore[misc]


@cache
def codes() -> list[dict[str, str]]:
    """The shipped code list, each with its event class: the rows of the store's `cameo_codes`."""
    text = resources.files("ingest").joinpath("data/cameo_codes.csv").read_text("utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    return [{**row, "event_class": event_class(row["code"])} for row in rows]


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
