"""Country codes: anything pycountry knows (alpha-2, alpha-3, numeric, names) to alpha-3."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from pydantic_core import PydanticCustomError


@lru_cache(maxsize=4096)
def alpha3(value: str) -> str:
    """The ISO 3166-1 alpha-3 code for a code or name, or a validation error."""
    try:
        country = pycountry.countries.lookup(value.strip())
    except LookupError:
        raise PydanticCustomError(
            "country",
            "'{value}' is not an ISO 3166 country: use an alpha-3 code such as UKR",
            {"value": value},
        ) from None
    return str(country.alpha_3)
