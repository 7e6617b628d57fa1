// Grid vs random coverage: the panels side by side in one scalable drawing, each a scatter of the
// samples of one budget with their projections on each axis. Every budget is in `data`; the
// sliders only change `budget_index` / `weight_index`, so they work with no kernel.
// For the demo function f = w·bump(important) + (1 − w)·ripple(unimportant) the front-end composes
// f for the importance w shown: the background, both marginals on ONE value scale (so the flat one
// looks flat), the arithmetic of random search and the best found over many repeats.
import { C, axes, clear, fmt, html, linear, pathD, plot, push, svg, TICK, LABEL, viridis, widgetRoot } from "./ui.js";
import "./styles.css";
import "./coverage.css";

const SIZE = 230; // the scatter's side
const STRIP = 44; // the projection strips beside each axis
const LEFT = 100; // y strip + y ticks
const PT = 30; // the panel's title line above the scatter
const PW = LEFT + SIZE + 14; // one panel's width
const GAP = 26;
const PH = PT + SIZE + 22 + STRIP + 24; // one panel's height
const REPEATS = 300;

function render({ model, el }) {
  const root = widgetRoot(model, el, "ipytune-coverage");
  const title = html("div", { class: "ipytune-title" }, root);
  const bar = html("div", { class: "ipytune-bar" }, root);
  html("span", {}, bar, "budget");
  const slider = html("input", { class: "ipytune-budget", type: "range", min: 0, step: 1 }, bar);
  const minus = html("button", { class: "ipytune-budget-down", title: "one trial less" }, bar, "−");
  const plus = html("button", { class: "ipytune-budget-up", title: "one trial more" }, bar, "+");
  const label = html("span", { class: "ipytune-budget-label" }, bar);
  const wbar = html("div", { class: "ipytune-bar ipytune-importance-bar" }, root);
  html("span", {}, wbar, "importance");
  const wslider = html("input", { class: "ipytune-importance", type: "range", min: 0, step: 1 }, wbar);
  const wlabel = html("span", { class: "ipytune-importance-label" }, wbar);
  const main = html("div", { class: "ipytune-cov-main" }, root); // at slide size: the text beside the drawing
  const box = html("div", { class: "ipytune-cov-plot" }, main);
  const side = html("div", { class: "ipytune-cov-side" }, main);
  const maths = html("div", { class: "ipytune-cov-math" }, side);
  const rbar = html("div", { class: "ipytune-bar" }, side);
  const again = html("button", { class: "ipytune-repeat", title: "the distribution of the best value each search finds" }, rbar, "Repeat both searches 300 times");
  const repeats = html("div", { class: "ipytune-cov-repeats" }, root);
  let showRepeats = false; // a view's own choice: shown on a click, so the slide fits until then
  again.addEventListener("click", () => {
    showRepeats = !showRepeats;
    draw();
  });

  const go = (i) => {
    const n = (model.get("data").budgets || []).length;
    model.set("budget_index", Math.max(0, Math.min(n - 1, i)));
    push(model);
  };
  slider.addEventListener("input", () => go(+slider.value));
  minus.addEventListener("click", () => go(model.get("budget_index") - 1));
  plus.addEventListener("click", () => go(model.get("budget_index") + 1));
  wslider.addEventListener("input", () => {
    model.set("weight_index", +wslider.value);
    push(model);
  });

  function draw() {
    const data = model.get("data") || {};
    const budgets = data.budgets || [];
    const i = Math.max(0, Math.min(budgets.length - 1, model.get("budget_index")));
    const weights = data.weights || [];
    const wi = Math.max(0, Math.min(weights.length - 1, model.get("weight_index") || 0));
    const w = weights.length ? weights[wi] : null;
    slider.max = Math.max(0, budgets.length - 1);
    slider.value = i;
    label.textContent = `${budgets[i]} trials each`;
    title.textContent = data.title || "Coverage";
    el.dataset.budget = String(budgets[i]);
    wbar.style.display = w === null ? "none" : "";
    if (w !== null) {
      wslider.max = weights.length - 1;
      wslider.value = wi;
      wlabel.textContent = `important moves f by ${fmt(w)}, unimportant by ${fmt(+(1 - w).toFixed(4))}`;
      el.dataset.importance = String(w);
    }
    clear(box);
    const panels = data.panels || [];
    const frames = panels.map((p) => p.frames[Math.min(i, p.frames.length - 1)]);
    const values = frames.map((f) => frameValues(f, w));
    const all = values.flat().filter(Number.isFinite);
    const vrange = all.length ? [Math.min(...all), Math.max(...all)] : [0, 1];
    const W = panels.length * PW + (panels.length - 1) * GAP;
    const drawing = plot(box, W, PH, "ipytune-cov-svg");
    panels.forEach((p, k) => panel(drawing, k * (PW + GAP), data, p.title, frames[k], values[k], vrange, budgets[i], w));
    clear(maths);
    clear(repeats);
    const demo = w !== null && !!data.band;
    rbar.style.display = demo ? "" : "none";
    again.textContent = showRepeats ? "Hide the repeats" : "Repeat both searches 300 times";
    if (demo) {
      arithmetic(maths, data, frames, budgets[i]);
      if (showRepeats) bestOverRepeats(repeats, data, frames, values, budgets[i], w);
    }
  }
  model.on("change:budget_index", draw);
  model.on("change:weight_index", draw);
  model.on("change:data", draw);
  draw();
}

