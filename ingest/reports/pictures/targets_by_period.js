// Attacks by target sector and period as a heat map: a row per sector, a column per period
// in time order (periods with no attack left empty, so gaps show), each cell coloured by
// the number of attacks it counts (each attack once, whatever its countries and attack
// types) with the number in it; hover lists the rows behind a cell, a click marks them.
function heatMap() {
  const LEFT = 150, RIGHT = 20, TOP = 34, ROW_H = 30;
  const sectors = picture.sectors, periods = picture.periods, cells = picture.cells;
  const most = Math.max(picture.max || 0, 1);
  const colW = Math.min(110, (1200 - LEFT - RIGHT) / Math.max(periods.length, 1));
  const gridBottom = TOP + ROW_H * Math.max(sectors.length, 1);
  const height = gridBottom + 92;
  const svg = chart(height, `attacks by target sector and ${picture.by}`, "heatmap");
  const colOf = new Map(periods.map((p, i) => [p.key, i]));
  const rowOf = new Map(sectors.map((s, i) => [s.key, i]));

  // light to dark: a few stops of one warm ramp, the count's share of the largest between them
  const STOPS = [[254, 232, 200], [253, 187, 132], [227, 74, 51], [127, 0, 0]];
  function colour(count) {
    const f = most <= 1 ? 1 : (count - 1) / (most - 1), at = f * (STOPS.length - 1);
    const i = Math.min(Math.floor(at), STOPS.length - 2), w = at - i;
    const c = STOPS[i].map((v, k) => Math.round(v + (STOPS[i + 1][k] - v) * w));
    return {fill: `rgb(${c.join(",")})`, dark: f > 0.45};
  }
  const plural = (n, word) => `${num(n, 0)} ${word}${n === 1 ? "" : "s"}`;

  // the sectors down the left, a faint background for every cell (empty ones stay so)
  sectors.forEach((s, i) => {
    svg.append(el("text", {class: "lane", x: LEFT - 8, y: TOP + ROW_H * i + ROW_H / 2 + 4, "text-anchor": "end"},
      s.label));
  });
  for (let i = 0; i < sectors.length; i++) for (let j = 0; j < periods.length; j++) {
    svg.append(el("rect", {class: "blank", x: LEFT + colW * j + 1, y: TOP + ROW_H * i + 1, width: colW - 2,
      height: ROW_H - 2}));
  }

  // the periods along the bottom, as many labels as fit, and the attacks in each above it
  const every = Math.max(1, Math.ceil(64 / colW));
  periods.forEach((p, j) => {
    const x = LEFT + colW * (j + 0.5);
    const spans = !/^\d/.test(p.key);  // "(spans periods)" is always named
    if (j % every === 0 || spans) {
      svg.append(el("text", {class: "tick period", x, y: gridBottom + 16, "text-anchor": "middle",
        "data-period": p.key}, p.key));
    }
    if (!p.empty && (j % every === 0 || spans)) {
      svg.append(el("text", {class: "axis-label", x, y: TOP - 8, "text-anchor": "middle"}, num(p.attacks, 0)));
    }
  });
  svg.append(el("text", {class: "axis-label", x: LEFT - 8, y: TOP - 8, "text-anchor": "end"},
    `attacks in the ${picture.by}:`));

  for (const c of cells) {
    const i = rowOf.get(c.sector), j = colOf.get(c.period);
    if (i === undefined || j === undefined) continue;
    const x = LEFT + colW * j, y = TOP + ROW_H * i, {fill, dark} = colour(c.count);
    const sector = c.sector ?? "(no sector)";
    const rect = el("rect", {class: "cell", x: x + 1, y: y + 1, width: colW - 2, height: ROW_H - 2, fill,
      "data-sector": c.sector ?? "", "data-period": c.period, "data-count": c.count});
    const byCountry = new Map();
    for (const p of c.parts) {
      const k = p.country ?? "country not stated";
      byCountry.set(k, (byCountry.get(k) || []).concat(`${num(p.attacks, 0)} ${p.type ?? "attack type not stated"}`));
    }
    hover(rect, `<b>${esc(sector)} · ${esc(c.period)}</b><br>${plural(c.count, "attack")}` +
      [...byCountry].map(([k, v]) => `<br>${esc(k)}: ${esc(v.join(", "))}`).join("") +
      `<br><small>${esc(c.clusters.join(", "))}</small>`, c.rows);
    svg.append(rect);
    if (colW >= 7 * String(c.count).length + 4) {  // the number where it fits
      const label = el("text", {class: "count" + (dark ? " dark" : ""), x: x + colW / 2, y: y + ROW_H / 2 + 4,
        "text-anchor": "middle"}, num(c.count, 0));
      svg.append(label);
    }
  }

  // the colour scale: a swatch per count (a few evenly spaced ones when there are many)
  const steps = most <= 8 ? Array.from({length: most}, (_, k) => k + 1)
    : [...new Set([0, 0.2, 0.4, 0.6, 0.8, 1].map(f => Math.round(1 + f * (most - 1))))];
  const ly = gridBottom + 46;
  svg.append(el("text", {class: "axis-label", x: LEFT - 8, y: ly + 13, "text-anchor": "end"}, "attacks in a cell:"));
  steps.forEach((v, k) => {
    const x = LEFT + k * 44;
    svg.append(el("rect", {class: "scale", x, y: ly, width: 40, height: 18, fill: colour(v).fill,
      "data-count": v}));
    svg.append(el("text", {class: "count" + (colour(v).dark ? " dark" : ""), x: x + 20, y: ly + 13,
      "text-anchor": "middle"}, num(v, 0)));
  });
  svg.append(el("text", {class: "axis-label", x: LEFT + steps.length * 44 + 8, y: ly + 13},
    "each attack counted once per sector and period; hover a cell for its countries and attack types"));
}
if (picture.cells.length) heatMap();  // no rows: the page's note says so
