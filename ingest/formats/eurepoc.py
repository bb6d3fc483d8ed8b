"""EuRepoC Global Database (Zenodo record 7848941): one row per incident, 81 columns.

Only the columns below are read; the others (intensity scores, legal and political
responses) are allowed and ignored. List cells are Python list reprs, read with
`ast.literal_eval` (never JSON: the quotes are mixed). "Unknown" and "Not available"
are absent values. An `end_date` before the `start_date` (the source has some) is
dropped and the incident kept.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from ingest.canon import countries, vocab
from ingest.canon.records import Actor, Incident, Target
from ingest.canon.times import TimeValue, parse_time
from ingest.formats.base import Format, OptText, OptTime, Text, Time, csv_layout

SENTINELS = frozenset({"", "unknown", "not available", "none", "nan", "nat", "n/a"})
REGION_ORGS = {"NATO (region)": "NATO", "EU (region)": "EU"}  # named organisations, not places
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?: 00:00:00)?")
_OUTSIDE_PARENS = r"(?![^()]*\))"  # "Lord Ahmad (Minister ...; GBR)" is one item, "(GU/GRU)" one alias
_ITEMS, _ALIASES = re.compile(";" + _OUTSIDE_PARENS), re.compile("/" + _OUTSIDE_PARENS)


def _py_list(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        parsed = None
    if not isinstance(parsed, list):
        raise PydanticCustomError(
            "list_repr", "'{value}' is not a Python list such as ['Ukraine'] or [['Media']]", {"value": value[:200]}
        )
    return parsed


def _days(value: Any, info: ValidationInfo) -> tuple[TimeValue | None, ...]:
    """A `;`-list of days, one per attribution ("2022-01-15; NaT"); a sentinel is None."""
    days = []
    for part in str(value).split(";"):
        day = _DAY.fullmatch(part.strip())
        if not day and _clean(part) is not None:
            raise PydanticCustomError("date", "'{value}' is not a `;`-list of YYYY-MM-DD dates", {"value": value})
        days.append(parse_time(day[1], (info.context or {}).get("zone")) if day else None)
    return tuple(days)


PyList = Annotated[list[Any], BeforeValidator(_py_list)]


class EurepocIncident(BaseModel):
    """The columns cyberlog uses, as EuRepoC names them."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: importing a format is cheap

    ID: Text
    name: Text
    description: OptText = None
    start_date: Time
    end_date: OptTime = None
    incident_type: OptText = None
    receiver_name: PyList = []
    receiver_country: PyList = []
    receiver_category: PyList = []
    initiator_name: PyList = []
    initiator_country: PyList = []
    initiator_category: PyList = []
    attribution_date: Annotated[tuple[TimeValue | None, ...], PlainValidator(_days)] = ()
    attributing_actor: OptText = None
    attributing_country: OptText = None
    attributed_initiator: OptText = None
    attributed_initiator_country: OptText = None
    attributed_initiator_category: OptText = None
    sources_url: PyList = []


