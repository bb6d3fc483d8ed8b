"""Free vocabularies (STIX open vocabularies, MISP tags, VERIS enums, tracker columns) to
cyberlog's attack types and sectors, through one table: `data/vocabulary.csv`.

A term maps when it is in the table as a whole, when it carries a MITRE ATT&CK technique
id (`Network Denial of Service - T1498`), when one of its words is a one-word term
("Ransomware - Xorist"), or when it is the name of an ATT&CK technique the MISP galaxy
knows whose id the table maps ("Exploit Public-Facing Application" is T1190). Anything
else is not guessed: the caller decides (usually `other`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import cast

from ingest.records import AttackType, Sector

_SPACES = re.compile(r"[\s_\-]+")
_TECHNIQUE = re.compile(r"\bt1\d{3}\b")
_WORDS = re.compile(r"[a-z0-9&]+")


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
        from ingest import galaxy

        for found in galaxy.techniques(term):
            mapped = _lookup(vocabulary, found)  # "T1566.001" by its technique, as any id
            if mapped:
                return mapped
    return None


def attack_type(term: str) -> AttackType | None:
    return cast(AttackType | None, _lookup("attack_type", term))


def sector(term: str) -> Sector | None:
    return cast(Sector | None, _lookup("sector", term))


def attack_types(terms: Iterable[str]) -> tuple[AttackType, ...]:
    """The distinct attack types the terms name, in order; `other` when none does."""
    found: dict[AttackType, None] = {}
    for term in terms:
        mapped = attack_type(term)
        if mapped:
            found[mapped] = None
    return tuple(found) or ("other",)


def sectors(terms: Iterable[str]) -> tuple[Sector, ...]:
    """Every distinct sector the terms name, in order; ('other',) when there were terms but
    none maps, () when there were none."""
    found: dict[Sector, None] = {}
    seen = False
    for term in terms:
        seen = True
        mapped = sector(term)
        if mapped:
            found[mapped] = None
    return tuple(found) or (("other",) if seen else ())
