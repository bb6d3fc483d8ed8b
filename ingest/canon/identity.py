"""Words that identify a target organisation across sources.

Sources spell the same victim differently ("Ministry of Defence of Ukraine", "Ukrainian
Ministry of Defense"). Each name becomes a set of words: lower case, accents and
punctuation dropped, filler words dropped, every word cut to its first five letters
(so defence/defense and Ukraine/Ukrainian agree), country words replaced by the
country's alpha-3 code, and the target's own country added. The cross-source matcher
(`sql/identity.sql`) compares these sets.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.canon.countries import name_stems
from ingest.canon.galaxy import fold

STEM = 5
_STOP = frozenset(
    (
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "in",
        "on",
        "at",
        "to",
        "by",
        "de",
        "du",
        "la",
        "le",
        "des",
        "del",
        "da",
        "di",
        "y",
        "et",
        "und",
        "der",
        "die",
        "das",
        "s",
        "inc",
        "ltd",
        "llc",
        "co",
        "plc",
        "jsc",
    )
)
# Words (as stems) that name a kind of organisation, not one organisation: sharing only
# these ("Ministry" and "Ministry of Education") never makes two targets candidates.
GENERIC = (
    "minis",
    "gover",
    "depar",
    "agenc",
    "offic",
    "natio",
    "state",
    "servi",
    "counc",
    "bank",
    "banks",
    "compa",
    "group",
    "unive",
    "insti",
    "organ",
    "autho",
    "commi",
    "feder",
    "publi",
    "centr",
    "gener",
    "admin",
    "syste",
    "websi",
    "porta",
    "site",
    "sites",
    "web",
    "regio",
    "local",
    "munic",
    "city",
    "assoc",
    "found",
    "corpo",
)
_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def org_words(name: str, country: str | None = None) -> tuple[str, ...]:
    """The sorted word set of an organisation's name (see the module docstring)."""
    text = fold(name.replace("&", " and "))
    stems = name_stems()
    words = set()
    for word in _WORD.findall(text):
        if word in _STOP:
            continue
        stem = word[:STEM]
        words.add(stems.get(stem, stem) if len(word) >= 4 else word)
    if country:
        words.add(country)
    return tuple(sorted(words))