def _clean(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return None if text.casefold() in SENTINELS else text


def flat(value: Any) -> list[str | None]:
    """The items of a (nested) list as text, a sentinel as None."""
    if isinstance(value, list | tuple):
        return [item for part in value for item in flat(part)]
    return [_clean(value)]


def _paired(values: list[Any], width: int) -> list[list[str | None]]:
    """Each entry's items when the list has one entry per receiver (or actor); else the
    one value all its entries agree on, or nothing."""
    if len(values) == width:
        return [flat(value) for value in values]
    known = {item for item in flat(values) if item}
    return [list(known) if len(known) == 1 else []] * width


def _first(items: list[str | None]) -> str | None:
    return next((item for item in items if item), None)


def targets(row: EurepocIncident) -> tuple[Target, ...]:
    places, kinds, names = row.receiver_country, row.receiver_category, row.receiver_name
    width = len(places) or len(names) or len(kinds)
    # the source repeats receivers: each distinct one once, with every category word it left unmapped
    found: dict[Target, dict[str, None]] = {}
    for place, sectors, named in zip(*(_paired(column, width) for column in (places, kinds, names)), strict=True):
        code, raw = countries.normalise(_first(place))
        name = _first(named) or REGION_ORGS.get(raw or "")
        mapped, unmapped = vocab.sectors(filter(None, sectors))
        if name or code or raw or mapped:
            found.setdefault(Target.of(name, None, code, raw, mapped), {}).update(dict.fromkeys(unmapped))
    return tuple(replace(target, unmapped_sectors=tuple(words)) for target, words in found.items())


def short_name(name: str) -> str:
    """The first of the aliases EuRepoC joins with '/' ("Fancy Bear/APT28/Sofacy/...")."""
    return next((alias.strip() for alias in _ALIASES.split(name) if alias.strip()), name)


def _column(attributed: str | None, listed: list[Any]) -> list[str | None]:
    """A `;`-joined column when given, else the list one."""
    return [_clean(item) for item in _ITEMS.split(attributed)] if attributed else flat(listed)


def _attributors(row: EurepocIncident) -> list[str | None]:
    """Who made each attribution: its attributing actor, else its attributing country."""
    names, places = _column(row.attributing_actor, []), _column(row.attributing_country, [])
    if len(names) == len(places):
        return [name or place for name, place in zip(names, places, strict=True)]
    return names if any(names) else places


def actors(row: EurepocIncident) -> tuple[Actor, ...]:
    """The attributed initiators (else the initiators), each with the country, category,
    date and attributor in the same position (else the one all positions agree on, the
    earliest date, all attributors); an initiator known only by its country is named after it."""
    names = _column(row.attributed_initiator, row.initiator_name)
    places = _column(row.attributed_initiator_country, row.initiator_country)
    kinds = _column(row.attributed_initiator_category, row.initiator_category)
    width = len(names) or len(places)
    dates, by = list(row.attribution_date), _attributors(row)
    if len(dates) != width:
        dates = [min(filter(None, dates), key=lambda day: day.at, default=None)] * width
    if len(by) != width:
        by = ["; ".join(dict.fromkeys(filter(None, by))) or None] * width
    found: dict[Actor, None] = {}
    columns = (*(_paired(column, width) for column in (names, places, kinds)), dates, by)
    for name, place, kind, at, who in zip(*columns, strict=True):
        code, raw = countries.normalise(_first(place))
        named = _first(name)
        label = short_name(named) if named else f"{raw or code} (unnamed initiator)" if raw or code else None
        if label:
            found[Actor(label, "attributed" if at else "suspected", who, at, code, raw, _first(kind))] = None
    return tuple(found)


def convert(row: EurepocIncident) -> Incident:
    terms = [term for term in map(_clean, (row.incident_type or "").split(";")) if term]  # "Not available": none
    ended = row.end_date if row.end_date and row.end_date.at >= row.start_date.at else None
    _, unmapped = vocab.attack_types(terms)
    return Incident(
        source_ref=row.ID,
        title=row.name,
        description=row.description,
        # a type of EuRepoC's that maps to none of ours is `other` beside those that do
        attack_types=tuple(dict.fromkeys(vocab.attack_type(term) or "other" for term in terms)) or ("other",),
        started=row.start_date,
        ended=ended,
        evidence="reported",
        severity=None,
        url=next((url for url in flat(row.sources_url) if url and url.startswith(("http://", "https://"))), None),
        targets=targets(row),
        actors=actors(row),
        unmapped_attack_types=unmapped,
    )


COLUMNS = (  # the real file's header, in order
    "ID",
    "name",
    "description",
    "start_date",
    "end_date",
    "inclusion_criteria",
    "inclusion_criteria_subcode",
    "source_incident_detection_disclosure",
    "incident_type",
    "receiver_name",
    "receiver_country",
    "receiver_region",
    "receiver_category",
    "receiver_category_subcode",
    "initiator_name",
    "initiator_country",
    "initiator_category",
    "initiator_category_subcode",
    "number_of_attributions",
    "attribution_date",
    "attribution_type",
    "attribution_basis",
    "attributing_actor",
    "attribution_it_company",
    "attributing_country",
    "attributed_initiator",
    "attributed_initiator_country",
    "attributed_initiator_category",
    "attributed_initiator_subcategory",
    "sources_attribution",
    "cyber_conflict_issue",
    "offline_conflict_issue",
    "offline_conflict_name_HIIK",
    "offline_conflict_intensity",
    "offline_conflict_intensity_subcode",
    "number_of_political_responses",
    "political_response_date",
    "political_response_type",
    "political_response_type_subcode",
    "political_response_country",
    "political_response_actor",
    "zero_days",
    "zero_days_subcode",
    "MITRE_initial_access",
    "MITRE_impact",
    "user_interaction",
    "has_disruption",
    "data_theft",
    "disruption",
    "hijacking",
    "physical_effects_spatial",
    "physical_effects_temporal",
    "unweighted_cyber_intensity",
    "target_multiplier",
    "weighted_cyber_intensity",
    "impact_indicator",
    "impact_indicator_value",
    "functional_impact",
    "intelligence_impact",
    "political_impact_affected_entities",
    "political_impact_affected_entities_exact_value",
    "political_impact_third_countries",
    "political_impact_third_countries_exact_value",
    "economic_impact",
    "economic_impact_exact_value",
    "economic_impact_currency",
    "state_responsibility_indicator",
    "IL_breach_indicator",
    "IL_breach_indicator_subcode",
    "evidence_for_sanctions_indicator",
    "number_of_legal_responses",
    "legal_response_date",
    "legal_response_type",
    "legal_response_type_subcode",
    "legal_response_country",
    "legal_response_actor",
    "legal_attribution_reference",
    "legal_attribution_reference_subcode",
    "legal_response_indicator",
    "casualties",
    "sources_url",
)
IGNORED = frozenset(COLUMNS) - set(EurepocIncident.model_fields)

FORMAT = Format(
    "eurepoc",
    "incident",
    "EuRepoC Global Database CSV (one row per incident, 81 columns)",
    "eurepoc",
    EurepocIncident,
    convert,
    *csv_layout(EurepocIncident, ignored=IGNORED),
    tabular=True,
)
