"""Free vocabularies (STIX open vocabularies, MISP tags, VERIS enums, tracker columns) to
cyberlog's attack types and sectors, through one table: `data/vocabulary.csv`.

A term maps when it is in the table as a whole, when it carries a MITRE ATT&CK technique
id (`Network Denial of Service - T1498`), when one of its words is a one-word term
("Ransomware - Xorist"), or when it is the name of an ATT&CK technique the MISP galaxy
knows whose id the table maps ("Exploit Public-Facing Application" is T1190). Anything
else is not guessed: the caller decides (usually `other`), and the term is handed back as
the source wrote it, so the record keeps it and `v_unmapped_terms` lists it for the table.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import cast

from ingest.canon.records import AttackType, Sector

_SPACES = re.compile(r"[\s_\-]+")
_TECHNIQUE = re.compile(r"\bt1\d{3}\b")
_WORDS = re.compile(r"[a-z0-9&]+")

Term = str | tuple[str, ...]
"""A source's word, or one thing's several names (an ATT&CK pattern's name, aliases and id;
a MISP galaxy cluster and its galaxy): it maps when any of its names does, and is handed
back by its first name when none does."""
_NO_WORD = frozenset({"other", "unknown"})  # a source's own Other or Unknown: nothing to map, nor to keep


def _norm(term: str) -> str:
    return _SPACES.sub(" ", term.casefold()).strip()


@cache
def _table() -> dict[str, dict[str, str]]:
    text = resources.files("ingest").joinpath("data/vocabulary.csv").read_text("utf-8")
    table: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        table.setdefault(row["vocabulary"], {})[_norm(row["term"])] = row["value"]
    return table


@lru_cache(maxsize=4096)
def _lookup(vocabulary: str, term: str) -> str | None:
    table = _table()[vocabulary]
    text = _norm(term)
    if text in table:
        return table[text]
    technique = _TECHNIQUE.search(text)
    if technique and technique.group() in table:
        return table[technique.group()]
    for word in _WORDS.findall(text):
        if word in table:
            return table[word]
    if vocabulary == "attack_type":  # an ATT&CK technique by name ("Disk Wipe"): its ids, through the galaxy
        from ingest.canon import galaxy

        for found in galaxy.techniques(term):
            mapped = _lookup(vocabulary, found)  # "T1566.001" by its technique, as any id
            if mapped:
                return mapped
    return None


def attack_type(term: str) -> AttackType | None:
    return cast(AttackType | None, _lookup("attack_type", term))


def sector(term: str) -> Sector | None:
    return cast(Sector | None, _lookup("sector", term))


def _map(vocabulary: str, terms: Iterable[Term]) -> tuple[list[str], tuple[str, ...], bool]:
    """Every distinct value the terms name, in order; the terms none of whose names maps,
    by their first name as written (once, however spelt); and whether there was a term."""
    found: dict[str, None] = {}
    unmapped: dict[str, str] = {}  # normalised -> as the source first wrote it
    seen = False
    for term in terms:
        names = [name.strip() for name in ((term,) if isinstance(term, str) else term) if name.strip()]
        if not names:
            continue
        seen = True
        values = [value for value in (_lookup(vocabulary, name) for name in names) if value]
        found.update(dict.fromkeys(values))
        if not values and _norm(names[0]) not in _NO_WORD:
            unmapped.setdefault(_norm(names[0]), names[0])
    return list(found), tuple(unmapped.values()), seen


def attack_types(terms: Iterable[Term]) -> tuple[tuple[AttackType, ...], tuple[str, ...]]:
    """The distinct attack types the terms name, in order (`other` when none does), and the
    terms none maps, as the source wrote them."""
    found, unmapped, _ = _map("attack_type", terms)
    return cast(tuple[AttackType, ...], tuple(found) or ("other",)), unmapped


def sectors(terms: Iterable[Term]) -> tuple[tuple[Sector, ...], tuple[str, ...]]:
    """Every distinct sector the terms name, in order (('other',) when there were terms but
    none maps, () when there were none), and the terms none maps, as the source wrote them."""
    found, unmapped, seen = _map("sector", terms)
    return cast(tuple[Sector, ...], tuple(found) or (("other",) if seen else ())), unmapped
