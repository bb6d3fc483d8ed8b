// event_study: abnormal attacks (observed minus the baseline's expected) against the 95% band
// chance alone gives them. group=day: one small chart per class, a bar per day of the window;
// group=class: a bar per class; group=event: one chart per class, a row per event.
(function () {
  const classes = picture.classes || [];
  if (!classes.length) return;
  const group = picture.group || "class";
  const has = v => v !== null && v !== undefined;
  const signed = v => has(v) ? (v > 0 ? "+" : "") + num(v, 2) : "?";
  const p = v => has(v) ? num(v, 4) : "?";
  // † on each underpowered bar, unless every bar is: then the chart's title says so once
  const allWeak = items => items.length > 0 && items.every(i => i.underpowered);
  let quiet = false;
  const flags = item => (item.significant ? "*" : "") + (item.underpowered && !quiet ? "†" : "");
  const plural = (n, word) => `${n ?? "?"} ${word}${n === 1 ? "" : "s"}`;
  const tickText = v => Math.abs(v) < 1e-12 ? "0" : signed(v);
  const barClass = item => "bar abnormal observed" + (item.significant ? " significant" : "") +
    (item.underpowered ? " underpowered" : "") + (item.provisional ? " provisional" : "");
  const extent = items => {
    const values = [0];
    for (const i of items) for (const v of [i.abnormal, i.band_low, i.band_high]) if (has(v)) values.push(v);
    let lo = Math.min(...values), hi = Math.max(...values);
    if (hi - lo < 1) { hi = Math.max(hi, lo + 1); }
    const pad = (hi - lo) * 0.08;
    return [lo - (lo < 0 ? pad : 0), hi + pad];
  };
  const yAxis = (svg, y, left, right, ticks) => {
    for (const v of y.ticks(ticks)) {
      svg.append(el("line", {class: "grid", x1: left, x2: right, y1: y(v), y2: y(v)}));
      svg.append(el("text", {class: "tick", x: left - 5, y: y(v) + 4, "text-anchor": "end"}, tickText(v)));
    }
  };
  // a row whose abnormal count is NULL (nothing to test): a hollow box on the zero line, so
  // it can still be hovered and clicked, never a bar of zero
  const unknown = (node, cx, cy) => {
    for (const [k, v] of Object.entries({x: cx - 5, y: cy - 5, width: 10, height: 10})) node.setAttribute(k, v);
    node.classList.add("unknown");
    return node;
  };
  const legendItems = [{label: "abnormal attacks (observed − expected)", cls: "observed"},
    {label: "significant (p_adjusted ≤ 0.05) *", cls: "significant"},
    {label: "95% band chance alone gives", cls: "band"},
    {label: "† cannot reach 0.05 whatever the data (note)", cls: "underpowered"}];

  if (group === "day") byDay(); else if (group === "event") byEvent(); else byClass();

  // one small chart per class: the window's days on x, abnormal with its band on y
  function byDay() {
    legend(legendItems);
    const all = classes.flatMap(c => c.items);
    const [lo, hi] = extent(all);
    const days = all.map(i => i.day).filter(has);
    const d0 = Math.min(...days), d1 = Math.max(...days);
    const W = 600, H = 270, LEFT = 52, RIGHT = W - 12, TOP = 40, BOTTOM = H - 44;
    const slot = (RIGHT - LEFT) / Math.max(d1 - d0 + 1, 1);
    const cx = d => LEFT + (d - d0 + 0.5) * slot;
    for (const c of classes) {
      const svg = chart(H, `abnormal attacks by day of the window: ${c.event_class}`, "small event-class");
      svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
      svg.dataset.class = c.event_class;
      const y = linear(lo, hi, BOTTOM, TOP);
      svg.append(el("text", {class: "title-label", x: 8, y: 17}, c.event_class));
      quiet = allWeak(c.items);
      svg.append(el("text", {class: "axis-label", x: 8, y: 32},
        `${plural(c.event_days, "event day")} tested, ${c.provisional_days ?? "?"} provisional` +
        (quiet ? " · † every day: cannot reach 0.05 whatever the data" : "")));
      yAxis(svg, y, LEFT, RIGHT, 5);
      svg.append(el("line", {class: "rule", x1: LEFT, x2: RIGHT, y1: y(0), y2: y(0)}));
      for (const i of c.items) {
        if (!has(i.day)) continue;
        svg.append(el("text", {class: "tick", x: cx(i.day), y: BOTTOM + 15, "text-anchor": "middle"},
          (i.day > 0 ? "+" : "") + i.day));
      }
      svg.append(el("text", {class: "axis-label", x: (LEFT + RIGHT) / 2, y: BOTTOM + 34, "text-anchor": "middle"},
        "day of the window (0: the event's day)"));
      if (!c.items.some(i => has(i.abnormal))) {
        svg.append(el("text", {class: "axis-label empty", x: (LEFT + RIGHT) / 2, y: (TOP + BOTTOM) / 2,
          "text-anchor": "middle"}, (c.items[0] && c.items[0].note) || "nothing to test"));
      }
      for (const i of c.items) {
        if (!has(i.day)) continue;
        const x = cx(i.day);
        if (has(i.band_low) && has(i.band_high)) {
          svg.append(el("rect", {class: "band", x: x - slot * 0.45, width: slot * 0.9, y: y(i.band_high),
            height: Math.max(y(i.band_low) - y(i.band_high), 1.5), "data-day": i.day}));
        }
        const v = i.abnormal ?? 0, w = slot * 0.55;
        const bar = el("rect", {class: barClass(i), x: x - w / 2, width: w, y: Math.min(y(v), y(0)),
          height: Math.max(Math.abs(y(v) - y(0)), has(i.abnormal) ? 1 : 0), "data-class": c.event_class,
          "data-day": i.day, "data-abnormal": i.abnormal ?? "", "data-attacks": i.attacks ?? ""});
        if (!has(i.abnormal)) unknown(bar, x, y(0));
        hover(bar, `<b>${esc(c.event_class)}, day ${(i.day > 0 ? "+" : "") + i.day}</b>: ` +
          `${num(i.attacks, 2)} attacks per event day, expected ${num(i.expected, 2)}` +
          `<br>abnormal ${signed(i.abnormal)}, band ${signed(i.band_low)} to ${signed(i.band_high)}` +
          `<br>p_adjusted ${p(i.p_adjusted)}${i.significant ? " <b>significant</b>" : ""}` +
          (i.note ? `<br>${esc(i.note)}` : ""), i.row);
        svg.append(bar);
        const f = flags(i);
        if (f) svg.append(el("text", {class: "flag", x, y: Math.min(y(Math.max(v, 0)), has(i.band_high) ?
          y(i.band_high) : BOTTOM) - 4, "text-anchor": "middle", "data-day": i.day}, f));
      }
      if (d0 <= 0 && d1 >= 0) {
        svg.append(el("line", {class: "zero", x1: cx(0) - slot / 2, x2: cx(0) - slot / 2, y1: TOP - 4, y2: BOTTOM}));
        svg.append(el("text", {class: "axis-label", x: cx(0) - slot / 2 + 4, y: TOP + 6}, "event →"));
      }
    }
  }

  // one bar per class: the mean abnormal post window per event day, in its band
  function byClass() {
    legend(legendItems);
    const items = classes.flatMap(c => c.items);
    const [lo, hi] = extent(items);
    const H = 380, LEFT = 70, RIGHT = 1180, TOP = 30, BOTTOM = H - 80;
    const svg = chart(H, "abnormal attacks in the post window, by event class", "event-classes");
    const y = linear(lo, hi, BOTTOM, TOP);
    const slot = (RIGHT - LEFT) / items.length, cx = k => LEFT + (k + 0.5) * slot;
    quiet = allWeak(items);
    svg.append(el("text", {class: "title-label", x: LEFT, y: 18},
      `post window (${plural(picture.post_days, "day")} from the event's day), per event day: observed − expected` +
      (quiet ? "  ·  † every class: cannot reach 0.05 whatever the data" : "")));
    yAxis(svg, y, LEFT, RIGHT, 8);
    svg.append(el("line", {class: "rule zero-abnormal", x1: LEFT, x2: RIGHT, y1: y(0), y2: y(0)}));
    svg.append(el("text", {class: "axis-label", x: 16, y: (TOP + BOTTOM) / 2, "text-anchor": "middle",
      transform: `rotate(-90 16 ${(TOP + BOTTOM) / 2})`}, "abnormal attacks"));
    items.forEach((i, k) => {
      const x = cx(k);
      svg.append(el("text", {class: "tick", x, y: BOTTOM + 16, "text-anchor": "middle"}, i.event_class));
      svg.append(el("text", {class: "axis-label", x, y: BOTTOM + 30, "text-anchor": "middle"},
        `${plural(i.event_days, "day")}, ${i.provisional_days ?? "?"} prov.`));
      if (has(i.band_low) && has(i.band_high)) {
        svg.append(el("rect", {class: "band", x: x - slot * 0.35, width: slot * 0.7, y: y(i.band_high),
          height: Math.max(y(i.band_low) - y(i.band_high), 1.5), "data-class": i.event_class}));
      }
      const v = i.abnormal ?? 0, w = Math.min(slot * 0.45, 60);
      const bar = el("rect", {class: barClass(i), x: x - w / 2, width: w, y: Math.min(y(v), y(0)),
        height: Math.max(Math.abs(y(v) - y(0)), has(i.abnormal) ? 1 : 0), "data-class": i.event_class,
        "data-abnormal": i.abnormal ?? ""});
      if (!has(i.abnormal)) unknown(bar, x, y(0));
      hover(bar, `<b>${esc(i.event_class)}</b>: ${i.event_days ?? "?"} event days (${i.provisional_days ?? "?"} provisional)` +
        `<br>pre ${num(i.pre, 2)} (expected ${num(i.expected_pre, 2)}), post ${num(i.post, 2)}` +
        ` (expected ${num(i.expected_post, 2)})<br>abnormal ${signed(i.abnormal)}, band ${signed(i.band_low)}` +
        ` to ${signed(i.band_high)}<br>p_adjusted ${p(i.p_adjusted)}${i.significant ? " <b>significant</b>" : ""}` +
        (i.note ? `<br>${esc(i.note)}` : ""), i.row);
      svg.append(bar);
      if (!has(i.abnormal)) {
        svg.append(el("text", {class: "axis-label", x, y: y(0) - 6, "text-anchor": "middle"}, "no test"));
      }
      const f = flags(i);
      if (f) svg.append(el("text", {class: "flag", x, y: Math.min(y(Math.max(v, 0)), has(i.band_high) ?
        y(i.band_high) : y(0)) - 4, "text-anchor": "middle", "data-class": i.event_class}, f));
    });
    svg.append(el("text", {class: "axis-label", x: (LEFT + RIGHT) / 2, y: BOTTOM + 56, "text-anchor": "middle"},
      "event class (-p group=day shows each day of the window, -p group=event each event)"));
  }

  // one chart per class, a row per event: abnormal post window against its placebo days
  function byEvent() {
    legend([{label: "abnormal attacks in the post window (post − expected_post)", cls: "observed"},
      {label: "significant (p_adjusted ≤ 0.05) *", cls: "significant"},
      {label: "provisional: window not all in the data", cls: "provisional"},
      {label: "† cannot reach 0.05 whatever the data (note)", cls: "underpowered"}]);
    const items = classes.flatMap(c => c.items);
    const [lo, hi] = extent(items);
    const ROW = 22, LEFT = 520, RIGHT = 1060, TOP = 30;
    const x = linear(lo, hi, LEFT, RIGHT);
    for (const c of classes) {
      const H = TOP + ROW * c.items.length + 40, BOTTOM = TOP + ROW * c.items.length;
      const svg = chart(H, `abnormal attacks after each ${c.event_class} event`, "event-rows");
      svg.dataset.class = c.event_class;
      quiet = false;
      svg.append(el("text", {class: "title-label", x: 8, y: 18}, `${c.event_class}: ${plural(c.items.length, "event")}`));
      for (const v of x.ticks(8)) {
        svg.append(el("line", {class: "grid", x1: x(v), x2: x(v), y1: TOP, y2: BOTTOM}));
        svg.append(el("text", {class: "tick", x: x(v), y: BOTTOM + 14, "text-anchor": "middle"}, tickText(v)));
      }
      svg.append(el("line", {class: "zero", x1: x(0), x2: x(0), y1: TOP - 4, y2: BOTTOM}));
      svg.append(el("text", {class: "axis-label", x: (LEFT + RIGHT) / 2, y: BOTTOM + 32, "text-anchor": "middle"},
        "abnormal attacks in the post window (observed − mean of the placebo days)"));
      c.items.forEach((i, k) => {
        const yc = TOP + ROW * k + ROW / 2;
        const title = String(i.event ?? "?");
        svg.append(el("text", {class: "lane", x: 8, y: yc + 4},
          `${i.event_day ?? "?"}  ${title.length > 62 ? title.slice(0, 61) + "…" : title}`));
        const v = i.abnormal ?? 0;
        const bar = el("rect", {class: barClass(i), x: Math.min(x(v), x(0)), y: yc - 6, height: 12,
          width: Math.max(Math.abs(x(v) - x(0)), has(i.abnormal) ? 1.5 : 0), "data-class": i.event_class,
          "data-event": i.event_id ?? "", "data-abnormal": i.abnormal ?? ""});
        if (!has(i.abnormal)) unknown(bar, x(0), yc);
        hover(bar, `<b>${esc(i.event)}</b><br>${esc(i.event_class)} · ${esc(i.event_day)} · ${esc(i.event_id)}` +
          `<br>pre ${num(i.pre, 2)} (expected ${num(i.expected_pre, 2)}), post ${num(i.post, 2)}` +
          ` (expected ${num(i.expected_post, 2)}), abnormal ${signed(i.abnormal)}` +
          `<br>${i.placebo_days ?? "?"} placebo days, p_adjusted ${p(i.p_adjusted)}` +
          (i.significant ? " <b>significant</b>" : "") + (i.provisional ? "<br>provisional" : "") +
          (i.note ? `<br>${esc(i.note)}` : "") + (i.url ? `<br>${esc(i.url)}` : ""), i.row);
        svg.append(bar);
        if (!has(i.abnormal)) svg.append(el("text", {class: "axis-label", x: x(0) + 9, y: yc + 4}, "?"));
        svg.append(el("text", {class: "pair-label", x: RIGHT + 8, y: yc + 4},
          `post ${has(i.post) ? num(i.post, 2) : "?"} vs ${has(i.expected_post) ? num(i.expected_post, 2) : "?"}` +
          ` expected ${flags(i)}`));
      });
    }
  }
})();
