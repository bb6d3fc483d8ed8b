// lag_profile: the observed count at each lag as a bar, the baseline's expected count as a
// line in its chance band, significance (p_adjusted <= 0.05) starred, lags that cannot reach
// 0.05 flagged (†), lag 0 a dashed line, and the report's direction written above.
(function () {
  const lags = (picture.lags || []).filter(l => l.lag !== null && l.lag !== undefined);
  if (!lags.length) return;
  const unit = picture.bin === "hour" ? "hours" : "days";
  const H = 440, TOP = 58, BOTTOM = H - 56, LEFT = 74, RIGHT = 1180;
  const svg = chart(H, `observed attacks by lag from ${picture.event_class || ""} events, against the baseline`,
    "lag-profile");
  const lo = Math.min(...lags.map(l => l.lag)), hi = Math.max(...lags.map(l => l.lag));
  const slot = (RIGHT - LEFT) / (hi - lo + 1);
  const cx = lag => LEFT + (lag - lo + 0.5) * slot;
  const top = Math.max(1, ...lags.map(l => Math.max(l.observed ?? 0, l.high ?? 0, l.expected ?? 0)));
  const y = linear(0, top * 1.08, BOTTOM, TOP);
  const p = v => v === null || v === undefined ? "?" : num(v, 4);

  legend([{label: "observed attacks", cls: "observed"},
    {label: `significant (p_adjusted ≤ 0.05) *`, cls: "significant"},
    {label: "expected (mean of the baseline draws)", cls: "expected"},
    {label: "chance band: expected ± 1.96 sd of the draws", cls: "band"},
    {label: "† cannot reach 0.05 whatever the data (note)", cls: "underpowered"}]);

  // the direction: excess after the event minus excess before it, against the draws
  const dir = picture.direction;
  const dirText = `direction (excess after − excess before, attacks): ` +
    `${dir === null || dir === undefined ? "?" : (dir > 0 ? "+" : "") + num(dir, 2)}` +
    `  ·  direction_p ${p(picture.direction_p)}` +
    `  ·  ${picture.events ?? "?"} ${picture.event_class || ""} event${picture.events === 1 ? "" : "s"}` +
    `  ·  span ${picture.span_from ?? "?"} to ${picture.span_to ?? "?"}`;
  svg.append(el("text", {class: "title-label direction", x: LEFT, y: 22,
    "data-direction": dir ?? ""}, dirText));
  // † on each lag that cannot reach 0.05, unless every lag is: then this line says so once
  const quiet = lags.every(l => l.underpowered);
  svg.append(el("text", {class: "axis-label", x: LEFT, y: 40}, `null: ${picture.null_model || "?"}` +
    (quiet ? "  ·  † every lag: cannot reach 0.05 whatever the data (see note)" : "")));

  // y ticks and grid
  for (const v of y.ticks(6)) {
    if (v < 0 || !Number.isInteger(v)) continue;  // counts are whole numbers
    svg.append(el("line", {class: "grid", x1: LEFT, x2: RIGHT, y1: y(v), y2: y(v)}));
    svg.append(el("text", {class: "tick", x: LEFT - 6, y: y(v) + 4, "text-anchor": "end"}, num(v, 2)));
  }
  svg.append(el("text", {class: "axis-label", x: 16, y: (TOP + BOTTOM) / 2, "text-anchor": "middle",
    transform: `rotate(-90 16 ${(TOP + BOTTOM) / 2})`}, "attacks"));
  svg.append(el("line", {class: "rule", x1: LEFT, x2: RIGHT, y1: BOTTOM, y2: BOTTOM}));

  // x ticks: every lag when they fit, else round steps
  const every = slot >= 26 ? lags.map(l => l.lag) : linear(lo, hi, 0, 1).ticks(12).filter(v => v >= lo && v <= hi);
  for (const v of every) {
    svg.append(el("text", {class: "tick", x: cx(v), y: BOTTOM + 16, "text-anchor": "middle"},
      (v > 0 ? "+" : "") + v));
  }
  svg.append(el("text", {class: "axis-label", x: (LEFT + RIGHT) / 2, y: BOTTOM + 40, "text-anchor": "middle"},
    `lag in ${unit} from the event (negative: attacks before it, positive: after)`));

  const w = Math.max(slot * 0.62, 1), bw = Math.max(slot * 0.9, 1);
  for (const l of lags) {
    const x = cx(l.lag);
    if (l.low !== null && l.high !== null && l.low !== undefined && l.high !== undefined) {
      svg.append(el("rect", {class: "band", x: x - bw / 2, width: bw, y: y(l.high),
        height: Math.max(y(l.low) - y(l.high), 1), "data-lag": l.lag}));
    }
  }
  for (const l of lags) {
    const x = cx(l.lag), obs = l.observed ?? 0;
    const cls = "bar observed" + (l.significant ? " significant" : "") + (l.underpowered ? " underpowered" : "");
    const bar = el("rect", {class: cls, x: x - w / 2, width: w, y: y(obs), height: Math.max(BOTTOM - y(obs), 0),
      "data-lag": l.lag, "data-observed": l.observed ?? "", "data-expected": l.expected ?? "",
      "data-p-adjusted": l.p_adjusted ?? ""});
    const html = `<b>lag ${l.lag > 0 ? "+" : ""}${l.lag} ${unit}</b>: ${l.observed ?? "?"} attacks observed` +
      ` (${l.distinct_attacks ?? "?"} distinct)<br>expected ${num(l.expected, 2)} (sd ${num(l.sd, 2)}),` +
      ` band ${num(l.low, 2)} – ${num(l.high, 2)}` +
      `<br>ratio ${num(l.ratio, 2)} [${num(l.ratio_low, 2)}, ${num(l.ratio_high, 2)}]` +
      `<br>p ${p(l.p_value)}, p_adjusted ${p(l.p_adjusted)}${l.significant ? " <b>significant</b>" : ""}` +
      (l.note ? `<br>${esc(l.note)}` : "");
    hover(bar, html, l.row);
    svg.append(bar);
    if (l.expected !== null && l.expected !== undefined) {
      svg.append(el("line", {class: "expected", x1: x - bw / 2, x2: x + bw / 2, y1: y(l.expected),
        y2: y(l.expected), "stroke-width": 2, "data-lag": l.lag}));
    }
    const above = Math.min(y(obs), l.high !== null && l.high !== undefined ? y(l.high) : BOTTOM) - 5;
    let mark = "";
    if (l.significant) mark += "*";
    if (l.underpowered && !quiet) mark += "†";
    if (mark) {
      svg.append(el("text", {class: "flag" + (l.significant ? " star" : "") + (l.underpowered ? " dagger" : ""),
        x, y: above, "text-anchor": "middle", "data-lag": l.lag}, mark));
    }
  }
  if (lags.every(l => l.expected === null || l.expected === undefined)) {
    svg.append(el("text", {class: "axis-label empty", x: (LEFT + RIGHT) / 2, y: (TOP + BOTTOM) / 2,
      "text-anchor": "middle"}, `no baseline: no ${picture.event_class || ""} event in the span to compare with`));
  }
  if (lo <= 0 && hi >= 0) {
    svg.append(el("line", {class: "zero", x1: cx(0), x2: cx(0), y1: TOP - 4, y2: BOTTOM}));
    svg.append(el("text", {class: "axis-label", x: cx(0) + 4, y: TOP + 4}, "event"));
  }
})();
