"""A report as one self-contained HTML page: incidents and diplomatic events on one zoomable
time axis, each mark's details and sources on hover or click, the report's numbers beside.

No network, no CDN: the data is JSON inside the page (with `</` escaped, so no text in
the store can end the script), drawn by a few dozen lines of plain JavaScript into SVG.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import duckdb

from ingest.reports import export, results

if TYPE_CHECKING:
    from ingest.reports.catalog import Report

# The marks: clusters and events from v_timeline that may fall in the report's range.
MARKS_SQL = """
SELECT kind, id, source, happened_at, happened_latest,
       time_text(happened_at, happened_latest, time_precision) AS happened,
       time_precision, title, category, countries, url, records
FROM v_timeline
WHERE ($since IS NULL OR happened_latest > $since::DATE) AND ($until IS NULL OR happened_at < $until::DATE + 1)
ORDER BY happened_at, kind, id
LIMIT 20000
"""


def emit_page(con: duckdb.DuckDBPyConnection, report: Report, params: dict[str, Any], out: Path | None) -> None:
    """The report as one page (on stdout, or a file that appears once complete): its rows
    beside the incidents and events of its time range."""
    columns, found = results.report_rows(con, report, params)
    try:
        marked = con.execute(MARKS_SQL, {"since": params.get("since"), "until": params.get("until")})
        names = [d[0] for d in marked.description or []]
        marks = [dict(zip(names, row, strict=True)) for row in marked.fetchall()]
    except duckdb.Error as exc:
        raise results.query_error(exc) from None
    with results.destination(out, "html") as stream:
        write_page(stream, report.title, report.description, params, columns, found, marks)


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
    marks: list[dict[str, Any]],
) -> None:
    """The page: a heading, the time axis with the marks, and the report's table."""
    shown = ", ".join(f"{k}={export.text(v)}" for k, v in params.items() if v is not None) or "defaults"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(export.text(v))}</td>" for v in row) + "</tr>" for row in rows[:5000]
    )
    more = f"<p>{len(rows) - 5000:,} more rows: use --format csv.</p>" if len(rows) > 5000 else ""
    out.write(
        _PAGE.replace("%TITLE%", html.escape(title))
        .replace("%DESCRIPTION%", html.escape(description))
        .replace("%PARAMS%", html.escape(shown))
        .replace("%HEAD%", head)
        .replace("%BODY%", body + "")
        .replace("%MORE%", more)
        .replace("%MARKS%", _json(marks))
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>cyberlog: %TITLE%</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.sub{color:#666;margin:0 0 1em}
#axis{width:100%;height:auto;border:1px solid #ccc;background:#fcfcfc;cursor:grab}
.lane{font-size:11px;fill:#555}
.mark{stroke:#fff;stroke-width:1}
.mark.incident{fill:#c0392b}.mark.event{fill:#2c6fbb}
.span{stroke-width:4;stroke-linecap:round;opacity:.35}.span.incident{stroke:#c0392b}.span.event{stroke:#2c6fbb}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #999;padding:.4em .6em;max-width:28em;
display:none;box-shadow:0 2px 6px #0003;font-size:12px}
#pinned{margin:.6em 0;min-height:1.5em}
table{border-collapse:collapse;margin-top:1em;font-size:12px}
td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
</style></head><body>
<h1>%TITLE%</h1>
<p class="sub">%DESCRIPTION%<br>params: %PARAMS% · wheel to zoom, drag to pan, click a mark to pin it</p>
<svg id="axis" viewBox="0 0 1200 420" role="img" aria-label="time line of incidents and events"></svg>
<div id="pinned"></div>
<div id="tip"></div>
<table><thead><tr>%HEAD%</tr></thead><tbody>%BODY%</tbody></table>%MORE%
<script id="marks" type="application/json">%MARKS%</script>
<script>
"use strict";
const marks = JSON.parse(document.getElementById("marks").textContent)
  .map(m => Object.assign(m, {t0: Date.parse(m.happened_at), t1: Date.parse(m.happened_latest)}))
  .filter(m => !isNaN(m.t0)).map(m => Object.assign(m, {t1: isNaN(m.t1) ? m.t0 : m.t1,
    t: isNaN(m.t1) ? m.t0 : (m.t0 + m.t1) / 2}));
const svg = document.getElementById("axis"), tip = document.getElementById("tip");
const NS = "http://www.w3.org/2000/svg", W = 1200, LEFT = 170, RIGHT = 20, TOP = 10, ROW = 22;
const lanes = [...new Set(marks.map(m => m.kind + ": " + (m.category || "other")))].sort();
svg.setAttribute("viewBox", `0 0 ${W} ${TOP + ROW * Math.max(lanes.length, 1) + 40}`);
let lo = Math.min(...marks.map(m => m.t0)), hi = Math.max(...marks.map(m => m.t1));
if (!marks.length) { lo = Date.now() - 864e5; hi = Date.now(); }
if (hi - lo < 36e5) { lo -= 18e5; hi += 18e5; }
const pad = (hi - lo) * 0.03; lo -= pad; hi += pad;
const x = t => LEFT + (t - lo) / (hi - lo) * (W - LEFT - RIGHT);
const el = (name, attrs, text) => { const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text) e.textContent = text; return e; };
const details = m => `<b>${esc(m.title)}</b><br>${esc(m.kind)} · ${esc(m.category || "")} · ${esc(m.happened)}` +
  ` (${esc(m.time_precision)})<br>sources: ${esc(m.source)}${m.records > 1 ? ` (${m.records} records)` : ""}` +
  (m.url ? `<br>${esc(m.url)}` : "");
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
function draw() {
  svg.replaceChildren();
  lanes.forEach((lane, i) => {
    svg.append(el("text", {class: "lane", x: 4, y: TOP + ROW * i + 15}, lane));
    svg.append(el("line", {x1: LEFT, x2: W - RIGHT, y1: TOP + ROW * i + 11, y2: TOP + ROW * i + 11, stroke: "#eee"}));
  });
  const base = TOP + ROW * lanes.length + 5;
  for (let k = 0; k <= 6; k++) {
    const t = lo + (hi - lo) * k / 6, at = x(t);
    svg.append(el("line", {x1: at, x2: at, y1: TOP, y2: base, stroke: "#ddd"}));
    const label = new Date(t).toISOString().slice(0, 16).replace("T", " ");
    svg.append(el("text", {class: "lane", x: at - 40, y: base + 16}, label));
  }
  for (const m of marks) {
    if (m.t1 < lo || m.t0 > hi) continue;
    const cy = TOP + ROW * lanes.indexOf(m.kind + ": " + (m.category || "other")) + 11;
    // the interval the time can lie in, as a bar; the mark at its middle, where lags are measured
    svg.append(el("line", {class: "span " + m.kind, x1: x(Math.max(m.t0, lo)), x2: x(Math.min(m.t1, hi)),
      y1: cy, y2: cy}));
    const c = el("circle", {class: "mark " + m.kind, cx: x(m.t), cy,
      r: m.kind === "incident" ? 6 + Math.min(m.records, 6) : 5});
    c.addEventListener("mousemove", e => { tip.innerHTML = details(m); tip.style.display = "block";
      tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px"; });
    c.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    c.addEventListener("click", () => { document.getElementById("pinned").innerHTML = details(m); });
    svg.append(c);
  }
  svg.dataset.lo = new Date(lo).toISOString(); svg.dataset.hi = new Date(hi).toISOString();
}
svg.addEventListener("wheel", e => { e.preventDefault();
  const box = svg.getBoundingClientRect(), f = e.deltaY < 0 ? 0.8 : 1.25;
  const at = lo + ((e.clientX - box.left) / box.width * W - LEFT) / (W - LEFT - RIGHT) * (hi - lo);
  lo = at - (at - lo) * f; hi = at + (hi - at) * f; draw(); }, {passive: false});
let drag = null;
svg.addEventListener("mousedown", e => { drag = {x: e.clientX, lo, hi}; });
window.addEventListener("mouseup", () => { drag = null; });
window.addEventListener("mousemove", e => { if (!drag) return;
  const box = svg.getBoundingClientRect();
  const dt = (e.clientX - drag.x) / box.width * W / (W - LEFT - RIGHT) * (drag.hi - drag.lo);
  lo = drag.lo - dt; hi = drag.hi - dt; draw(); });
draw();
</script></body></html>
"""
