// Grid vs random coverage: panels side by side, each a scatter of the samples of one budget
// with their projections on each axis. Every budget is in `data`; the slider only changes
// `budget_index`, so it works with no kernel.
import { axes, clear, extent, fmt, heatmap, html, linear, pathD, push, svg } from "./ui.js";
import "./styles.css";
import "./coverage.css";

const SIZE = 230;
const STRIP = 46;
const LEFT = 40 + STRIP;

function render({ model, el }) {
  const root = html("div", { class: "ipytune-w ipytune-coverage" }, el);
  const title = html("div", { class: "ipytune-title" }, root);
  const bar = html("div", { class: "ipytune-bar" }, root);
  html("span", {}, bar, "budget");
  const slider = html("input", { class: "ipytune-budget", type: "range", min: 0, step: 1 }, bar);
  const minus = html("button", { class: "ipytune-budget-down", title: "one trial less" }, bar, "−");
  const plus = html("button", { class: "ipytune-budget-up", title: "one trial more" }, bar, "+");
  const label = html("span", { class: "ipytune-budget-label" }, bar);
  const row = html("div", { class: "ipytune-cov-row" }, root);

  const go = (i) => {
    const n = (model.get("data").budgets || []).length;
    model.set("budget_index", Math.max(0, Math.min(n - 1, i)));
    push(model);
  };
  slider.addEventListener("input", () => go(+slider.value));
  minus.addEventListener("click", () => go(model.get("budget_index") - 1));
  plus.addEventListener("click", () => go(model.get("budget_index") + 1));

  function draw() {
    const data = model.get("data") || {};
    const budgets = data.budgets || [];
    const i = Math.max(0, Math.min(budgets.length - 1, model.get("budget_index")));
    slider.max = Math.max(0, budgets.length - 1);
    slider.value = i;
    label.textContent = `${budgets[i]} trials each`;
    title.textContent = data.title || "Coverage";
    el.dataset.budget = String(budgets[i]);
    clear(row);
    const vals = [];
    for (const p of data.panels || []) for (const f of p.frames) vals.push(...f.value);
    const vrange = extent(vals);
    for (const p of data.panels || []) panel(row, data, p.title, p.frames[Math.min(i, p.frames.length - 1)], vrange, budgets[i]);
  }
  model.on("change:budget_index", draw);
  model.on("change:data", draw);
  draw();
}

function colour(v, [lo, hi]) {
  const t = (v - lo) / (hi - lo || 1);
  return `hsl(${Math.round(240 - 240 * Math.max(0, Math.min(1, t)))}, 70%, 45%)`;
}

function panel(parent, data, name, f, vrange, budget) {
  const box = html("div", { class: "ipytune-cov-panel", "data-name": name }, parent);
  const best = f.best_index >= 0 ? `best ${fmt(f.best)}` : "no trial";
  const [ax, ay] = data.axes;
  html("div", { class: "ipytune-title" }, box, name);
  html("div", { class: "ipytune-cov-stats" }, box,
    `${f.x.length} trials${f.x.length < budget && data.background ? ` (${budget - f.x.length} left: no full grid row)` : ""} · ${f.distinct_x} distinct ${ax.name} · ${f.distinct_y} distinct ${ay.name} · ${best}`);
  const area = html("div", { style: `position:relative; width:${LEFT + SIZE + 10}px; height:${SIZE + STRIP + 34}px` }, box);
  if (data.background) {
    const holder = html("div", { style: `position:absolute; left:${LEFT}px; top:0; opacity:0.55` }, area);
    heatmap(holder, data.background.values, data.background.nx, data.background.ny, SIZE, SIZE, "ipytune-cov-bg");
  }
  const root = svg("svg", { width: LEFT + SIZE + 10, height: SIZE + STRIP + 34, style: "position:absolute; left:0; top:0" }, area);
  const sx = linear(ax.range[0], ax.range[1], LEFT, LEFT + SIZE);
  const sy = linear(ay.range[0], ay.range[1], SIZE, 0);
  if (!ax.labels && !ay.labels) axes(root, sx, sy, { xticks: 4, yticks: 4 });
  else {
    svg("rect", { x: LEFT, y: 0, width: SIZE, height: SIZE, fill: "none", stroke: "#888" }, root);
    (ax.labels || []).forEach((t, k) => (svg("text", { x: sx(k), y: SIZE + 12, "text-anchor": "middle", "font-size": 9 }, root).textContent = t));
    (ay.labels || []).forEach((t, k) => (svg("text", { x: LEFT - 4, y: sy(k), "text-anchor": "end", "font-size": 9 }, root).textContent = t));
  }
  // projections: one tick per tried value on a strip under the x axis and left of the y axis
  const stripY = SIZE + 20;
  const gx = svg("g", { class: "ipytune-proj-x" }, root);
  const gy = svg("g", { class: "ipytune-proj-y" }, root);
  if (data.marginals) {
    const m = data.marginals;
    const my = linear(...extent(m.x.values), stripY + STRIP - 8, stripY + 2);
    svg("path", { d: pathD(m.x.at, m.x.values, sx, my), fill: "none", stroke: "#999" }, gx);
    const mx = linear(...extent(m.y.values), 16, 56);
    svg("path", { d: pathD(m.y.values, m.y.at, mx, sy), fill: "none", stroke: "#999" }, gy);
  }
  svg("text", { x: LEFT + SIZE / 2, y: SIZE + STRIP + 30, "text-anchor": "middle", "font-size": 10, fill: "#555" }, root).textContent =
    `${ax.name}: ${f.distinct_x} values tried`;
  svg("text", { x: 8, y: SIZE / 2, "text-anchor": "middle", "font-size": 10, fill: "#555", transform: `rotate(-90 8 ${SIZE / 2})` }, root).textContent =
    `${ay.name}: ${f.distinct_y} values`;
  f.x.forEach((x, k) => {
    svg("line", { class: "ipytune-proj-tick", x1: sx(x), x2: sx(x), y1: stripY, y2: stripY + STRIP - 8, stroke: "#e45756", "stroke-opacity": 0.7 }, gx);
    svg("line", { class: "ipytune-proj-tick", x1: 16, x2: 56, y1: sy(f.y[k]), y2: sy(f.y[k]), stroke: "#e45756", "stroke-opacity": 0.7 }, gy);
  });
  f.x.forEach((x, k) => {
    const isBest = k === f.best_index;
    svg("circle", {
      class: isBest ? "ipytune-sample ipytune-best" : "ipytune-sample",
      cx: sx(x), cy: sy(f.y[k]), r: isBest ? 6 : 4,
      fill: data.background ? "white" : colour(f.value[k], vrange),
      stroke: isBest ? "#e45756" : "#222", "stroke-width": isBest ? 2.5 : 1,
    }, root);
  });
}

export default { render };