// f at each sample: composed from its parts for the demo function, as given otherwise.
function frameValues(f, w) {
  if (w === null || !f.bump) return f.value;
  return f.bump.map((a, k) => w * a + (1 - w) * f.ripple[k]);
}

function demoF(data, w, x, y) {
  const [a, b] = data.important === 0 ? [x, y] : [y, x];
  return w * interp(data.parts, "bump", a) + (1 - w) * interp(data.parts, "ripple", b);
}

function interp(parts, key, t) {
  const at = parts.at;
  const n = at.length - 1;
  const u = Math.max(0, Math.min(n, ((t - at[0]) / (at[n] - at[0])) * n));
  const j = Math.min(Math.floor(u), n - 1);
  return parts[key][j] + (u - j) * (parts[key][j + 1] - parts[key][j]);
}

function colour(v, [lo, hi]) {
  const t = (v - lo) / (hi - lo || 1);
  return `hsl(${Math.round(240 - 240 * Math.max(0, Math.min(1, t)))}, 70%, 50%)`;
}

// The demo function's values on a grid, as a picture stretched over the scatter.
function background(data, w) {
  const n = data.parts.at.length;
  const canvas = document.createElement("canvas");
  canvas.width = n;
  canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const v = demoF(data, w, data.parts.at[i], data.parts.at[j]); // f spans [0, 1] for every w
      const [r, g, b] = viridis(v);
      const p = ((n - 1 - j) * n + i) * 4;
      img.data.set([r, g, b, 255], p);
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}

