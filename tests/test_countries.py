"""Countries from every code system sources use, to ISO 3166-1 alpha-3, never guessed."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from ingest.canon.countries import alpha3, from_fips, normalise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UKR", ("UKR", None)),  # alpha-3 as is: no raw value to keep
        ("UA", ("UKR", "UA")),  # alpha-2 (STIX, VERIS, MISP galaxies)
        ("804", ("UKR", "804")),  # numeric (ACLED)
        ("Ukraine", ("UKR", "Ukraine")),
        ("Russia", ("RUS", "Russia")),  # a name sources write that ISO does not
        ("Russian Federation", ("RUS", "Russian Federation")),
        ("Iran (Islamic Republic of)", ("IRN", "Iran (Islamic Republic of)")),  # UN style (CFR)
        ("Korea, Democratic People's Republic of", ("PRK", "Korea, Democratic People's Republic of")),  # EuRepoC
        ("Kosovo", ("XKX", "Kosovo")),
        ("Occupied Palestinian Territory", ("PSE", "Occupied Palestinian Territory")),  # ICEWS
        ("NATO (region)", (None, "NATO (region)")),  # a pseudo-region: kept raw, not guessed
        ("EU", (None, "EU")),
        ("Unknown", (None, "Unknown")),
        ("  ", (None, None)),
        (None, (None, None)),
    ],
)
def test_normalise(value, expected):
    assert normalise(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("XYZ", "'XYZ' is not an ISO 3166 country: use an alpha-3 code such as UKR"),
        ("NATO", "'NATO' is not an ISO 3166 country: it names an organisation or region, not a country"),
    ],
)
def test_alpha3_is_strict_and_says_why(value, message):
    with pytest.raises(PydanticCustomError) as error:
        alpha3(value)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("UP", "UKR"),
        ("RS", "RUS"),
        ("GM", "DEU"),
        ("UK", "GBR"),
        ("US", "USA"),
        ("SZ", "CHE"),
        ("KV", "XKX"),
        ("OS", None),
        ("", None),
    ],
)
def test_fips_is_not_iso(code, expected):
    assert from_fips(code) == expected
