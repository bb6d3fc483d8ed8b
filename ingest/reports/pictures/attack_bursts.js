// Each burst of alerts, one chart per row of the report: the alerts per minute on a
// zoomable UTC time axis (as the rule counted them: alerts, or the events CEF alerts stand
// for), the minutes that reached the rule's threshold darker, the derived incident from its
// first to its last alert as a shaded band, and the interval the earliest most precise
// report puts the attack's start in as a strip along the top.
const LEFT = 70, RIGHT = 20, TOP = 62, PLOT = 130, H = TOP + PLOT + 40;
const ms = v => v === null || v === undefined ? NaN : Date.parse(v);
const clock = t => new Date(t).toISOString().slice(11, 16);
const stamp = t => new Date(t).toISOString().slice(0, 16).replace("T", " ");
const UNIT = {second: 1e3, minute: MINUTE, hour: HOUR, day: DAY};
function until(t, precision) {  // the end of the interval a start of this precision can lie in
  const d = new Date(t);
  if (precision === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  if (precision === "year") return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
  return t + (UNIT[precision] || 0);
}
function when(t, precision) {  // a reported start as its precision writes it
  if (isNaN(t)) return "?";
  const iso = new Date(t).toISOString();
  if (precision === "year") return iso.slice(0, 4);
  if (precision === "month") return iso.slice(0, 7);
  if (precision === "day") return iso.slice(0, 10);
  if (precision === "hour") return `${stamp(t)}–${clock(t + HOUR)} UTC`;
  if (precision === "minute") return `${stamp(t)} UTC`;
  return `${iso.slice(0, 19).replace("T", " ")} UTC`;
}
const signed = v => v === null || v === undefined ? "?" : (v > 0 ? "+" : "") + num(v, 0);

const bursts = picture.bursts.map(b => Object.assign(b, {
  t0: ms(b.first), t1: ms(b.last), lo: ms(b.lo), hi: ms(b.hi), rs: ms(b.reported_start),
  series: b.minutes.map(m => ({t: ms(m.t), n: m.n, alerts: m.alerts})),
})).filter(b => !isNaN(b.t0));
if (bursts.length) {
  legend([{label: "alerts per minute", cls: "minute hot"}, {label: "below the rule's threshold", cls: "minute"},
    {label: "derived incident: first to last alert", cls: "band"},
    {label: "reported start: the interval its precision allows", cls: "reported"},
    {label: "threshold per minute", cls: "threshold"}]);
}

for (const b of bursts) {
  const svg = chart(H, `alerts per minute of the burst on ${b.target}`, "bursts");
  svg.dataset.incident = b.incident;
  let lo = isNaN(b.lo) ? b.t0 - 10 * MINUTE : b.lo, hi = isNaN(b.hi) ? b.t1 + 10 * MINUTE : b.hi;
  const axis = timeAxis(svg, lo, hi, {left: LEFT, right: RIGHT, redraw: draw, ticks: 12});
  const top = Math.max(b.peak || 0, b.threshold || 0, ...b.series.map(m => m.n), 1) * 1.1;
  const y = linear(0, top, TOP + PLOT, TOP);
  const what = b.counts === "events" ? "events" : "alerts";
  const details = `<b>${esc(b.target)}</b> · ${esc(b.category)}<br>${num(b.alerts, 0)} alerts from ` +
    `${esc(stamp(b.t0))} to ${esc(clock(b.t1))} UTC (${num(b.minutes_long, 1)} min), peak ${num(b.peak, 0)} ` +
    `${what}/min at ${esc(clock(ms(b.peak_minute)))}<br>logged by ${esc((b.logged_by || "").replaceAll(";", ", "))}` +
    (b.top_sources ? `<br>top sources ${esc(b.top_sources.replaceAll(";", ", "))}` : "") +
    (b.reported_by ? `<br>reported by ${esc(b.reported_by.replaceAll(";", ", "))}: start ${esc(when(b.rs, b.reported_precision))} ` +
      `(${esc(b.reported_precision)}), ${signed(b.reported_minus_logged)} min from the first alert`
      : "<br>no other source reported it") + `<br><small>${esc(b.incident)} · ${esc(b.cluster)}</small>`;

  function draw() {
    svg.replaceChildren();
    svg.append(el("text", {class: "title-label", x: 8, y: 18},
      `${b.target ?? "?"} · ${b.category ?? "?"} · ${num(b.alerts, 0)} alerts in ${num(b.minutes_long, 1)} min, ` +
      `peak ${num(b.peak, 0)} ${what}/min at ${isNaN(ms(b.peak_minute)) ? "?" : clock(ms(b.peak_minute))} UTC`));
    svg.append(el("text", {class: "axis-label", x: 8, y: 36}, b.reported_by
      ? `reported by ${b.reported_by.replaceAll(";", ", ")}: start ${when(b.rs, b.reported_precision)} (${b.reported_precision}), ` +
        `${signed(b.reported_minus_logged)} min from the first alert`
      : "no other source reported it"));
    // the count axis
    for (const v of y.ticks(4)) {
      svg.append(el("line", {class: "grid", x1: LEFT, x2: 1200 - RIGHT, y1: y(v), y2: y(v)}));
      svg.append(el("text", {class: "tick", x: LEFT - 6, y: y(v) + 4, "text-anchor": "end"}, num(v, 0)));
    }
    svg.append(el("text", {class: "axis-label", x: 8, y: TOP - 12}, `${what} / min`));
    axis.draw(TOP, TOP + PLOT);
    const clip = t => Math.min(Math.max(axis.x(t), LEFT), 1200 - RIGHT);
    const shown = (a, z) => z >= axis.lo && a <= axis.hi;
    // the reported start's interval, along the top
    if (!isNaN(b.rs)) {
      const re = until(b.rs, b.reported_precision);
      if (shown(b.rs, re)) {
        const x0 = clip(b.rs), x1 = clip(Math.max(re, b.rs + 1));
        const strip = el("rect", {class: "reported", x: x0, y: TOP - 2, width: Math.max(x1 - x0, 2), height: 6,
          "data-t0": new Date(b.rs).toISOString(), "data-t1": new Date(re).toISOString()});
        hover(strip, `<b>reported start</b>: ${esc(when(b.rs, b.reported_precision))} (${esc(b.reported_precision)})` +
          `<br>by ${esc((b.reported_by || "").replaceAll(";", ", "))}`, b.row);
        svg.append(strip);
      }
    }
    // the derived incident
    if (shown(b.t0, b.t1)) {
      const x0 = clip(b.t0), x1 = clip(b.t1);
      const band = el("rect", {class: "band burst", x: x0, y: TOP + 6, width: Math.max(x1 - x0, 2), height: PLOT - 6,
        "data-t0": b.first, "data-t1": b.last, "data-incident": b.incident});
      hover(band, details, b.row);
      svg.append(band);
    }
    // a bar per minute with alerts
    for (const m of b.series) {
      if (!shown(m.t, m.t + MINUTE)) continue;
      const x0 = clip(m.t), x1 = clip(m.t + MINUTE);
      const hot = b.threshold === null || b.threshold === undefined || m.n >= b.threshold;
      const bar = el("rect", {class: "minute" + (hot ? " hot" : ""), x: x0 + 0.5, y: y(m.n),
        width: Math.max(x1 - x0 - 1, 1), height: Math.max(y(0) - y(m.n), 0.5),
        "data-minute": new Date(m.t).toISOString(), "data-count": m.n, "data-alerts": m.alerts});
      hover(bar, `<b>${esc(stamp(m.t))} UTC</b>: ${num(m.n, 0)} ${what}` +
        (what === "events" ? ` in ${num(m.alerts, 0)} alerts` : "") + `<hr>${details}`, b.row);
      svg.append(bar);
    }
    if (b.threshold) {
      const line = el("line", {class: "threshold", x1: LEFT, x2: 1200 - RIGHT, y1: y(b.threshold),
        y2: y(b.threshold), "data-count": b.threshold});
      svg.append(line);
      svg.append(el("text", {class: "threshold-label", x: 1200 - RIGHT - 4, y: y(b.threshold) - 4,
        "text-anchor": "end"}, `threshold ${num(b.threshold, 0)} ${what}/min`));
    }
  }
  draw();
}
