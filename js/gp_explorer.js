// GP surrogate explorer: every frame (observations, GP mean and σ, acquisition, next point)
// was computed in Python by bayes_opt and lives in the model's `data`; Play / Step / the
// scrubber only change `frame`, so the animation also runs with no kernel (exported HTML, slides).
import { axes, bandD, clear, extent, fmt, heatmap, html, linear, pathD, push, svg } from "./ui.js";
import "./styles.css";
import "./gp_explorer.css";

const W = 560;
const H_TOP = 230;
const H_ACQ = 120;
const M = { left: 46, right: 12, top: 10, bottom: 32 };

function render({ model, el }) {
  const root = html("div", { class: "ipytune-w ipytune-gp" }, el);
  const title = html("div", { class: "ipytune-title" }, root);
  const bar = html("div", { class: "ipytune-bar" }, root);
  const play = html("button", { class: "ipytune-play", title: "Play" }, bar, "▶ Play");
  const back = html("button", { class: "ipytune-back", title: "Previous step" }, bar, "◀");
  const step = html("button", { class: "ipytune-step", title: "Next step" }, bar, "Step ▶");
  const scrub = html("input", { class: "ipytune-scrub", type: "range", min: 0, step: 1 }, bar);
  const label = html("span", { class: "ipytune-frame-label" }, bar);
  const truthBox = html("label", { class: "ipytune-truth-label" }, bar);
  const truth = html("input", { class: "ipytune-truth-toggle", type: "checkbox" }, truthBox);
  truthBox.appendChild(document.createTextNode(" true function"));
  const plot = html("div", { class: "ipytune-gp-plot" }, root);
  const note = html("div", { class: "ipytune-note" }, root);

  let timer = null;
  const last = () => Math.max(0, (model.get("data").frames || []).length - 1);
  const go = (i) => {
    model.set("frame", Math.max(0, Math.min(last(), i)));
    push(model);
  };
  const stopPlaying = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ Play";
  };
  play.addEventListener("click", () => {
    if (timer !== null) return stopPlaying();
    if (model.get("frame") >= last()) go(0);
    play.textContent = "⏸ Pause";
    timer = setInterval(() => {
      if (model.get("frame") >= last()) return stopPlaying();
      go(model.get("frame") + 1);
    }, model.get("interval_ms") || 800);
  });
  step.addEventListener("click", () => { stopPlaying(); go(model.get("frame") + 1); });
  back.addEventListener("click", () => { stopPlaying(); go(model.get("frame") - 1); });
  scrub.addEventListener("input", () => { stopPlaying(); go(+scrub.value); });
  truth.addEventListener("change", () => { model.set("show_truth", truth.checked); push(model); });

  function draw() {
    const data = model.get("data") || {};
    const frames = data.frames || [];
    const i = Math.max(0, Math.min(frames.length - 1, model.get("frame")));
    scrub.max = Math.max(0, frames.length - 1);
    scrub.value = i;
    truth.checked = !!model.get("show_truth");
    truthBox.style.display = data.truth && data.dims !== 2 ? "" : "none";
    title.textContent = data.title || "GP surrogate explorer";
    const f = frames[i];
    el.dataset.frame = String(i);
    clear(plot);
    if (!f) {
      label.textContent = "no frames";
      return;
    }
    label.textContent = `step ${i + 1} / ${frames.length} · ${f.points[0].length} observations`;
    if (data.dims === 2) draw2d(plot, data, f);
    else draw1d(plot, data, f, !!model.get("show_truth"));
    const nextText = f.next ? `next point: ${data.names.map((n, k) => `${n}=${fmt(f.next[k])}`).join(", ")}` : "";
    note.textContent = `${nextText} · best so far ${fmt(f.best)} · acquisition: ${data.acquisition_label || data.acquisition}`;
  }

  model.on("change:frame", draw);
  model.on("change:data", draw);
  model.on("change:show_truth", draw);
  draw();
  return () => stopPlaying();
}

