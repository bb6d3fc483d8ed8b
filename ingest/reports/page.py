"""A report as one self-contained HTML page: the report's own result drawn (see
`ingest.reports.pictures`), each mark's details on hover or click, the report's rows beside.

No network, no CDN: the picture's data is JSON inside the page (with `</` escaped, so no
text in the store can end the script), drawn into SVG by the plain JavaScript of
`ingest/reports/pictures/*.js`, inlined. The page's Content-Security-Policy allows nothing
to be fetched.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import duckdb

from ingest.reports import export, results
from ingest.reports.pictures import Drawing, Picture, picture, script, style

if TYPE_CHECKING:
    from ingest.reports.catalog import Report

TABLE_ROWS = 5000  # rows of the report the page's table holds
ZOOMS = frozenset({"timeline", "attack_bursts"})  # the pictures on a time axis the wheel zooms


def emit_page(con: duckdb.DuckDBPyConnection, report: Report, params: dict[str, Any], out: Path | None) -> None:
    """The report as one page (on stdout, or a file that appears once complete)."""
    with results.destination(out, "html") as stream:
        render(con, report, params, stream)


def render(con: duckdb.DuckDBPyConnection, report: Report, params: dict[str, Any], stream: TextIO) -> None:
    """The report's page written to `stream`: its rows, and its picture drawn from them."""
    columns, found = results.report_rows(con, report, params)
    try:
        drawn = picture(Drawing(con, report.name, columns, found, params))
    except duckdb.Error as exc:
        raise results.query_error(exc) from None
    write_page(stream, report.title, report.description, params, columns, found, drawn)


def _cell(text: str) -> str:
    """A table cell on one line; a long text cut by the page's style, whole on hover."""
    escaped = html.escape(text)
    return f'<td title="{escaped}">{escaped}</td>' if len(text) > 60 else f"<td>{escaped}</td>"


def _json(value: Any) -> str:
    text = json.dumps(value, default=export.json_default, ensure_ascii=False)
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def write_page(
    out: TextIO,
    title: str,
    description: str,
    params: dict[str, Any],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    drawn: Picture | None,
) -> None:
    """The page: a heading, the picture, and the report's table."""
    shown = ", ".join(f"{k}={export.text(v)}" for k, v in params.items() if v is not None) or "defaults"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        f'<tr id="row-{i}">' + "".join(_cell(export.text(v)) for v in row) + "</tr>"
        for i, row in enumerate(rows[:TABLE_ROWS])
    )
    more = len(rows) - TABLE_ROWS
    rest = f"<p>{more:,} more {'row' if more == 1 else 'rows'}: --format csv gives every row.</p>" if more > 0 else ""
    if drawn is None:
        notes, board, code = ["this report draws no picture: its rows are below"], "", ""
        data: dict[str, Any] = {}
    else:
        notes, data, code = drawn.notes, {"kind": drawn.kind, **drawn.data}, script(drawn.kind)
        board = (
            f'<div id="picture" class="{html.escape(drawn.kind)}"></div>'
            f'<p class="hint">{"wheel to zoom, drag to pan, " if drawn.kind in ZOOMS else ""}'
            "hover a mark for its values, click it to pin them and mark its rows</p>"
        )
    parts = {
        "TITLE": html.escape(title),
        "DESCRIPTION": html.escape(description),
        "PARAMS": html.escape(shown),
        "NOTES": "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes),
        "BOARD": board,
        "HEAD": head,
        "BODY": body,
        "MORE": rest,
        "DATA": _json(data),
        "STYLE": style(drawn.kind) if drawn else "",
        "SCRIPT": code.replace("</script", "<\\/script"),
    }
    # one pass: a stored text that reads "%DATA%" stays text
    out.write(re.sub(r"%([A-Z]+)%", lambda m: parts[m[1]], _PAGE))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>cyberlog: %TITLE%</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.sub{color:#666;margin:0 0 .6em}.hint{color:#888;font-size:12px;margin:.2em 0}
.note{background:#fff6d6;border-left:3px solid #e0b000;padding:.3em .6em;margin:.3em 0}
#picture{display:flex;flex-wrap:wrap;gap:8px}
svg.chart{width:100%;height:auto;border:1px solid #ccc;background:#fcfcfc;cursor:grab;user-select:none}
svg.chart.small{width:calc(50% - 6px)}
.lane,.tick,.axis-label{font-size:11px;fill:#555}.title-label{font-size:13px;fill:#222;font-weight:600}
.grid{stroke:#e6e6e6}.zero{stroke:#555;stroke-dasharray:4 3}.rule{stroke:#999}
.legend{display:flex;flex-wrap:wrap;gap:1em;font-size:12px;margin:.3em 0}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border-radius:2px}
.incident{fill:#c0392b;stroke:#c0392b;background:#c0392b}.event{fill:#2c6fbb;stroke:#2c6fbb;background:#2c6fbb}
.observed{fill:#c0392b;background:#c0392b}.expected{stroke:#222;background:#222}
.band{fill:#9bb7d4;opacity:.45;background:#9bb7d4}.significant{fill:#8e1b10;background:#8e1b10}
.mark{stroke-width:1}.span{stroke-width:6;stroke-linecap:butt;opacity:.35}
.pair{stroke:#777;stroke-width:1;fill:none}.pair-label{font-size:10px;fill:#555}
.cell{stroke:#fff}.rate{fill:none;stroke:#c0392b;stroke-width:1.5}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #999;padding:.4em .6em;max-width:28em;
display:none;box-shadow:0 2px 6px #0003;font-size:12px;z-index:2}
#pinned{margin:.6em 0;min-height:1.5em}
table{border-collapse:collapse;margin-top:1em;font-size:12px}
td{max-width:30em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.rows{overflow-x:auto}
td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.picked td{background:#fff2b3}
%STYLE%</style></head><body>
<h1>%TITLE%</h1>
<p class="sub">%DESCRIPTION%<br>params: %PARAMS%</p>
%NOTES%%BOARD%
<div id="pinned"></div>
<div id="tip"></div>
<div class="rows"><table><thead><tr>%HEAD%</tr></thead><tbody>%BODY%</tbody></table></div>%MORE%
<script id="picture-data" type="application/json">%DATA%</script>
<script>
%SCRIPT%
</script></body></html>
"""
