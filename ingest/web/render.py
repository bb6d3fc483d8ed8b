"""HTML for the web app: one layout, tables of rows, paging. Every value from the store or
the request goes through `html.escape`; nothing is fetched from anywhere (no CDN, no fonts),
the style is inline."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from ingest.reports import export

PAGE_ROWS = 100  # rows of a table a page shows

NAV = (
    ("/", "reports"),
    ("/sql", "SQL"),
    ("/sources", "sources"),
    ("/runs", "runs"),
    ("/rejects", "rejects"),
    ("/clusters", "clusters"),
)

_STYLE = """body{font:14px system-ui,sans-serif;margin:1.2em 1.5em;color:#222}
nav a{margin-right:1em}h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.2em}
.sub{color:#666}.help{color:#777;font-size:12px}.error{background:#fde2e0;border-left:3px solid #c0392b;
padding:.4em .7em}.note{background:#fff6d6;border-left:3px solid #e0b000;padding:.3em .6em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}.rows{overflow-x:auto}
td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}
td{max-width:30em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}th{background:#f3f3f3}
form.params label{display:inline-block;min-width:11em;font-weight:600}form.params div{margin:.3em 0}
textarea{width:100%;font:13px monospace}.links a{margin-right:.8em}"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def href(path: str, query: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None) -> str:
    """A link: the path and its query, escaped for an attribute."""
    items = list(query.items()) if isinstance(query, Mapping) else list(query or [])
    encoded = urlencode([(k, "" if v is None else str(v)) for k, v in items])
    return esc(f"{path}?{encoded}" if encoded else path)


def layout(title: str, body: str) -> str:
    """A whole page: the title, the links to every part of the app, the body."""
    links = "".join(f'<a href="{esc(path)}">{esc(text)}</a>' for path, text in NAV)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>cyberlog: {esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<nav>{links}</nav><h1>{esc(title)}</h1>{body}</body></html>\n"
    )


def error_box(message: str) -> str:
    return f'<p class="error" role="alert">{esc(message)}</p>'


def cell(value: Any, link: str | None = None) -> str:
    text = esc(export.text(value))
    shown = f'<a href="{esc(link)}">{text}</a>' if link else text
    return f'<td title="{text}">{shown}</td>' if len(text) > 60 else f"<td>{shown}</td>"


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    links: Mapping[str, str] | None = None,
) -> str:
    """Rows as a table; `links`: column -> URL prefix its cells link to (the cell's value appended)."""
    if not columns:
        return '<p class="sub">no columns</p>'
    links = links or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            cell(v, links[c] + export.text(v) if c in links and v is not None else None)
            for c, v in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<div class="rows"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def page_number(text: str | None) -> int:
    """`?page=N`, 1 when absent or not a positive number."""
    try:
        return max(1, int(text or "1"))
    except ValueError:
        return 1


def paged(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    page: int,
    path: str,
    query: Sequence[tuple[str, str]],
    links: Mapping[str, str] | None = None,
) -> str:
    """One page of rows (PAGE_ROWS a page), "rows X-Y of N", and links to the pages beside."""
    total = len(rows)
    last = max(1, -(-total // PAGE_ROWS))
    page = min(page, last)
    first = (page - 1) * PAGE_ROWS
    shown = rows[first : first + PAGE_ROWS]
    kept = [(k, v) for k, v in query if k != "page"]
    said = f"rows {first + 1:,}\u2013{first + len(shown):,} of {total:,}" if total else "no rows"
    nav = []
    if page > 1:
        nav.append(f'<a rel="prev" href="{href(path, [*kept, ("page", page - 1)])}">previous page</a>')
    if page < last:
        nav.append(f'<a rel="next" href="{href(path, [*kept, ("page", page + 1)])}">next page</a>')
    pager = f'<p class="pager"><span class="count">{said}</span> {" ".join(nav)}</p>'
    return pager + table(columns, shown, links)


def downloads(path: str, query: Sequence[tuple[str, str]]) -> str:
    """Links to the rows as CSV, JSON and Parquet: `path.csv?query` and so on."""
    kept = [(k, v) for k, v in query if k != "page"]
    names = {"csv": "CSV", "json": "JSON", "parquet": "Parquet"}
    links = "".join(
        f'<a class="download" download href="{href(f"{path}.{fmt}", kept)}">{name}</a>' for fmt, name in names.items()
    )
    return f'<p class="links">download: {links}</p>'