function panel(root, ox, data, name, f, values, vrange, budget, w) {
  const g = svg("g", { class: "ipytune-cov-panel", "data-name": name, transform: `translate(${ox},0)` }, root);
  const [ax, ay] = data.axes;
  const demo = w !== null && !!data.parts;
  const x0 = LEFT;
  const bottom = PT + SIZE;
  const sx = linear(ax.range[0], ax.range[1], x0, x0 + SIZE);
  const sy = linear(ay.range[0], ay.range[1], bottom, PT);
  const best = f.x.length ? values.reduce((bi, v, k) => ((data.maximize === false ? v < values[bi] : v > values[bi]) ? k : bi), 0) : -1;
  const title = svg("text", { class: "ipytune-plot-title", x: x0, y: 16, "font-size": LABEL + 2 }, g);
  svg("tspan", { "font-weight": 600 }, title).textContent = name;
  const left = f.x.length < budget && demo ? ` (${budget - f.x.length} left: no full grid row)` : "";
  svg("tspan", { class: "ipytune-cov-stats", "font-size": LABEL }, title).textContent =
    `  ${f.x.length} trials${left} · best ${best >= 0 ? fmt(values[best]) : "—"}`;
  if (demo) {
    const img = svg("image", { class: "ipytune-cov-bg", x: x0, y: PT, width: SIZE, height: SIZE, preserveAspectRatio: "none", opacity: 0.6 }, g);
    img.setAttribute("href", background(data, w));
    img.style.imageRendering = "pixelated";
  }
  if (!ax.labels && !ay.labels) axes(g, sx, sy, { xticks: 4, yticks: 4 });
  else {
    svg("rect", { class: "ipytune-frame", x: x0, y: PT, width: SIZE, height: SIZE, fill: "none" }, g);
    (ax.labels || []).forEach((t, k) => (svg("text", { x: sx(k), y: bottom + TICK + 4, "text-anchor": "middle", "font-size": TICK }, g).textContent = t));
    (ay.labels || []).forEach((t, k) => (svg("text", { x: x0 - 4, y: sy(k) + 4, "text-anchor": "end", "font-size": TICK }, g).textContent = t));
  }
  // projections: one tick per tried value on a strip under the x axis and left of the y axis
  const stripY = bottom + 22;
  const stripX = 18;
  const gx = svg("g", { class: "ipytune-proj-x" }, g);
  const gy = svg("g", { class: "ipytune-proj-y" }, g);
  if (demo) {
    // each parameter's share of f on ONE value scale, 0..1, growing towards the scatter
    const share = (axis) => (axis === data.important ? w : 1 - w);
    const key = (axis) => (axis === data.important ? "bump" : "ripple");
    const mx = linear(0, 1, stripY + STRIP - 4, stripY + 2);
    const my = linear(0, 1, stripX, stripX + STRIP - 4);
    if (data.band) band(g, data, sx, sy, mx, my, stripY, stripX);
    // the strips' common scale: dashed lines at f-share 0 and 1
    for (const v of [0, 1]) {
      svg("line", { class: `ipytune-scale-${v}`, x1: x0, x2: x0 + SIZE, y1: mx(v), y2: mx(v), stroke: C.gridline, "stroke-dasharray": "2 3" }, gx);
      svg("line", { class: `ipytune-scale-${v}`, x1: my(v), x2: my(v), y1: PT, y2: bottom, stroke: C.gridline, "stroke-dasharray": "2 3" }, gy);
    }
    const partX = data.parts[key(0)].map((v) => share(0) * v);
    const partY = data.parts[key(1)].map((v) => share(1) * v);
    svg("path", { class: "ipytune-marginal ipytune-marginal-x", d: pathD(data.parts.at, partX, sx, mx), fill: "none", stroke: C.fg, "stroke-width": 1.5 }, gx);
    svg("path", { class: "ipytune-marginal ipytune-marginal-y", d: pathD(partY, data.parts.at, my, sy), fill: "none", stroke: C.fg, "stroke-width": 1.5 }, gy);
    gx.dataset.span = String(Math.max(...partX) - Math.min(...partX));
    gy.dataset.span = String(Math.max(...partY) - Math.min(...partY));
    svg("text", { x: x0 + SIZE + 3, y: mx(1) + 4, "font-size": TICK - 2 }, gx).textContent = "1";
    svg("text", { x: x0 + SIZE + 3, y: mx(0) + 2, "font-size": TICK - 2 }, gx).textContent = "0";
  }
  svg("text", { class: "ipytune-label", x: x0 + SIZE / 2, y: PH - 6, "text-anchor": "middle", "font-size": LABEL }, g).textContent =
    `${ax.name}: ${f.distinct_x} values tried`;
  svg("text", { class: "ipytune-label", x: 10, y: PT + SIZE / 2, "text-anchor": "middle", "font-size": LABEL, transform: `rotate(-90 10 ${PT + SIZE / 2})` }, g).textContent =
    `${ay.name}: ${f.distinct_y} values`;
  f.x.forEach((x, k) => {
    svg("line", { class: "ipytune-proj-tick", x1: sx(x), x2: sx(x), y1: stripY, y2: stripY + STRIP - 4, stroke: C.c3, "stroke-opacity": 0.8 }, gx);
    svg("line", { class: "ipytune-proj-tick", x1: stripX, x2: stripX + STRIP - 4, y1: sy(f.y[k]), y2: sy(f.y[k]), stroke: C.c3, "stroke-opacity": 0.8 }, gy);
  });
  f.x.forEach((x, k) => {
    const isBest = k === best;
    svg("circle", {
      class: isBest ? "ipytune-sample ipytune-best" : "ipytune-sample",
      cx: sx(x), cy: sy(f.y[k]), r: isBest ? 6 : 4,
      fill: demo ? "white" : colour(values[k], vrange),
      stroke: isBest ? C.c3 : "#222", "stroke-width": isBest ? 2.5 : 1,
    }, g);
  });
}

