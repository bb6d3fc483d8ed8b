// attribution_lag: each row (an attack and a party that attributed it) as a mark at its lag in
// days, its interval (lag_min_days .. lag_max_days) behind it, in a lane per attributing party
// with the report's party medians drawn across the lane. The axis is log-like (0, a day, a
// week, a month, a year apart evenly enough) so same-day and years-later attributions both show.
(function () {
  const marks = picture.marks || [];
  const lanes = picture.lanes || [];
  if (!marks.length) return;
  const has = v => v !== null && v !== undefined;
  const days = v => has(v) ? num(v, 1) : "?";
  const ROW = 18, HEAD = 22, TOP = 12, LEFT = 400, RIGHT = 1180;
  const f = d => Math.sign(d) * Math.log10(1 + Math.abs(d));
  const values = marks.flatMap(m => [m.lag, m.min, m.max]).filter(has);
  let lo = Math.min(0, ...values), hi = Math.max(1, ...values);
  const scale = linear(f(lo) - 0.05, f(hi) + 0.08, LEFT, RIGHT);
  const x = d => scale(f(d));
  const byRow = new Map(marks.map(m => [m.row, m]));
  const rowsOf = lane => lane.rows.map(r => byRow.get(r)).filter(Boolean);
  const height = TOP + lanes.reduce((s, l) => s + HEAD + ROW * rowsOf(l).length, 0) + 50;
  const svg = chart(height, "days from each attack to its attribution, by attributing party", "attribution-lag");
  legend([{label: "lag (midpoints), dated on", cls: "observed"},
    {label: "interval: lag_min .. lag_max", cls: "band"},
    ...(marks.some(m => m.dated === "by") ? [{label: "◀ dated by: attributed no later than", cls: "by"}] : []),
    ...(marks.some(m => m.basis === "attribution event") ? [{label: "from an attribution event", cls: "from-event"}] : []),
    {label: "party median (per actor and basis)", cls: "expected"},
    ...(marks.some(m => m.impossible) ?
      [{label: "before the attack began: left out of the party figures", cls: "impossible"}] : [])]);

  const TICKS = [[-3650, "−10 y"], [-365, "−1 y"], [-30, "−30 d"], [-7, "−1 wk"], [-1, "−1 d"], [0, "0"],
    [1, "1 d"], [7, "1 wk"], [30, "30 d"], [90, "90 d"], [365, "1 y"], [730, "2 y"], [1826, "5 y"], [3652, "10 y"],
    [7305, "20 y"]];
  const bottom = height - 50;
  for (const [d, label] of TICKS) {
    if (d < lo - 1e-9 || d > hi * 1.3 + 1) continue;
    svg.append(el("line", {class: d === 0 ? "zero" : "grid", x1: x(d), x2: x(d), y1: TOP, y2: bottom}));
    svg.append(el("text", {class: "tick", x: x(d), y: bottom + 15, "text-anchor": "middle"}, label));
  }
  svg.append(el("text", {class: "axis-label", x: (LEFT + RIGHT) / 2, y: bottom + 36, "text-anchor": "middle"},
    "days from the attack's start to the attribution (log scale; 0: the same time)"));

  let top = TOP;
  for (const lane of lanes) {
    const rows = rowsOf(lane);
    const laneTop = top, laneBottom = top + HEAD + ROW * rows.length;
    const box = el("g", {class: "party", "data-party": lane.party});
    svg.append(box);
    box.append(el("line", {class: "rule", x1: 4, x2: RIGHT, y1: laneTop, y2: laneTop}));
    const medians = lane.medians || [];
    const summary = medians.map(m => `${m.actor}${m.basis === "attribution event" ? " (event)" : ""}: median ` +
      `${days(m.median)} d, n=${m.attacks}`).join("; ");
    const header = String(lane.party ?? "(not named)") + (summary ? "  —  " + summary : "");
    box.append(el("text", {class: "title-label", x: 8, y: laneTop + 15},
      header.length > 150 ? header.slice(0, 149) + "…" : header));
    // each median across the rows of its actor and basis (the report's party figures are per both)
    for (const m of medians) {
      if (!has(m.median)) continue;
      rows.forEach((r, k) => {
        if (r.actor !== m.actor || r.basis !== m.basis) return;
        const y = laneTop + HEAD + ROW * k;
        const line = el("line", {class: "expected median", x1: x(m.median), x2: x(m.median), y1: y, y2: y + ROW,
          "stroke-width": 2, "data-median": m.median, "data-actor": m.actor});
        hover(line, `<b>${esc(lane.party)}</b>: ${esc(m.actor)} (${esc(m.basis)})<br>median ${days(m.median)} days` +
          ` over ${m.attacks} attacks dated on, range ${days(m.min)} to ${days(m.max)}`, lane.rows);
        box.append(line);
      });
    }
    rows.forEach((m, k) => {
      const y = laneTop + HEAD + ROW * k + ROW / 2;
      const title = `${m.actor ?? "?"} · ${m.title ?? m.cluster_id}`;
      box.append(el("text", {class: "lane", x: 18, y: y + 4}, title.length > 64 ? title.slice(0, 63) + "…" : title));
      const kind = (m.impossible ? " impossible" : "") + (m.dated === "by" ? " by" : "") +
        (m.basis === "attribution event" ? " from-event" : "");
      if (has(m.max)) {
        const from = has(m.min) ? m.min : Math.min(0, m.max);
        box.append(el("rect", {class: "interval band" + (has(m.min) ? "" : " open") + kind, x: x(from), y: y - 4,
          width: Math.max(x(m.max) - x(from), 2), height: 8, "data-row-interval": m.row}));
      }
      const at = has(m.lag) ? m.lag : m.max;
      if (!has(at)) {
        box.append(el("text", {class: "axis-label", x: LEFT + 4, y: y + 4}, "lag ?"));
      }
      const html = `<b>${esc(m.title)}</b><br>${esc(m.actor)} (${esc(m.role)}) by ${esc(m.party)}` +
        `<br>attack ${esc(m.attack_at)}, attributed ${esc(m.dated)} ${esc(m.attributed_at)} (${esc(m.basis)})` +
        `<br>lag ${days(m.lag)} days [${days(m.min)}, ${days(m.max)}]` + (m.note ? `<br>${esc(m.note)}` : "");
      const attrs = {"data-days": m.lag ?? "", "data-min": m.min ?? "", "data-max": m.max ?? "",
        "data-party": m.party, "data-cluster": m.cluster_id, "data-dated": m.dated};
      let node;
      if (has(m.lag) || !has(at)) {
        node = el("circle", {class: "mark" + kind + (has(at) ? "" : " unknown"), cx: has(at) ? x(at) : LEFT,
          cy: y, r: has(at) ? 5 : 3, ...attrs});
      } else {  // dated by: a left-pointing triangle at the latest it can be
        const px = x(at);
        node = el("path", {class: "mark" + kind, d: `M${px},${y - 6} L${px},${y + 6} L${px - 9},${y} Z`, ...attrs});
      }
      hover(node, html, m.row);
      box.append(node);
      const end = has(at) ? x(Math.max(at, m.max ?? at)) : LEFT, start = has(at) ? x(Math.min(at, m.min ?? at)) : LEFT;
      const right = end + 60 < 1195;  // the label beside the mark, on whichever side has room
      box.append(el("text", {class: "pair-label", x: right ? end + 9 : start - 12, y: y + 4,
        "text-anchor": right ? "start" : "end"}, has(m.lag) ? `${days(m.lag)} d` : `≤ ${days(m.max)} d`));
    });
    top = laneBottom;
  }
})();
