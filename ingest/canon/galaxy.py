"""Names of actors and attack techniques, resolved through the MISP galaxies.

`pymispgalaxies` ships the MISP galaxy clusters, kept up to date by the MISP project:
threat actors with their synonyms ("Fancy Bear", "STRONTIUM", "Sofacy" are APT28), ATT&CK
intrusion sets with theirs, and ATT&CK attack patterns with their technique ids
("Network Denial of Service - T1498"). cyberlog reads the cluster files themselves (found
without importing the package, which would bring jsonschema) once per process, when a
name first needs resolving.

A name the galaxies do not know is not guessed: it is only tidied (spaces, a trailing
remark in brackets), so "GRU (Russian military intelligence)" and "GRU" agree.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

_REMARK = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")  # "GRU (Russian military intelligence)"
_KEY = re.compile(r"[\W_]+")
_TECHNIQUE = re.compile(r"\s+-\s+(T\d{4}(?:\.\d{3})?)$")
_GROUP_ID = re.compile(r"\s+-\s+G\d{4}$")


def _clusters(name: str) -> list[dict[str, Any]]:
    spec = find_spec("pymispgalaxies")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-galaxy" / "clusters" / f"{name}.json"
    if not path.is_file():
        return []
    values = json.loads(path.read_text("utf-8")).get("values") or []
    return [v for v in values if isinstance(v, dict) and isinstance(v.get("value"), str)]


def key(name: str) -> str:
    """A name as compared: case, punctuation and spacing ignored ("Mustang Panda" = "MUSTANG-PANDA")."""
    return _KEY.sub("", name.casefold())


def tidy(name: str) -> str:
    """A name with its spacing collapsed and a trailing remark in brackets dropped, unless
    the remark says who it is not ("Russia (unnamed initiator)" is not the Russian state)."""
    text = " ".join(name.split())
    remark = _REMARK.search(text)
    if remark and any(word in remark.group().casefold() for word in ("unnamed", "unknown", "not ")):
        return text
    return _REMARK.sub("", text) or text


@cache
def _actors() -> dict[str, str]:
    """Every name and synonym of a threat actor or ATT&CK intrusion set -> its canonical name.

    The threat-actor galaxy comes first: its name is the canonical one, and an intrusion
    set most of whose names are one threat actor's adds its own synonyms to that actor. A
    synonym two actors claim is left out: it does not say which one is meant.
    """
    found: dict[str, set[str]] = {}
    for galaxy in ("threat-actor", "mitre-intrusion-set"):
        for cluster in _clusters(galaxy):
            name = _GROUP_ID.sub("", cluster["value"]).strip()  # "APT29 - G0016"
            synonyms = [s for s in (cluster.get("meta") or {}).get("synonyms") or [] if isinstance(s, str)]
            names = [name, *synonyms]
            # an intrusion set joins the threat actor most of its names belong to, when two or
            # more do ("Sandworm Team" shares Sandworm's IRIDIUM, TeleBots, VOODOO BEAR ...): one
            # shared nickname ("Grizzly Steppe" is APT28 and APT29) must not merge two groups
            known = _joins(found, names) if galaxy == "mitre-intrusion-set" else None
            target = known or name
            for n in names:
                found.setdefault(key(n), set()).add(target)
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1 and k}


def _joins(found: dict[str, set[str]], names: list[str]) -> str | None:
    votes = Counter(owner for n in names if (owner := _only(found.get(key(n)))))
    ranked = votes.most_common(2)
    if ranked and ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return None


def _only(names: set[str] | None) -> str | None:
    return next(iter(names)) if names and len(names) == 1 else None


@lru_cache(maxsize=8192)
def actor(name: str) -> str:
    """The canonical name of an actor: through the galaxies' synonyms, else the name tidied."""
    tidied = tidy(name)
    return _actors().get(key(tidied)) or _actors().get(key(name)) or tidied


def known_actor(name: str) -> bool:
    """Whether the galaxies know this actor name (as stored: canonical, or tidied when unknown)."""
    return key(name) in _actors()


@cache
def _techniques() -> dict[str, tuple[str, ...]]:
    """ATT&CK attack-pattern names (with or without their id) -> the technique ids: the
    enterprise, mobile and ICS matrices share names ("Network Denial of Service" is T1498
    and T1464), so a name may stand for several."""
    found: dict[str, dict[str, None]] = {}
    for cluster in _clusters("mitre-attack-pattern"):
        meta = cluster.get("meta") or {}
        match = _TECHNIQUE.search(cluster["value"])
        technique = meta.get("external_id") or (match.group(1) if match else None)
        if not isinstance(technique, str):
            continue
        name = _TECHNIQUE.sub("", cluster["value"])
        for n in (name, cluster["value"], *(s for s in meta.get("synonyms") or [] if isinstance(s, str))):
            found.setdefault(key(n), {})[technique] = None
    return {k: tuple(v) for k, v in found.items()}


@lru_cache(maxsize=8192)
def techniques(name: str) -> tuple[str, ...]:
    """The ATT&CK technique ids an attack-pattern name stands for ("Disk Wipe" -> T1561)."""
    return _techniques().get(key(name), ())


_SOFTWARE_ID = re.compile(r"\s+-\s+S\d{4}$")
_PHRASE = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Text with case and accents folded away ("Défense" is "defense")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def phrase(text: str) -> str:
    """Text as the identity matcher compares names in titles: folded, every run of other
    characters one space ("Win32/Industroyer" -> "win32 industroyer")."""
    return _PHRASE.sub(" ", fold(text)).strip()


def _distinctive(name: str) -> bool:
    """Whether a malware name, as the galaxy spells it, cannot be an everyday word in a title:
    two or more words ("Olympic Destroyer"), a word with a capital or digit inside
    ("WhisperGate", "Industroyer2") or one in capitals ("EKANS"). A plain word
    ("Prestige", "Interception", "Wiper" are all malware names) is not."""
    words = name.split()
    if len(words) >= 2:
        return not phrase(name).startswith("unidentified") and len(phrase(name)) >= 6
    word = words[0] if words else ""
    if len(word) < 4:
        return False
    camel = any(c.isupper() for c in word[1:]) and not word.isupper()  # WhisperGate
    capitals = word.isupper() and word.isalpha() and len(word) >= 5  # EKANS
    return camel or capitals or any(c.isdigit() for c in word)  # Industroyer2


@cache
def malware_names() -> tuple[tuple[str, str], ...]:
    """(phrase, canonical name) for every distinctive name and synonym of a malware family in
    the ATT&CK software and Malpedia galaxies ("hermeticwiper" and "driveslayer" ->
    HermeticWiper). ATT&CK's spelling is the canonical one. A synonym two families claim
    is left out, unless it is one family's own name ("NotPetya", which Malpedia lists
    under EternalPetya)."""
    found: dict[str, dict[str, str]] = {}  # phrase -> {key of a family: its canonical name}
    for galaxy in ("mitre-malware", "malpedia"):
        for cluster in _clusters(galaxy):
            canonical = tidy(_SOFTWARE_ID.sub("", cluster["value"]))
            synonyms = [s for s in (cluster.get("meta") or {}).get("synonyms") or [] if isinstance(s, str)]
            for name in (canonical, *(tidy(s) for s in synonyms)):
                if _distinctive(name) and (text := phrase(name)):
                    found.setdefault(text, {}).setdefault(key(canonical), canonical)
    names = []
    for text, owners in found.items():
        own = owners.get(key(text))
        if own or len(owners) == 1:
            names.append((text, own or next(iter(owners.values()))))
    return tuple(sorted(names))