// The top q of the important parameter: shaded on its strip and outlined across the scatter.
function band(g, data, sx, sy, mx, my, stripY, stripX) {
  const [lo, hi] = data.band;
  const attrs = { class: "ipytune-band", fill: C.c2, "fill-opacity": 0.28 };
  if (data.important === 0) {
    svg("rect", { ...attrs, x: sx(lo), width: sx(hi) - sx(lo), y: stripY, height: STRIP - 4 }, g);
    svg("rect", { x: sx(lo), width: sx(hi) - sx(lo), y: PT, height: SIZE, fill: "none", stroke: C.c2, "stroke-dasharray": "4 3" }, g);
  } else {
    svg("rect", { ...attrs, y: sy(hi), height: sy(lo) - sy(hi), x: stripX, width: STRIP - 4 }, g);
    svg("rect", { y: sy(hi), height: sy(lo) - sy(hi), x: LEFT, width: SIZE, fill: "none", stroke: C.c2, "stroke-dasharray": "4 3" }, g);
  }
}

const inBand = (data, f) => {
  const coords = data.important === 0 ? f.x : f.y;
  return {
    hits: coords.filter((v) => v >= data.band[0] && v <= data.band[1]).length,
    values: new Set(coords.filter((v) => v >= data.band[0] && v <= data.band[1]).map((v) => v.toFixed(9))).size,
  };
};

// What random search teaches: n trials land in the top q with probability 1 − (1 − q)^n.
function arithmetic(parent, data, frames, n) {
  const q = data.top_q;
  const p = 1 - (1 - q) ** n;
  const name = data.axes[data.important].name;
  const lines = [
    `Shaded: the best ${Math.round(q * 100)} % of ${name}. One random trial lands there with probability ${q}, so ${n} trials ` +
      `hit it with probability 1 − (1 − ${q})^${n} = ${Math.round(p * 100)} %.`,
  ];
  const distinct = (f) => (data.important === 0 ? f.distinct_x : f.distinct_y);
  const counts = frames.map((f) => inBand(data, f));
  const rnd = frames[1];
  const grid = frames[0];
  lines.push(
    `This draw: ${counts[1].hits} of ${rnd.x.length} random trials in it. The grid tries ${distinct(grid)} values of ${name} ` +
      `(random: ${distinct(rnd)}), ${counts[0].values} of them in it.`,
  );
  for (const line of lines) html("div", { class: "ipytune-cov-math-line" }, parent, line);
  parent.dataset.probability = String(p);
}

// A small deterministic PRNG, so the repeats are the same in every front-end and every run.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Both searches repeated: random search REPEATS times (fresh points each time), the grid once (it
// never changes). A histogram of the best found, the grid's best as a line.
function bestOverRepeats(parent, data, frames, values, n, w) {
  const rand = mulberry32(1000 + n);
  const bests = [];
  for (let r = 0; r < REPEATS; r++) {
    let best = -Infinity;
    for (let k = 0; k < n; k++) best = Math.max(best, demoF(data, w, rand(), rand()));
    bests.push(best);
  }
  const gridBest = Math.max(...values[0]);
  const better = bests.filter((b) => b > gridBest).length / REPEATS;
  const W = 2 * PW + GAP;
  const H = 100;
  const M = { left: 60, right: 20, top: 22, bottom: 36 };
  const root = plot(parent, W, H, "ipytune-repeats-svg");
  const lo = Math.min(0, ...bests);
  const sx = linear(lo, 1, M.left, W - M.right);
  const bins = 40;
  const counts = new Array(bins).fill(0);
  for (const b of bests) counts[Math.min(bins - 1, Math.floor(((b - lo) / (1 - lo)) * bins))] += 1;
  const sy = linear(0, Math.max(...counts), H - M.bottom, M.top);
  axes(root, sx, sy, { xlabel: `best f found in ${n} trials`, xticks: 5, ytickValues: [] });
  counts.forEach((c, k) => {
    if (!c) return;
    const xa = sx(lo + (k / bins) * (1 - lo));
    const xb = sx(lo + ((k + 1) / bins) * (1 - lo));
    svg("rect", { class: "ipytune-repeat-bar", x: xa + 0.5, width: Math.max(1, xb - xa - 1), y: sy(c), height: sy(0) - sy(c), fill: C.c2 }, root);
  });
  svg("line", { class: "ipytune-grid-best", x1: sx(gridBest), x2: sx(gridBest), y1: M.top - 4, y2: H - M.bottom, stroke: C.c1, "stroke-width": 3 }, root);
  svg("text", { class: "ipytune-label", x: M.left, y: 14, "font-size": LABEL }, root).textContent =
    `Repeated: random search ${REPEATS} times (bars), the grid once (blue line: ${fmt(gridBest)} every time). ` +
    `Random beats the grid in ${Math.round(better * 100)} % of repeats.`;
  root.dataset.better = String(better);
}

export default { render };
