"""A report's params as an HTML form, and the request's query as the `-p` pairs they bind.

Each param's input follows its type: a date picker for DATE, a number for INTEGER and
DOUBLE, a select for params that take a fixed set of values (their own choices or a
vocabulary's), a checkbox for BOOLEAN, text otherwise. Defaults are filled in; the form is
sent by GET, so a result has an address to keep or share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ingest.canon.records import VOCABULARIES
from ingest.reports import catalog, export
from ingest.web.render import esc

if TYPE_CHECKING:
    from ingest.reports.catalog import Param, Report

NOT_PARAMS = frozenset({"page", "token"})  # the query's words that are the app's, not the report's


def given(query: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The report's params in a query, as `-p key=value` would give them: a repeated key's last
    value (a checkbox sends its hidden "false" and then, when ticked, "true")."""
    return {key: value for key, value in query if key not in NOT_PARAMS}


def choices(param: Param) -> tuple[str, ...]:
    """The values a param takes when they are a fixed set: its own, or its vocabulary's."""
    vocabulary = catalog.TYPES[param.type].vocabulary
    return param.choices or (tuple(VOCABULARIES[vocabulary]) if vocabulary else ())


def _value(param: Param, given: dict[str, str]) -> str:
    if param.name in given:
        return given[param.name]
    return "" if param.default is None else export.text(param.default)


def field(param: Param, given: dict[str, str]) -> str:
    """One param's label, input and help."""
    name, value, ident = esc(param.name), _value(param, given), f"p-{esc(param.name)}"
    common = f'id="{ident}" name="{name}"'
    options = choices(param)
    if param.type == "BOOLEAN":
        ticked = " checked" if value.strip().lower() in ("true", "1", "yes", "on") else ""
        control = (
            f'<input type="hidden" name="{name}" value="false"><input type="checkbox" {common} value="true"{ticked}>'
        )
    elif options:
        blank = "" if param.default is not None else f'<option value=""{"" if value else " selected"}>(any)</option>'
        listed = "".join(
            f'<option value="{esc(o)}"{" selected" if o == value.lower() else ""}>{esc(o)}</option>' for o in options
        )
        control = f"<select {common}>{blank}{listed}</select>"
    elif param.type == "DATE":
        control = f'<input type="date" {common} value="{esc(value)}">'
    elif param.type in ("INTEGER", "DOUBLE"):
        step = "1" if param.type == "INTEGER" else "any"
        control = f'<input type="number" step="{step}" {common} value="{esc(value)}">'
    else:
        control = f'<input type="text" {common} value="{esc(value)}">'
    shown = f"{param.type}, default {param.default_text}"
    return (
        f'<div class="param"><label for="{ident}">{name}</label> {control} '
        f'<span class="help">{esc(param.help)} ({esc(shown)})</span></div>'
    )


def form(report: Report, given: dict[str, str]) -> str:
    """The report's form: one field per param, sent by GET to the report's own page."""
    fields = "".join(field(p, given) for p in report.params) or '<p class="sub">this report takes no params</p>'
    return (
        f'<form class="params" method="get" action="/reports/{esc(report.name)}">{fields}'
        f'<div><button type="submit">run</button> <a href="/reports/{esc(report.name)}">defaults</a></div></form>'
    )
