"""Canned reports: one self-describing `.sql` file each in `sql/reports/`.

The header comment is the report's documentation and its parameter declarations, so
the SQL and what it means never drift apart. Parameters are bound by DuckDB (`$name`),
never spliced into the SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ingest.canon import countries, vocab
from ingest.canon.records import VOCABULARIES
from ingest.canon.times import parse_time, zone
from ingest.errors import UsageError
from ingest.store import sql_dir

_PARAM = re.compile(
    r"(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>[A-Z_]+)(?:\((?P<choices>[a-z0-9_|]+)\))?"
    r"\s*=\s*(?P<default>'[^']*'|\S+)\s*(?P<help>.*)"
)


class BadValue(ValueError):
    """A param value's whole complaint, said after the value: "is not a country ..."."""


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError("expected true or false")


def _timestamp(text: str) -> datetime:
    return parse_time(text).at


def _timezone(text: str) -> str:
    """An IANA zone name (Europe/Kyiv), checked: the reports' day boundaries, never the store's."""
    return zone(text).key


def _country(text: str) -> str:
    """Alpha-2, alpha-3 or a name, as ingest reads them (UA, UKR, Ukraine): the alpha-3 code."""
    found = countries.lookup(text)
    if found is not None:
        return found
    if countries.is_known_non_country(text):
        raise BadValue("names an organisation or region, not a country")
    close = countries.closest(text)
    raise BadValue(
        "is not a country: give an alpha-2 or alpha-3 code or a name (UA, UKR, Ukraine)"
        + (f"; did you mean {close}?" if close else "")
    )


def _term(vocabulary: str, mapped: Callable[[str], str | None] | None = None) -> Callable[[str], str]:
    """A value of one of VOCABULARIES, or a source's word for one as ingest maps it (`mapped`)."""
    choices = VOCABULARIES[vocabulary]

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value in choices:
            return value
        found = mapped(text) if mapped else None
        if found in choices:
            return str(found)
        aliases = ", nor a term ingest maps to one" if mapped else ""
        raise BadValue(f"is not one of {', '.join(choices)}{aliases}")

    return parse


@dataclass(frozen=True)
class ParamType:
    """How a header's type (`-- param: sector SECTOR = NULL`) reads a `-p` value."""

    parse: Callable[[str], Any]
    vocabulary: str | None = None  # its values are this VOCABULARIES entry's


TYPES: dict[str, ParamType] = {
    "TIMEZONE": ParamType(_timezone),
    "INTEGER": ParamType(int),
    "DOUBLE": ParamType(float),
    "VARCHAR": ParamType(str),
    "BOOLEAN": ParamType(_boolean),
    "DATE": ParamType(date.fromisoformat),
    "TIMESTAMPTZ": ParamType(_timestamp),
    "COUNTRY": ParamType(_country),
    "SECTOR": ParamType(_term("sector", vocab.sector), "sector"),
    "ATTACK_TYPE": ParamType(_term("attack_type", vocab.attack_type), "attack_type"),
    "EVENT_CLASS": ParamType(_term("event_class"), "event_class"),
    "PRECISION": ParamType(_term("time_precision"), "time_precision"),
}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    default_text: str
    help: str
    choices: tuple[str, ...] = ()  # the values it allows, `VARCHAR(class|day|event)`; of a vocabulary, some

    def parse(self, text: str) -> Any:
        """A value from the command line; an empty value or NULL means no value."""
        if text == "" or text.upper() == "NULL":
            return None
        if self.choices and text.lower() not in self.choices:
            raise UsageError(f"param {self.name}: {text!r} is not one of {', '.join(self.choices)}")
        try:
            return TYPES[self.type].parse(text.lower() if self.choices else text)
        except BadValue as exc:
            raise UsageError(f"param {self.name}: {text!r} {exc}") from None
        except ValueError as exc:
            raise UsageError(f"param {self.name}: {text!r} is not a valid {self.type} ({exc})") from None

    @property
    def type_text(self) -> str:
        vocabulary = TYPES[self.type].vocabulary
        shown = self.choices or (VOCABULARIES[vocabulary] if vocabulary else ())
        return f"{self.type}({'|'.join(shown)})" if shown else self.type


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    examples: tuple[str, ...]
    sql: str
    path: Path
    compute: str | None = None  # a Python step over the SQL's rows (`-- compute: NAME`), DuckDB only

    def bind(self, given: dict[str, str]) -> dict[str, Any]:
        """Defaults overlaid with the user's `-p key=value` pairs, typed."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise UsageError(f"report {self.name} has no param {', '.join(unknown)}; its params: {allowed}")
        return {name: (p.parse(given[name]) if name in given else p.default) for name, p in known.items()}

    def sql_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The params its SQL binds: a compute report's others are for its Python step."""
        return {name: value for name, value in params.items() if re.search(rf"\${name}\b", self.sql)}


