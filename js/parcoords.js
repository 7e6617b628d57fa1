// Runs table + parallel coordinates, side by side where there is room. Drag on an axis to brush
// a range (click an axis to clear it): the lines and the table keep only the runs inside every
// brush. Click a table header to sort, a row to select it; `brushes`, `filtered` and `selected`
// (run ids, never names: two runs may share a name) sync back to Python.
import { C, TICK, LABEL, clear, fmt, html, linear, plot as scalable, push, svg, widgetRoot } from "./ui.js";
import "./styles.css";
import "./parcoords.css";

const H = 260;
const M = { top: 34, bottom: 14, left: 60, right: 64 }; // left: the first axis name, right: the last axis's ticks
const AXIS_GAP = 150;

function render({ model, el }) {
  const root = widgetRoot(model, el, "ipytune-parcoords");
  const title = html("div", { class: "ipytune-title" }, root);
  const body = html("div", { class: "ipytune-pc-body" }, root);
  const left = html("div", { class: "ipytune-pc-left" }, body);
  const plot = html("div", { class: "ipytune-pc-plot" }, left);
  const info = html("div", { class: "ipytune-pc-info ipytune-note" }, left);
  const tableBox = html("div", { class: "ipytune-pc-table" }, body);
  const sort = { key: null, asc: true }; // the table's order, kept across redraws

  function draw() {
    const cols = model.get("columns") || [];
    const runs = model.get("runs") || [];
    title.textContent = model.get("title") || "Runs";
    const keep = runs.map((_, i) => inBrushes(cols, model.get("brushes") || {}, i));
    const filtered = runs.filter((_, i) => keep[i]);
    el.dataset.visible = String(filtered.length);
    const shown = model.get("filtered") || [];
    if (shown.length !== filtered.length || shown.some((r, k) => r !== filtered[k])) {
      model.set("filtered", filtered);
      push(model);
    }
    drawAxes(plot, model, cols, runs, keep);
    drawTable(tableBox, model, cols, runs, keep, sort, draw);
    info.textContent = `${filtered.length} of ${runs.length} runs shown` +
      (Object.keys(model.get("brushes") || {}).length ? " · click an axis to clear its brush" : " · drag along an axis to filter");
  }

  for (const k of ["columns", "runs", "labels", "brushes", "selected", "title"]) model.on(`change:${k}`, draw);
  draw();
}

// -- axes: one vertical axis per column, one line per run -----------------------------------------
function axisScale(column) {
  const vals = column.values.filter((v) => v !== null && Number.isFinite(v));
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (!vals.length) [lo, hi] = [0, 1];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  return linear(lo, hi, H - M.bottom, M.top);
}

const xOf = (k) => M.left + k * AXIS_GAP;

function drawAxes(parent, model, cols, runs, keep) {
  clear(parent);
  const W = M.left + M.right + AXIS_GAP * Math.max(cols.length - 1, 1);
  const root = scalable(parent, W, H, "ipytune-pc-svg");
  const scales = cols.map(axisScale);
  drawLines(root, model, cols, runs, keep, scales);
  const brushes = model.get("brushes") || {};
  cols.forEach((c, k) => {
    const g = drawAxis(root, c, xOf(k), scales[k]);
    const b = brushes[c.name];
    if (b) drawBrush(g, xOf(k), scales[k], b);
    // a wide transparent hit area to brush on
    const hit = svg("rect", { class: "ipytune-pc-hit", x: xOf(k) - 16, width: 32, y: M.top - 4, height: H - M.top - M.bottom + 8, fill: "transparent" }, g);
    brushOn(hit, root, model, c.name, scales[k]);
  });
}

function drawLines(root, model, cols, runs, keep, scales) {
  const selected = new Set(model.get("selected") || []);
  const objective = cols.findIndex((c) => c.kind === "objective");
  const ov = objective >= 0 ? cols[objective].values.filter((v) => v !== null && Number.isFinite(v)) : [];
  const [olo, ohi] = [Math.min(...ov), Math.max(...ov)];
  runs.forEach((run, i) => {
    let d = "";
    cols.forEach((c, k) => {
      const v = c.values[i];
      if (v === null || !Number.isFinite(v)) return;
      d += `${d ? "L" : "M"}${xOf(k)},${scales[k](v).toFixed(1)}`;
    });
    const t = objective >= 0 && cols[objective].values[i] !== null ? (cols[objective].values[i] - olo) / (ohi - olo || 1) : 0.5;
    svg("path", {
      class: keep[i] ? "ipytune-pc-line" : "ipytune-pc-line ipytune-pc-out", "data-run": run, d, fill: "none",
      stroke: keep[i] ? `hsl(${Math.round(240 - 240 * t)}, 70%, 50%)` : C.gridline,
      "stroke-width": selected.has(run) ? 3 : 1.3, "stroke-opacity": keep[i] ? 0.85 : 0.5,
    }, root);
  });
}

