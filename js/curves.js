// Line charts of the run comparison: panels side by side in one scalable drawing (the metric of
// the selected runs, best so far per search), each line a run or a search, with a legend under
// each panel, outside the plot. A metric menu picks what the first panel shows; Python redraws the
// lines (it holds the histories), so with no kernel the menu says so.
import { axes, clear, extent, fmt, html, legend, linear, pathD, plot, push, svg, ticks, widgetRoot } from "./ui.js";
import "./styles.css";
import "./curves.css";

const PW = 430; // one panel
const GAP = 24;
const H = 250;
const M = { left: 62, right: 12, top: 30, bottom: 46 };

function render({ model, el }) {
  const root = widgetRoot(model, el, "ipytune-curves");
  const bar = html("div", { class: "ipytune-bar" }, root);
  html("span", {}, bar, "metric");
  const menu = html("select", { class: "ipytune-metric" }, bar);
  const note = html("span", { class: "ipytune-note ipytune-curves-note" }, bar);
  const box = html("div", { class: "ipytune-curves-plot" }, root);
  const legends = html("div", { class: "ipytune-curves-legends" }, root);
  menu.addEventListener("change", () => {
    model.set("metric", menu.value);
    push(model);
  });

  function draw() {
    const metrics = model.get("metrics") || [];
    clear(menu);
    for (const m of metrics) html("option", { value: m }, menu, m);
    menu.value = model.get("metric");
    bar.style.display = metrics.length > 1 ? "" : "none";
    note.textContent = model.get("note") || "";
    const panels = model.get("panels") || [];
    clear(box);
    clear(legends);
    const W = panels.length * PW + Math.max(0, panels.length - 1) * GAP;
    const drawing = plot(box, Math.max(W, PW), H, "ipytune-curves-svg");
    legends.style.gridTemplateColumns = `repeat(${Math.max(panels.length, 1)}, 1fr)`;
    panels.forEach((p, k) => {
      panel(drawing, k * (PW + GAP), p);
      const items = p.lines.map((l, i) => ({ label: l.name, glyph: "line", colour: colour(i) }));
      legend(legends, items, "ipytune-curves-legend").dataset.panel = String(k);
    });
  }
  for (const k of ["panels", "metrics", "metric", "note"]) model.on(`change:${k}`, draw);
  draw();
}

// Tableau 10: mid-tones that read on light and dark backgrounds
const PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];
const colour = (i) => PALETTE[i % PALETTE.length];

function panel(root, ox, p) {
  const g = svg("g", { class: "ipytune-curves-panel", transform: `translate(${ox},0)`, "data-title": p.title }, root);
  svg("text", { class: "ipytune-plot-title", x: M.left + (PW - M.left - M.right) / 2, y: 16, "text-anchor": "middle", "font-size": 13, "font-weight": 600 }, g).textContent = p.title;
  const xs = p.lines.flatMap((l) => l.x);
  const ys = p.lines.flatMap((l) => l.y);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const sx = linear(x0, x1, M.left + 6, PW - M.right - 6);
  const sy = linear(...extent(ys), H - M.bottom, M.top);
  // whole-number steps and trials get whole-number ticks
  const xt = ticks(x0, x1, 6).filter((t) => !p.integer_x || Number.isInteger(t));
  axes(g, sx, sy, { xlabel: p.xlabel, ylabel: p.ylabel, xtickValues: xt });
  if (!p.lines.length) {
    svg("text", { x: PW / 2, y: H / 2, "text-anchor": "middle", "font-size": 12 }, g).textContent = p.empty || "nothing to show";
    return;
  }
  p.lines.forEach((l, i) => {
    svg("path", { class: "ipytune-curve", "data-name": l.name, d: pathD(l.x, l.y, sx, sy), fill: "none", stroke: colour(i), "stroke-width": 2 }, g);
    if (l.x.length <= 40) // a few points: each one marked (a run of one trial is a dot, not nothing)
      l.x.forEach((x, j) => {
        if (Number.isFinite(x) && Number.isFinite(l.y[j]))
          svg("circle", { class: "ipytune-curve-point", cx: sx(x), cy: sy(l.y[j]), r: 3, fill: colour(i) }, g);
      });
  });
  g.dataset.lines = String(p.lines.length);
  g.dataset.ymin = fmt(Math.min(...ys));
}

export default { render };
