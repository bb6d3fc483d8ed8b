// Incidents and events on one zoomable time axis: a lane per attack type and per event
// class, each time drawn as the interval it can lie in (a bar) with its mark at the middle,
// and, for incidents_near_events, each pair joined by a line labelled with its lag.
const ROW = 24, TOP = 8;
const lanes = picture.lanes, marks = picture.marks.map(m => {
  const t0 = Date.parse(m.t0), t1 = Date.parse(m.t1);
  return Object.assign(m, {t0, t1, t: (t0 + t1) / 2});
}).filter(m => !isNaN(m.t0));
const laneOf = new Map(lanes.map((l, i) => [l.key, i]));
const firstMark = new Map();  // an item's mark in its first lane: where its pairs start
for (const m of marks) if (!firstMark.has(m.id)) firstMark.set(m.id, m);
const height = TOP + ROW * Math.max(lanes.length, 1) + 30;
const svg = chart(height, "time line of the report's incidents and events", "timeline");
let lo = Math.min(...marks.map(m => m.t0)), hi = Math.max(...marks.map(m => m.t1));
if (!marks.length) { lo = Date.now() - DAY; hi = Date.now(); }
if (hi - lo < HOUR) { lo -= HOUR / 2; hi += HOUR / 2; }
const axis = timeAxis(svg, lo - (hi - lo) * 0.03, hi + (hi - lo) * 0.03, {redraw: draw});
legend([{label: "incident", cls: "incident"}, {label: "diplomatic event", cls: "event"},
  ...(picture.pairs.length ? [{label: "pair: lag in hours [bounds]", cls: "expected"}] : []),
  {label: "bar: the interval a time can lie in", cls: "band"}]);
const laneY = i => TOP + ROW * i + ROW / 2;
const hours = v => v === null || v === undefined ? "?" : (v > 0 ? "+" : "") + num(v, 1);
const details = m => `<b>${esc(m.title)}</b><br>${esc(m.kind)} · ${esc(m.category || "")} · ${esc(m.when)}` +
  ` (${esc(m.precision)})` + (m.countries ? ` · ${esc(m.countries)}` : "") +
  `<br>sources: ${esc(m.sources)}${m.records > 1 ? ` (${m.records} records)` : ""}` +
  (m.evidence ? `<br>evidence: ${esc(m.evidence)}` : "") + (m.url ? `<br>${esc(m.url)}` : "");

function draw() {
  svg.replaceChildren();
  const bottom = TOP + ROW * lanes.length;
  lanes.forEach((lane, i) => {
    svg.append(el("text", {class: "lane", x: 6, y: laneY(i) + 4}, `${lane.kind}: ${lane.label}`));
    svg.append(el("line", {class: "grid", x1: axis.left, x2: 1180, y1: laneY(i), y2: laneY(i)}));
  });
  axis.draw(TOP, bottom);
  const inView = m => !(m.t1 < axis.lo || m.t0 > axis.hi);
  const labels = new Map();  // one label per lag text and place: "+2 h [-10, +14] ×2" for pairs drawn on one spot
  for (const p of picture.pairs) {
    const a = firstMark.get(p.incident), b = firstMark.get(p.event);
    if (!a || !b || (!inView(a) && !inView(b))) continue;
    const ax = axis.x(a.t), ay = laneY(laneOf.get(a.lane)), bx = axis.x(b.t), by = laneY(laneOf.get(b.lane));
    const mid = (ay + by) / 2;
    const path = el("path", {class: "pair", d: `M${ax},${ay} C${ax},${mid} ${bx},${mid} ${bx},${by}`,
      "data-incident": p.incident, "data-event": p.event});
    hover(path, `<b>${hours(p.lag)} h</b> (bounds ${hours(p.lag_min)} to ${hours(p.lag_max)} h, ${esc(p.within)})` +
      `<br>${esc(a.title)}<br>and ${esc(b.title)}`, p.row);
    svg.append(path);
    // the lag beside the event's end of the line, where pairs of one incident fan out
    const text = `${hours(p.lag)} h [${hours(p.lag_min)}, ${hours(p.lag_max)}]`;
    const key = `${text}@${Math.round(bx)},${Math.round(by)}`;
    const same = labels.get(key);
    if (same) { same.n += 1; continue; }
    labels.set(key, {text, x: bx + 6, y: by, above: by > ay, n: 1});
  }
  // labels never overlap: one that would is moved a line further from its lane
  const placed = [];
  for (const label of labels.values()) {
    const shown = label.n > 1 ? `${label.text} ×${label.n}` : label.text;
    const width = shown.length * 5.6;
    let step = 0, y;
    do {
      y = label.y + (label.above ? -7 - 12 * step : 13 + 12 * step);
      step += 1;
    } while (step < 6 && placed.some(o => o.x < label.x + width && label.x < o.x + o.width && Math.abs(o.y - y) < 12));
    placed.push({x: label.x, y, width});
    svg.append(el("text", {class: "pair-label", x: label.x, y}, shown));
  }
  for (const m of marks) {
    if (!inView(m)) continue;
    const y = laneY(laneOf.get(m.lane));
    const x0 = axis.x(Math.max(m.t0, axis.lo)), x1 = axis.x(Math.min(m.t1, axis.hi));
    svg.append(el("rect", {class: "span " + m.kind, x: x0, y: y - 4, width: Math.max(x1 - x0, 2), height: 8,
      "data-id": m.id}));
    const c = el("circle", {class: "mark " + m.kind, cx: axis.x(m.t), cy: y,
      r: m.kind === "incident" ? 5 + Math.min(m.records || 1, 5) : 5, "data-id": m.id, "data-lane": m.lane});
    hover(c, details(m), m.rows);
    svg.append(c);
  }
}
draw();