def _parse_header(path: Path) -> Report:
    text = path.read_text("utf-8")
    fields: dict[str, list[str]] = {"title": [], "description": [], "param": [], "example": [], "compute": []}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        key, sep, value = body.partition(":")
        if sep and key in fields:
            fields[key].append(value.strip())
            last = key
        elif body and last == "description":
            fields["description"].append(body)
    if not fields["title"]:
        raise UsageError(f"report {path.stem} has no '-- title:' header")
    params = tuple(_param(path.stem, spec) for spec in fields["param"])
    compute = fields["compute"][0] if fields["compute"] else None
    if compute is not None and compute not in COMPUTE:
        raise UsageError(f"report {path.stem}: no compute step named {compute!r}")
    return Report(
        path.stem,
        fields["title"][0],
        " ".join(fields["description"]),
        params,
        tuple(fields["example"]),
        text,
        path,
        compute,
    )


def _param(report: str, spec: str) -> Param:
    match = _PARAM.fullmatch(spec)
    kind = TYPES.get(match["type"]) if match else None
    if match is None or kind is None:
        raise UsageError(f"report {report}: cannot read param declaration {spec!r}")
    literal = match["default"]
    text = literal[1:-1] if literal.startswith("'") else literal
    choices = tuple(match["choices"].split("|")) if match["choices"] else ()
    if kind.vocabulary and not set(choices) <= set(VOCABULARIES[kind.vocabulary]):  # `PRECISION(day|hour)`
        raise UsageError(f"report {report}: param {match['name']} allows values its {match['type']} has not")
    param = Param(match["name"], match["type"], None, literal, match["help"].strip(), choices)
    default = param.parse(text) if literal != "''" else ""
    return Param(param.name, param.type, default, literal, param.help, choices)


Rows = list[tuple[Any, ...]]


def _granger(rows: Rows, params: dict[str, Any]) -> tuple[list[str], Rows]:
    from ingest.reports import leadlag  # statsmodels is imported only when such a report runs

    return leadlag.granger(rows, params)


# Reports whose answer is not one SELECT: the SQL builds the input, a Python step the rows.
COMPUTE: dict[str, Callable[[Rows, dict[str, Any]], tuple[list[str], Rows]]] = {"granger": _granger}


def compute(report: Report, rows: Rows, params: dict[str, Any]) -> tuple[list[str], Rows]:
    """A compute report's rows from what its SQL returned."""
    assert report.compute is not None
    return COMPUTE[report.compute](rows, params)


def reports_dir() -> Path:
    return sql_dir() / "reports"


def all_reports() -> list[Report]:
    return [_parse_header(path) for path in sorted(reports_dir().glob("*.sql"))]


def get(name: str) -> Report:
    path = reports_dir() / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        names = ", ".join(r.name for r in all_reports())
        raise UsageError(f"no report named {name!r}: use one of {names} (see `cyberlog report list`)")
    return _parse_header(path)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """`-p key=value` options to a dict."""
    given: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-p takes key=value, got {pair!r}")
        given[key.strip()] = value
    return given
