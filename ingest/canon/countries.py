"""Country codes and names to ISO 3166-1 alpha-3.

pycountry knows alpha-2, alpha-3, numeric codes and official names; a small alias table
(`data/country_aliases.csv`) adds the names sources actually write ("Russia", UN-style
"Iran (Islamic Republic of)") and marks what is deliberately not a country (the EU,
NATO, "Global", "Unknown"), so those are kept as written instead of guessed.
"""

from __future__ import annotations

import csv
import difflib
import re
from functools import cache, lru_cache
from importlib import resources

import pycountry
from pydantic_core import PydanticCustomError

_UN_STYLE = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<qualifier>[^()]+)\)$")  # Iran (Islamic Republic of)
_NOT_A_COUNTRY = ""


@cache
def _aliases() -> dict[str, str]:
    text = resources.files("ingest").joinpath("data/country_aliases.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["alias"].casefold(): row["alpha3"] for row in rows}


def _pycountry(value: str) -> str | None:
    try:
        return str(pycountry.countries.lookup(value).alpha_3)
    except LookupError:
        return None


@lru_cache(maxsize=8192)
def lookup(value: str) -> str | None:
    """The alpha-3 code for a code or name; None for anything that is not a country.

    "(region)" entries (EuRepoC's "NATO (region)") and the alias table's non-countries are
    None too: callers keep the raw value beside it.
    """
    text = " ".join(value.split())
    if not text or text.casefold().endswith("(region)"):
        return None
    found = _pycountry(text)
    if found is None:
        un_style = _UN_STYLE.match(text)
        if un_style:  # "Korea (Democratic People's Republic of)" -> "Korea, Democratic People's Republic of"
            found = _pycountry(f"{un_style['name']}, {un_style['qualifier']}")
    if found is None:
        key = text.casefold()
        found = _aliases().get(key, _aliases().get(key.rstrip("."))) or None
    return found


def is_known_non_country(value: str) -> bool:
    """True for names the alias table marks as not a country (EU, NATO, Unknown ...)."""
    text = " ".join(value.split())
    return _aliases().get(text.casefold()) == _NOT_A_COUNTRY or text.casefold().endswith("(region)")


def alpha3(value: str) -> str:
    """Strict: the alpha-3 code, or a validation error that says what to write instead."""
    found = lookup(value)
    if found is None:
        hint = (
            "it names an organisation or region, not a country"
            if is_known_non_country(value)
            else "use an alpha-3 code such as UKR"
        )
        raise PydanticCustomError(
            "country", "'{value}' is not an ISO 3166 country: {hint}", {"value": value, "hint": hint}
        )
    return found


@cache
def _names() -> dict[str, str]:
    """Every name a country goes by (pycountry's and the alias table's), casefolded -> alpha-3."""
    names = {alias: code for alias, code in _aliases().items() if code}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            if name := getattr(country, attribute, None):
                names[name.casefold()] = country.alpha_3
    return names


def closest(value: str) -> str | None:
    """The country a misspelt name most likely means, as "Ukraine (UKR)"; None when none is close.

    Names only: a mistyped three-letter code is close to too many codes to guess one.
    """
    text = " ".join(value.casefold().split())
    names = [name for name in _names() if len(name) > 3]  # not "uk", "usa"
    found = difflib.get_close_matches(text, names, n=1, cutoff=0.8) if len(text) > 3 else []
    if not found:
        return None
    code = _names()[found[0]]
    country = pycountry.countries.get(alpha_3=code)
    return f"{country.name if country else found[0]} ({code})"


def normalise(value: str | None) -> tuple[str | None, str | None]:
    """Lenient, for trackers and feeds: (alpha-3 or None, the raw value when it was not alpha-3)."""
    if value is None or not value.strip():
        return None, None
    found = lookup(value)
    return found, (None if found == value.strip() else value.strip())


# One-word country names that are also everyday words or names elsewhere: "Georgia
# Department of Revenue" is a US state's, "Jordan" a person, "Turkey" a bird, "Chad" a
# first name, "American" no more the USA's than Latin America's. A name holding one is no
# statement of a country.
_AMBIGUOUS_NAMES = frozenset(
    ("georgia", "jordan", "chad", "turkey", "guinea", "china", "cuba", "peru", "togo", "america")
)


@cache
def name_stems() -> dict[str, str]:
    """First five letters of a country's one-word name -> its alpha-3, where unambiguous.

    Lets "Ukrainian Ministry of Defence" and "Ministry of Defence of Ukraine" share the
    word UKR. Only a name that is one word ("Ukraine", "Romania"), or whose first word
    stands for it ("Iran, Islamic Republic of"), counts: the first word of "Central African
    Republic", "United Kingdom" or "Republic of Korea" is an everyday word, and "Central
    Election Commission" names no country. Stems shared by several countries ("niger" for
    Niger and Nigeria) and the names in `_AMBIGUOUS_NAMES` are left out.
    """
    seen: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for name in {country.name, getattr(country, "common_name", country.name)}:
            words = re.split(r"\s+", name.casefold())
            first = words[0].rstrip(",")
            one_word = len(words) == 1 or words[0].endswith(",")
            if one_word and len(first) >= 4:
                seen.setdefault(first[:5], set()).add(country.alpha_3)
    for alias, code in _aliases().items():
        if code and " " not in alias and len(alias) >= 4:
            seen.setdefault(alias[:5], set()).add(code)
    for name in _AMBIGUOUS_NAMES:  # no stem of theirs says a country ("guine": Guinea, Guinea-Bissau)
        seen.pop(name[:5], None)
    return {stem: codes.pop() for stem, codes in seen.items() if len(codes) == 1}


@cache
def fips_codes() -> dict[str, str]:
    """FIPS 10-4 country code -> alpha-3 (`data/fips_countries.csv`)."""
    text = resources.files("ingest").joinpath("data/fips_countries.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["fips"]: row["alpha3"] for row in rows}


def from_fips(code: str) -> str | None:
    """The alpha-3 code for a FIPS 10-4 country code (GDELT's geo columns): UP -> UKR,
    RS -> RUS, UK -> GBR. FIPS is not ISO alpha-2 (GM is Germany there, The Gambia here)."""
    return fips_codes().get(code.strip().upper())
