"use strict";
// What every picture shares: SVG helpers, hover and pin, a legend, calendar-aware ticks and a
// time axis that zooms at the cursor and pans by drag. The picture's data is the JSON in
// <script id="picture">; the drawer that follows this file reads it as `picture`.
const picture = JSON.parse(document.getElementById("picture-data").textContent);
const NS = "http://www.w3.org/2000/svg";
const board = document.getElementById("picture");
const tip = document.getElementById("tip");
const pinned = document.getElementById("pinned");

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const num = (v, digits) => v === null || v === undefined ? "–" :
  Number(v).toLocaleString("en", {maximumFractionDigits: digits ?? 2});

// A new SVG in the picture area, `height` units tall on a 1200-unit-wide board.
function chart(height, label, cls) {
  const svg = el("svg", {class: "chart " + (cls || ""), viewBox: `0 0 1200 ${height}`, role: "img",
    "aria-label": label});
  board.append(svg);
  return svg;
}

// Hover shows a mark's details; a click pins them and marks the report's row it stands for.
function hover(node, html, row) {
  node.addEventListener("mousemove", e => {
    tip.innerHTML = html; tip.style.display = "block";
    tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 360) + "px";
    tip.style.top = (e.clientY + 12) + "px";
  });
  node.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  node.addEventListener("click", () => {
    pinned.innerHTML = html;
    document.querySelectorAll("tr.picked").forEach(r => r.classList.remove("picked"));
    for (const i of [].concat(row ?? [])) {
      const tr = document.getElementById("row-" + i);
      if (tr) { tr.classList.add("picked"); }
    }
  });
  if (row !== undefined && row !== null) node.dataset.row = [].concat(row).join(" ");
  return node;
}

// The legend: [{label, cls}] as swatches in a row above the picture.
function legend(items) {
  const box = document.createElement("div");
  box.className = "legend";
  for (const item of items) {
    const s = document.createElement("span");
    s.innerHTML = `<i class="swatch ${esc(item.cls)}"></i>${esc(item.label)}`;
    box.append(s);
  }
  board.before(box);
}

// Calendar-aware ticks: the step that gives at most `most` ticks, on UTC calendar
// boundaries (minutes, hours, days, Mondays, months, years), each with a label that says
// no more than the step needs and the date where it changes.
const MINUTE = 6e4, HOUR = 36e5, DAY = 864e5;
const STEPS = [[1, "minute"], [5, "minute"], [15, "minute"], [30, "minute"], [1, "hour"], [3, "hour"],
  [6, "hour"], [12, "hour"], [1, "day"], [2, "day"], [7, "day"], [1, "month"], [3, "month"], [6, "month"],
  [1, "year"], [2, "year"], [5, "year"], [10, "year"], [25, "year"], [50, "year"], [100, "year"]];
const SIZE = {minute: MINUTE, hour: HOUR, day: DAY, month: 30.44 * DAY, year: 365.25 * DAY};
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function ticks(lo, hi, most) {
  const [n, unit] = STEPS.find(([n, u]) => (hi - lo) / (n * SIZE[u]) <= (most || 8)) || STEPS[STEPS.length - 1];
  const out = [];
  const d = new Date(lo);
  let t;
  if (unit === "year") t = Date.UTC(Math.floor(d.getUTCFullYear() / n) * n, 0, 1);
  else if (unit === "month") t = Date.UTC(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / n) * n, 1);
  else if (unit === "day" && n === 7) t = Math.floor((lo - 4 * DAY) / (7 * DAY)) * 7 * DAY + 4 * DAY;  // Mondays
  else t = Math.floor(lo / (n * SIZE[unit])) * n * SIZE[unit];
  let previous = null;
  for (let guard = 0; t <= hi && guard < 500; guard++) {
    if (t >= lo) { out.push({t, label: tickLabel(t, unit, previous)}); previous = t; }
    const c = new Date(t);
    if (unit === "year") t = Date.UTC(c.getUTCFullYear() + n, 0, 1);
    else if (unit === "month") t = Date.UTC(c.getUTCFullYear(), c.getUTCMonth() + n, 1);
    else t += n * SIZE[unit];
  }
  return out;
}

function tickLabel(t, unit, previous) {
  const d = new Date(t), p = previous === null ? null : new Date(previous);
  const year = d.getUTCFullYear(), day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  const newYear = p === null || p.getUTCFullYear() !== year;
  if (unit === "year") return String(year);
  if (unit === "month") return MONTHS[d.getUTCMonth()] + (newYear || d.getUTCMonth() === 0 ? " " + year : "");
  if (unit === "day") return day + (newYear ? " " + year : "");
  const clock = d.toISOString().slice(11, 16);
  const newDay = p === null || p.toISOString().slice(0, 10) !== d.toISOString().slice(0, 10);
  return newDay ? `${day}${newYear ? " " + year : ""} ${clock}` : clock;
}

// A time axis across [left, 1200 - right] of an SVG: x(t), the ticks drawn between top and
// bottom, and the wheel zooming about the time under the cursor, dragging panning. Every
// change calls redraw(); the range is kept on the SVG as data-lo/data-hi.
function timeAxis(svg, lo, hi, options) {
  const left = options.left ?? 170, right = options.right ?? 20;
  const axis = {lo, hi, left, width: 1200 - left - right};
  axis.x = t => left + (t - axis.lo) / (axis.hi - axis.lo) * axis.width;
  axis.t = px => axis.lo + (px - left) / axis.width * (axis.hi - axis.lo);
  axis.draw = (top, bottom) => {
    for (const {t, label} of ticks(axis.lo, axis.hi, options.ticks || 8)) {
      const at = axis.x(t);
      svg.append(el("line", {class: "grid", x1: at, x2: at, y1: top, y2: bottom}));
      svg.append(el("text", {class: "tick", x: at, y: bottom + 14, "text-anchor": "middle"}, label));
    }
    svg.dataset.lo = new Date(axis.lo).toISOString();
    svg.dataset.hi = new Date(axis.hi).toISOString();
  };
  const svgX = e => new DOMPoint(e.clientX, e.clientY).matrixTransform(svg.getScreenCTM().inverse()).x;
  svg.addEventListener("wheel", e => {
    e.preventDefault();
    const at = axis.t(svgX(e)), f = e.deltaY < 0 ? 0.8 : 1.25;
    if (f < 1 && axis.hi - axis.lo < 10 * MINUTE) return;  // close enough to see single minutes
    axis.lo = at - (at - axis.lo) * f; axis.hi = at + (axis.hi - at) * f;
    options.redraw();
  }, {passive: false});
  let drag = null;
  svg.addEventListener("mousedown", e => { drag = {x: svgX(e), lo: axis.lo, hi: axis.hi}; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", e => {
    if (!drag) return;
    const dt = (svgX(e) - drag.x) / axis.width * (drag.hi - drag.lo);
    axis.lo = drag.lo - dt; axis.hi = drag.hi - dt;
    options.redraw();
  });
  return axis;
}

// A linear axis for numbers (lags, counts, days): x or y by `dir`, with round ticks.
function linear(lo, hi, a, b) {
  if (hi === lo) { hi = lo + 1; }
  const scale = v => a + (v - lo) / (hi - lo) * (b - a);
  scale.ticks = most => {
    const raw = (hi - lo) / (most || 6), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
    return out;
  };
  return scale;
}
