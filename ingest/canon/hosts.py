"""What a host name itself states: the registered domain under its public suffix (Mozilla's
Public Suffix List, through `publicsuffixlist`), and the country whose country-code TLD it
is registered under.

A ccTLD is the registry's country, stated by the name; it is not always where the
organisation is, and some ccTLDs are sold as generic names (`.io`, `.tv`, `.me`): those
give no country. A generic TLD (`.com`, `.eu`, `.brussels`) gives none either. Nothing is
read from the words of the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pycountry
from publicsuffixlist import PublicSuffixList

# ccTLDs marketed worldwide as generic names: their registry's country says nothing of the site's
GENERIC_CCTLDS = frozenset(
    {"ac", "ai", "cc", "co", "fm", "gg", "io", "la", "ly", "me", "ms", "nu", "sh", "tk", "to", "tv", "vc", "ws"}
)
_ISO_FOR_CCTLD = {"uk": "GB"}  # the one ccTLD that is not its country's alpha-2


@dataclass(frozen=True, slots=True)
class HostFacts:
    registered: str | None  # the domain registered under the public suffix: dp.gov.ua for adm.dp.gov.ua
    label: str | None  # its own label: dp
    country: str | None  # alpha-3 of the ccTLD's country, when the TLD is one and not sold as generic
    tld: str | None  # the top-level label as written: ua, com, brussels


@cache
def _list() -> PublicSuffixList:
    return PublicSuffixList()


@cache
def facts(host: str) -> HostFacts:
    name = host.strip().lower().rstrip(".")
    tld = name.rsplit(".", 1)[-1] if "." in name else None
    if not tld or tld.isdigit():  # an address, or no domain at all
        return HostFacts(None, None, None, None)
    registered = _list().privatesuffix(name)
    suffix = _list().publicsuffix(name)
    label = registered[: -len(suffix) - 1] if registered and suffix else None
    return HostFacts(registered, label, _cctld_country(tld), tld)


def _cctld_country(tld: str) -> str | None:
    if len(tld) != 2 or tld in GENERIC_CCTLDS:
        return None
    found = pycountry.countries.get(alpha_2=_ISO_FOR_CCTLD.get(tld, tld).upper())
    return found.alpha_3 if found else None  # .eu, .su: no country