function drawAxis(root, c, x, scale) {
  const g = svg("g", { class: "ipytune-pc-axis", "data-axis": c.name }, root);
  svg("line", { x1: x, x2: x, y1: M.top, y2: H - M.bottom, stroke: C.axis }, g);
  // a long name is cut to what fits between two axes; the whole name is its tooltip
  const room = Math.floor(AXIS_GAP / (15 * 0.62)); // characters of a 15 px name (the slide size)
  const name = c.name.length > room ? `${c.name.slice(0, room - 1)}…` : c.name;
  const head = svg("text", { class: "ipytune-label", x, y: 16, "text-anchor": "middle", "font-size": LABEL, "font-weight": c.kind === "objective" ? 700 : 400 }, g);
  head.textContent = name;
  svg("title", {}, head).textContent = c.name;
  const [lo, hi] = scale.domain;
  const tick = (v, text) => {
    const t = svg("text", { class: "ipytune-tick", x: x + 6, y: scale(v) + TICK * 0.35, "font-size": TICK }, g);
    t.textContent = text.length > 9 ? `${text.slice(0, 8)}…` : text;
  };
  if (c.labels) c.labels.forEach((label, j) => tick(j, label));
  else for (const v of [lo, (lo + hi) / 2, hi]) tick(v, fmt(v));
  return g;
}

// screen -> the svg's user units, fixed at the moment it is called
function svgUnits(svgRoot) {
  const m = svgRoot.getScreenCTM();
  const inverse = m ? m.inverse() : null;
  return (e) => (inverse ? new DOMPoint(e.clientX, e.clientY).matrixTransform(inverse).y : e.clientY - svgRoot.getBoundingClientRect().top);
}

// -- brushing: a range per axis, in `brushes`; a run is kept when it lies inside every one ----------
function inBrushes(cols, brushes, i) {
  return cols.every((c) => {
    const b = brushes[c.name];
    if (!b) return true;
    const v = c.values[i];
    return v !== null && v >= Math.min(b[0], b[1]) && v <= Math.max(b[0], b[1]);
  });
}

function drawBrush(g, x, scale, b) {
  const [y0, y1] = [scale(b[0]), scale(b[1])];
  svg("rect", { class: "ipytune-pc-brush", x: x - 8, width: 16, y: Math.min(y0, y1), height: Math.max(Math.abs(y1 - y0), 2), fill: C.c1, "fill-opacity": 0.3, stroke: C.c1 }, g);
}

// Drag on `hit` sets the brush of axis `name` (live, in the local model); a click without a drag
// clears it. The change is sent to Python once, on mouse up.
function brushOn(hit, svgRoot, model, name, scale) {
  hit.addEventListener("mousedown", (ev) => {
    ev.preventDefault();
    // In the drawing's own units (the svg may be scaled). The mapping is taken now: every move
    // redraws the axes, and the svg this listener belongs to leaves the page.
    const toUser = svgUnits(svgRoot);
    const y0 = toUser(ev);
    let moved = false;
    const move = (e) => {
      moved = true;
      const y1 = toUser(e);
      const inv = (y) => scale.domain[0] + ((y - scale.range[0]) / (scale.range[1] - scale.range[0])) * (scale.domain[1] - scale.domain[0]);
      const [lo, hi] = [Math.min(...scale.domain), Math.max(...scale.domain)];
      const clamp = (v) => Math.max(lo, Math.min(hi, v)); // a brush never leaves its axis
      const b = { ...(model.get("brushes") || {}) };
      b[name] = [clamp(inv(y0)), clamp(inv(y1))].sort((p, q) => p - q);
      model.set("brushes", b);
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      if (!moved) {
        const b = { ...(model.get("brushes") || {}) };
        delete b[name];
        model.set("brushes", b);
      }
      push(model);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  });
}

// -- table: the runs inside every brush; click a header to sort, a row to select --------------------
function drawTable(parent, model, cols, runs, keep, sort, redraw) {
  clear(parent);
  const table = html("table", { class: "ipytune-runs-table" }, parent);
  const head = html("tr", {}, html("thead", {}, table));
  const groups = model.get("groups") || [];
  const labels = model.get("labels") || [];
  const header = [["run", null], ["group", null], ...cols.map((c) => [c.name, c])];
  header.forEach(([name]) => {
    const th = html("th", { "data-key": name }, head, name + (sort.key === name ? (sort.asc ? " ▲" : " ▼") : ""));
    th.addEventListener("click", () => {
      sort.asc = sort.key === name ? !sort.asc : true;
      sort.key = name;
      redraw();
    });
  });
  const value = (i, name) => {
    if (name === "run") return labels[i] || runs[i];
    if (name === "group") return groups[i] || "";
    const c = cols.find((cc) => cc.name === name);
    const v = c.values[i];
    return c.labels && v !== null ? c.labels[v] : v;
  };
  const order = runs.map((_, i) => i).filter((i) => keep[i]);
  if (sort.key) {
    order.sort((a, b) => {
      const [va, vb] = [value(a, sort.key), value(b, sort.key)];
      const cmp = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb));
      return sort.asc ? cmp : -cmp;
    });
  }
  const selected = new Set(model.get("selected") || []);
  const body = html("tbody", {}, table);
  for (const i of order) {
    const tr = html("tr", { class: selected.has(runs[i]) ? "ipytune-run ipytune-selected" : "ipytune-run", "data-run": runs[i] }, body);
    header.forEach(([name]) => {
      const v = value(i, name);
      html("td", {}, tr, typeof v === "number" ? fmt(v) : v === null ? "—" : String(v));
    });
    tr.addEventListener("click", () => {
      const now = new Set(model.get("selected") || []);
      if (now.has(runs[i])) now.delete(runs[i]);
      else now.add(runs[i]);
      model.set("selected", runs.filter((r) => now.has(r)));
      push(model);
    });
  }
}

export default { render };
