// Live search dashboard: progress, elapsed / ETA, every trial against a fixed 0..N trial axis with
// the best so far as a step line, a legend, the direction, best parameters, counts, and a Stop
// button (or, where the kernel cannot take a click mid-search, an inline note saying what to do).
import { C, axes, bytes, clear, floats, fmt, html, legend, linear, plot, push, svg, ticks, widgetRoot } from "./ui.js";
import "./styles.css";
import "./dashboard.css";

const W = 560;
const H = 230;
const M = { left: 58, right: 14, top: 12, bottom: 54 };
const FAIL_ROW = 14; // failed / pruned trials (no value) sit on a row at the bottom of the plot area
const COMPLETE = 0;
const PRUNED = 1;

function seconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function render({ model, el }) {
  const root = widgetRoot(model, el, "ipytune-dashboard");
  const title = html("div", { class: "ipytune-title" }, root);
  const bar = html("div", { class: "ipytune-bar" }, root);
  const progress = html("progress", { class: "ipytune-progress", max: 1, value: 0 }, bar);
  const text = html("span", { class: "ipytune-progress-text" }, bar);
  const stop = html("button", { class: "ipytune-stop", title: "End the search after the current trial" }, bar, "■ Stop");
  const counts = html("span", { class: "ipytune-counts ipytune-note" }, bar);
  const note = html("div", { class: "ipytune-warning ipytune-stop-note" }, root);
  const key = html("div", { class: "ipytune-dash-legend" }, root);
  const plotBox = html("div", { class: "ipytune-dash-plot" }, root);
  const best = html("div", { class: "ipytune-best" }, root);

  stop.addEventListener("click", () => {
    model.set("stop_requested", true);
    push(model);
    stop.textContent = "stopping after this trial…";
    stop.disabled = true;
  });

  function draw() {
    const total = model.get("total");
    const done = model.get("done");
    const status = model.get("status");
    const maximize = model.get("maximize");
    title.textContent = model.get("title");
    progress.max = Math.max(total, 1);
    progress.value = done;
    text.textContent = `${done} / ${total} · elapsed ${seconds(model.get("elapsed"))}` +
      (status === "running" ? ` · ETA ${seconds(model.get("eta"))}` : ` · ${status}`);
    el.dataset.status = status;
    const running = status === "running";
    const canStop = model.get("can_stop") && running;
    stop.style.display = running && model.get("can_stop") ? "" : "none";
    if (!model.get("stop_requested")) stop.disabled = !canStop;
    // Where Stop cannot work, say so where the button would be, not in a tooltip.
    const why = model.get("stop_note") || "";
    note.textContent = why;
    note.style.display = running && !model.get("can_stop") && why ? "" : "none";
    const c = model.get("counts") || {};
    counts.textContent = `complete ${c.COMPLETE || 0} · pruned ${c.PRUNED || 0} · failed ${c.FAIL || 0}`;
    const bv = model.get("best_value");
    const params = Object.entries(model.get("best_params") || {}).map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : v}`);
    best.textContent = bv === null || bv === undefined ? "best: —" : `best ${fmt(bv)} (trial ${model.get("best_number")}) · ${params.join(", ")}`;
    clear(key);
    legend(key, [
      { label: "each trial", glyph: "dot", colour: C.c1 },
      { label: `best so far (${maximize ? "higher" : "lower"} is better)`, glyph: "step", colour: C.c2 },
      { label: "pruned", glyph: "ring", colour: C.pruned },
      { label: "failed", glyph: "ring", colour: C.c3 },
    ]);
    curve(plotBox, floats(model.get("values")), bytes(model.get("states")), maximize, Math.max(total, done, 1));
  }
  for (const k of ["title", "total", "done", "status", "values", "best_value", "can_stop", "stop_note", "counts", "maximize"])
    model.on(`change:${k}`, draw);
  draw();
}

// The y range: every value, unless a few outliers would squash the rest. Then the range is the
// bulk (Tukey's fences, 1.5 IQR) widened to keep the best, and the outliers sit on the edge.
export function valueRange(values, maximize) {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return [0, 1];
  const q = (p) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))];
  let lo = v[0];
  let hi = v[v.length - 1];
  if (v.length >= 8) {
    const iqr = q(0.75) - q(0.25);
    if (iqr > 0) {
      lo = Math.max(lo, q(0.25) - 1.5 * iqr);
      hi = Math.min(hi, q(0.75) + 1.5 * iqr);
    }
    if (maximize) hi = v[v.length - 1];
    else lo = v[0];
  }
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}

function curve(parent, values, states, maximize, total) {
  clear(parent);
  const root = plot(parent, W, H, "ipytune-dash-svg");
  const n = values.length;
  const [lo, hi] = valueRange(values, maximize);
  const bottom = H - M.bottom;
  // a fixed axis from 0 to the trials planned: it shows progress and does not move every update
  const sx = linear(0, Math.max(total - 1, 1), M.left + 6, W - M.right - 6);
  const sy = linear(lo, hi, bottom - FAIL_ROW, M.top);
  // the axes span the failed row too: a value scale stretched down to the bottom edge
  const ay = linear(lo - ((hi - lo) * FAIL_ROW) / (bottom - FAIL_ROW - M.top), hi, bottom, M.top);
  const xt = ticks(0, Math.max(total - 1, 1), 6).filter((t) => Number.isInteger(t)).map((t) => t);
  axes(root, sx, ay, {
    xlabel: "trial", ylabel: `objective (${maximize ? "maximize ↑" : "minimize ↓"})`,
    xtickValues: xt, ytickValues: ticks(lo, hi, 4),
  });
  svg("line", { class: "ipytune-fail-row", x1: M.left, x2: W - M.right, y1: bottom - FAIL_ROW, y2: bottom - FAIL_ROW, stroke: C.gridline, "stroke-dasharray": "3 3" }, root);
  root.dataset.xmax = String(Math.max(total - 1, 1));
  root.dataset.ylo = String(lo);
  root.dataset.yhi = String(hi);
  const clamp = (y) => Math.max(M.top, Math.min(bottom - FAIL_ROW, y));
  // best so far as a step line over the completed trials
  let bestSoFar = NaN;
  let d = "";
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (states[i] === COMPLETE && Number.isFinite(v) && (!Number.isFinite(bestSoFar) || (maximize ? v > bestSoFar : v < bestSoFar))) {
      if (Number.isFinite(bestSoFar)) d += `L${sx(i).toFixed(1)},${clamp(sy(bestSoFar)).toFixed(1)}`;
      bestSoFar = v;
      d += `${d ? "L" : "M"}${sx(i).toFixed(1)},${clamp(sy(v)).toFixed(1)}`;
    }
  }
  if (Number.isFinite(bestSoFar)) d += `L${sx(Math.max(n - 1, 0)).toFixed(1)},${clamp(sy(bestSoFar)).toFixed(1)}`;
  svg("path", { class: "ipytune-best-line", d, fill: "none", stroke: C.c2, "stroke-width": 2.5 }, root);
  let outside = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const ok = Number.isFinite(v);
    const cx = sx(i);
    if (!ok) {
      const failed = states[i] !== PRUNED;
      svg("circle", {
        class: failed ? "ipytune-trial ipytune-failed" : "ipytune-trial ipytune-pruned", cx, cy: bottom - FAIL_ROW / 2, r: 3.5,
        fill: "none", stroke: failed ? C.c3 : C.pruned, "stroke-width": 1.6,
      }, root);
      continue;
    }
    const y = sy(v);
    if (y < M.top - 0.5 || y > bottom - FAIL_ROW + 0.5) {
      // an outlier: a triangle on the edge, pointing to where it is
      outside += 1;
      const up = y < M.top;
      const ey = up ? M.top + 4 : bottom - FAIL_ROW - 4;
      svg("path", {
        class: "ipytune-trial ipytune-outlier", "data-value": v,
        d: up ? `M${cx - 4},${ey + 3}L${cx + 4},${ey + 3}L${cx},${ey - 4}Z` : `M${cx - 4},${ey - 3}L${cx + 4},${ey - 3}L${cx},${ey + 4}Z`,
        fill: C.c1,
      }, root);
      continue;
    }
    svg("circle", { class: "ipytune-trial", cx, cy: y, r: 3.5, fill: C.c1, "fill-opacity": 0.85 }, root);
  }
  if (outside)
    svg("text", { class: "ipytune-outlier-note", x: W - M.right, y: H - 4, "text-anchor": "end", "font-size": 11 }, root).textContent =
      `${outside} trial${outside > 1 ? "s" : ""} off the scale: ▲▼ at the edge`;
}

export default { render };