function draw1d(parent, data, f, showTruth) {
  const xs = data.grid;
  const lo = f.mean.map((m, k) => m - 2 * f.std[k]);
  const hi = f.mean.map((m, k) => m + 2 * f.std[k]);
  const root = svg("svg", { class: "ipytune-gp-svg", width: W + 110, height: H_TOP + H_ACQ + 10 }, parent);
  const sx = linear(data.bounds[0][0], data.bounds[0][1], M.left, W - M.right);
  const sy = linear(...extent(lo, hi, f.targets, showTruth ? data.truth : null), H_TOP - M.bottom, M.top);
  axes(root, sx, sy, { ylabel: "objective" });
  svg("path", { class: "ipytune-band", d: bandD(xs, lo, hi, sx, sy), fill: "#4c78a8", "fill-opacity": 0.18, stroke: "none" }, root);
  if (showTruth && data.truth)
    svg("path", { class: "ipytune-truth", d: pathD(xs, data.truth, sx, sy), fill: "none", stroke: "#888", "stroke-dasharray": "4 3" }, root);
  svg("path", { class: "ipytune-mean", d: pathD(xs, f.mean, sx, sy), fill: "none", stroke: "#4c78a8", "stroke-width": 2 }, root);
  f.points[0].forEach((x, k) =>
    svg("circle", { class: "ipytune-obs", cx: sx(x), cy: sy(f.targets[k]), r: 4, fill: "#222" }, root));
  if (f.next) {
    const x = sx(f.next[0]);
    svg("line", { class: "ipytune-next", x1: x, x2: x, y1: M.top, y2: H_TOP + H_ACQ - M.bottom + 10, stroke: "#e45756", "stroke-dasharray": "3 3" }, root);
  }
  // acquisition panel, below
  const g = svg("g", { transform: `translate(0, ${H_TOP})` }, root);
  const ay = linear(...extent(f.acq, [f.next_acq]), H_ACQ - M.bottom + 10, 6);
  axes(g, sx, ay, { xlabel: data.names[0], ylabel: "acq.", yticks: 3 });
  svg("path", { class: "ipytune-acq", d: pathD(xs, f.acq, sx, ay), fill: "none", stroke: "#f58518", "stroke-width": 2 }, g);
  if (f.next)
    svg("path", { class: "ipytune-acq-max", d: star(sx(f.next[0]), ay(f.next_acq), 7), fill: "#e45756" }, g);
  // legend in the plot's right margin, clear of the curves
  const legend = svg("g", { class: "ipytune-legend", transform: `translate(${W + 8}, ${M.top + 4})` }, root);
  const items = [["#222", "observed"], ["#4c78a8", "GP mean ± 2σ"], ["#e45756", "next point"], ["#f58518", "acquisition"]];
  if (showTruth && data.truth) items.splice(2, 0, ["#888", "true function"]);
  items.forEach(([c, t], k) => {
    svg("rect", { x: 0, y: k * 15, width: 10, height: 10, fill: c }, legend);
    svg("text", { x: 14, y: k * 15 + 9, "font-size": 10 }, legend).textContent = t;
  });
}

function star(cx, cy, r) {
  let d = "";
  for (let k = 0; k < 10; k++) {
    const a = (Math.PI / 5) * k - Math.PI / 2;
    const rr = k % 2 ? r * 0.45 : r;
    d += `${k ? "L" : "M"}${(cx + rr * Math.cos(a)).toFixed(2)},${(cy + rr * Math.sin(a)).toFixed(2)}`;
  }
  return d + "Z";
}

function draw2d(parent, data, f) {
  const row = html("div", { class: "ipytune-heat-row" }, parent);
  const [nx, ny] = [data.grid.x.length, data.grid.y.length];
  const size = 200;
  const panels = [["mean", "GP mean"], ["std", "GP σ"], ["acq", `acquisition (${data.acquisition})`]];
  for (const [key, name] of panels) {
    const box = html("div", { class: `ipytune-heat ipytune-heat-${key}`, style: `position:relative; width:${size + 40}px` }, row);
    html("div", { class: "ipytune-heat-name" }, box, name);
    const area = html("div", { style: `position:relative; margin-left:36px; margin-bottom:24px; width:${size}px; height:${size}px` }, box);
    heatmap(area, f[key], nx, ny, size, size, "ipytune-heatmap");
    const over = svg("svg", { width: size + 40, height: size + 30, style: "position:absolute; left:-36px; top:0; overflow:visible" }, area);
    const sx = linear(data.bounds[0][0], data.bounds[0][1], 36, 36 + size);
    const sy = linear(data.bounds[1][0], data.bounds[1][1], size, 0);
    axes(over, sx, sy, { xticks: 4, yticks: 4 });
    f.points[0].forEach((x, k) =>
      svg("circle", { class: "ipytune-obs", cx: sx(x), cy: sy(f.points[1][k]), r: 3.5, fill: "white", stroke: "#222" }, over));
    if (f.next) svg("path", { class: "ipytune-next", d: star(sx(f.next[0]), sy(f.next[1]), 7), fill: "#e45756", stroke: "white" }, over);
  }
  html("div", { class: "ipytune-note" }, parent, `x: ${data.names[0]} · y: ${data.names[1]}`);
}

export default { render };
