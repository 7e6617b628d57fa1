// GP surrogate explorer: every frame (observations, GP mean and σ, posterior samples, the
// acquisition for every setting of the switch, the next point, the race) was computed in Python by
// bayes_opt and lives in the model's `data`; the controls only choose what to draw, so everything
// also plays with no kernel (exported HTML, slides). Keys (the widget focused, e.g. after a click):
// space / → / PageDown step, ← / PageUp step back, Home / End; at either end the key is left to
// the page, so a clicker moves on to the next slide.
import { C, axes, bandD, clear, fmt, heatmap, html, legend, linear, pathD, plot, push, starD, svg, TICK, LABEL, viridis, widgetRoot } from "./ui.js";
import "./styles.css";
import "./gp_explorer.css";

const W = 760;
const H_TOP = 250;
const H_ACQ = 170;
const M = { left: 72, right: 16, top: 12, bottom: 46 };
const CLIP = "ipytune-gp-clip";
let clipId = 0;

function render({ model, el }) {
  const root = widgetRoot(model, el, "ipytune-gp");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true"); // JupyterLab: these keys are the widget's
  const title = html("div", { class: "ipytune-title" }, root);
  const bar = html("div", { class: "ipytune-bar" }, root);
  const play = html("button", { class: "ipytune-play", title: "Play (all frames are precomputed)" }, bar, "▶ Play");
  const back = html("button", { class: "ipytune-back", title: "Previous step (←)" }, bar, "◀");
  const step = html("button", { class: "ipytune-step", title: "Next step (space, →)" }, bar, "Step ▶");
  const scrub = html("input", { class: "ipytune-scrub", type: "range", min: 0, step: 1 }, bar);
  const label = html("span", { class: "ipytune-frame-label" }, bar);
  const views = html("span", { class: "ipytune-views" }, bar);
  const viewButtons = ["explore", "race"].map((v) =>
    html("button", { class: "ipytune-view", "data-view": v, title: v === "race" ? "two settings side by side" : "the GP and its acquisition" }, views, v === "race" ? "Race" : "Explore"));
  const opts = html("div", { class: "ipytune-bar ipytune-gp-options" }, root);
  const kinds = html("span", { class: "ipytune-kinds" }, opts);
  const kindButtons = ["ucb", "ei", "pi"].map((k) => html("button", { class: "ipytune-kind", "data-kind": k }, kinds, k.toUpperCase()));
  const paramName = html("span", { class: "ipytune-acq-param-name" }, opts);
  const param = html("input", { class: "ipytune-acq-param", type: "range", min: 0, step: 1 }, opts);
  const paramValue = html("span", { class: "ipytune-acq-param-value" }, opts);
  const toggles = html("span", { class: "ipytune-toggles" }, opts);
  const check = (cls, text) => {
    const box = html("label", { class: `${cls}-label` }, toggles);
    const input = html("input", { class: cls, type: "checkbox" }, box);
    box.appendChild(document.createTextNode(` ${text}`));
    return [box, input];
  };
  const [truthBox, truth] = check("ipytune-truth-toggle", "true function");
  const [samplesBox, samples] = check("ipytune-samples-toggle", "posterior samples");
  const [rangeBox, whole] = check("ipytune-range-toggle", "whole y range");
  const keys = html("div", { class: "ipytune-legend-row" }, root);
  const plotBox = html("div", { class: "ipytune-gp-plot" }, root);
  const notes = html("div", { class: "ipytune-gp-notes" }, root);
  const caveat = html("span", { class: "ipytune-caveat" }, notes);
  const note = html("span", { class: "ipytune-note ipytune-gp-note" }, notes);
  const sliceNote = html("div", { class: "ipytune-note ipytune-slice-note" }, root);

  let timer = null;
  const frames = () => (model.get("data") || {}).frames || [];
  const last = () => Math.max(0, frames().length - 1);
  const set = (name, value) => {
    model.set(name, value);
    push(model);
  };
  const go = (i) => set("frame", Math.max(0, Math.min(last(), i)));
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
  truth.addEventListener("change", () => set("show_truth", truth.checked));
  samples.addEventListener("change", () => set("show_samples", samples.checked));
  whole.addEventListener("change", () => set("y_range", whole.checked ? "all" : "optimum"));
  viewButtons.forEach((b) => b.addEventListener("click", () => set("view", b.dataset.view)));
  kindButtons.forEach((b) => b.addEventListener("click", () => {
    const data = model.get("data");
    const k = b.dataset.kind;
    // the run's own setting when it is this kind, else the kind's default stop
    const own = k === data.acquisition ? data.stops[k].indexOf(data.value) : data.stops[k].indexOf(k === "ucb" ? 2.576 : 0.01);
    model.set("kind", k);
    set("stop", own);
  }));
  param.addEventListener("input", () => set("stop", +param.value));

  // A lecturer's clicker: space / arrows / PageUp-Down step; at the ends the page gets the key.
  root.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t !== root && (t.tagName === "INPUT" || t.tagName === "BUTTON" || t.tagName === "SELECT")) return;
    const i = model.get("frame");
    let to = null;
    if (e.key === " " || e.key === "ArrowRight" || e.key === "PageDown" || e.key === "ArrowDown") to = i + 1;
    else if (e.key === "ArrowLeft" || e.key === "PageUp" || e.key === "ArrowUp") to = i - 1;
    else if (e.key === "Home") to = 0;
    else if (e.key === "End") to = last();
    if (to === null || to < 0 || to > last() || to === i) return;
    e.preventDefault();
    e.stopPropagation();
    stopPlaying();
    go(to);
  });

  function shownSetting(data) {
    const kind = model.get("kind") || data.acquisition;
    const stops = (data.stops || {})[kind] || [];
    let s = model.get("stop");
    if (!(s >= 0 && s < stops.length)) s = kind === data.acquisition ? stops.indexOf(data.value) : 0;
    return { kind, s, value: stops[s], own: kind === data.acquisition && stops[s] === data.value };
  }

  function draw() {
    const data = model.get("data") || {};
    const all = data.frames || [];
    const i = Math.max(0, Math.min(all.length - 1, model.get("frame")));
    const dims = data.dims;
    const view = data.race && dims === 1 ? model.get("view") : "explore";
    scrub.max = Math.max(0, all.length - 1);
    scrub.value = i;
    truth.checked = !!model.get("show_truth");
    samples.checked = !!model.get("show_samples");
    whole.checked = model.get("y_range") === "all";
    title.textContent = data.title || "GP surrogate explorer";
    views.style.display = data.race && dims === 1 ? "" : "none";
    viewButtons.forEach((b) => b.classList.toggle("ipytune-on", b.dataset.view === view));
    opts.style.display = dims === 1 ? "" : "none";
    truthBox.style.display = data.truth ? "" : "none";
    const setting = dims === 1 ? shownSetting(data) : null;
    kinds.style.display = view === "explore" ? "" : "none";
    paramName.style.display = param.style.display = paramValue.style.display = view === "explore" ? "" : "none";
    samplesBox.style.display = view === "explore" ? "" : "none";
    if (setting) {
      kindButtons.forEach((b) => b.classList.toggle("ipytune-on", b.dataset.kind === setting.kind));
      param.max = data.stops[setting.kind].length - 1;
      param.value = setting.s;
      paramName.textContent = `${data.symbols[setting.kind]}:`;
      paramValue.textContent = `${fmt(setting.value)}${setting.kind === "ucb" ? (setting.value >= 5 ? " (explore)" : setting.value <= 0.5 ? " (exploit)" : "") : setting.value >= 0.1 ? " (explore)" : setting.value === 0 ? " (exploit)" : ""}`;
    }
    const f = all[i];
    el.dataset.frame = String(i);
    el.dataset.view = view;
    clear(plotBox);
    clear(keys);
    if (!f) {
      label.textContent = "no frames";
      return;
    }
    label.textContent = `step ${i + 1} / ${all.length} · ${f.targets.length} observations`;
    caveat.style.display = f.caveat && view === "explore" ? "" : "none";
    caveat.textContent = f.caveat || "";
    sliceNote.style.display = data.slice ? "" : "none";
    sliceNote.textContent = data.slice || "";
    if (dims === 2) {
      draw2d(plotBox, data, f);
      keys.appendChild(legendFor(data, { dims: 2, added: f.added !== null && f.added !== undefined }));
    } else if (view === "race") {
      drawRace(plotBox, data, i, !!model.get("show_truth"), model.get("y_range"));
      keys.appendChild(legend(null, [
        { label: "GP mean ± 2σ", glyph: "line", colour: C.c1 }, { label: "observed", glyph: "dot", colour: C.point },
        { label: "just added", glyph: "ring", colour: C.c3 }, { label: "next point", glyph: "star", colour: C.c3 },
        ...(data.truth && model.get("show_truth") ? [{ label: "true function", glyph: "dash", colour: C.c4 }] : []),
      ]));
    } else {
      draw1d(plotBox, data, f, i, setting, { truth: !!model.get("show_truth"), samples: !!model.get("show_samples"), range: model.get("y_range") });
      keys.appendChild(legendFor(data, { truth: data.truth && model.get("show_truth"), samples: model.get("show_samples"), added: f.added !== null && f.added !== undefined }));
    }
    note.textContent = noteText(data, f, i, view, setting);
  }

  for (const name of ["frame", "data", "show_truth", "show_samples", "view", "kind", "stop", "y_range"]) model.on(`change:${name}`, draw);
  draw();
  return () => stopPlaying();
}

function legendFor(data, { dims = 1, truth = false, samples = false, added = false }) {
  if (dims === 2)
    return legend(null, [
      { label: "observed", glyph: "ring", colour: C.fg },
      ...(added ? [{ label: "just added (last step's ★)", glyph: "ring", colour: C.c3 }] : []),
      { label: data.next_is_trial ? "next trial the study ran" : "next point (acquisition maximum)", glyph: "star", colour: C.c3 },
    ]);
  return legend(null, [
    { label: "observed", glyph: "dot", colour: C.point },
    ...(added ? [{ label: "just added", glyph: "ring", colour: C.c3 }] : []),
    { label: "mean μ(x)", glyph: "line", colour: C.c1 },
    { label: "μ ± 2σ (95 %)", glyph: "band", colour: C.band },
    ...(samples ? [{ label: "posterior samples", glyph: "line", colour: C.c5 }] : []),
    ...(truth ? [{ label: "true function", glyph: "dash", colour: C.c4 }] : []),
    { label: "acquisition", glyph: "line", colour: C.c2 },
    { label: data.next_is_trial ? "next trial the study ran" : "next point", glyph: "star", colour: C.c3 },
  ]);
}

function noteText(data, f, i, view, setting) {
  const names = data.names;
  const at = (p) => names.map((n, k) => `${n} = ${fmt(p[k])}`).join(", ");
  const parts = [];
  if (view === "race") {
    const r = data.race;
    const n = r.init_points + i;
    parts.push(`after ${n} evaluations: ${r.labels.map((l, k) => `${l} best ${fmt(r.best[k][n - 1])}`).join(" · ")}`);
    return parts.join(" · ");
  }
  if (f.added !== null && f.added !== undefined) {
    const k = f.added;
    parts.push(`● just added: ${at(f.points.map((p) => p[k]))} → f = ${fmt(f.targets[k])} (the ★ of step ${i})`);
  } else if (i === 0 && data.truth) parts.push(`${f.targets.length} random points to start`);
  if (f.next) parts.push(`★ next: ${at(f.next)}`);
  parts.push(`best so far ${fmt(f.best)}`);
  if (setting && !setting.own && data.dims === 1) parts.push(`the steps follow ${data.acquisition_label}; the ◆ is where this acquisition would look`);
  return parts.join(" · ");
}

// Axes with their names placed clear of the ticks at any text size (ui.js places them for 11 px ticks).
function namedAxes(g, sx, sy, { xlabel = "", ylabel = "", ...rest } = {}) {
  const a = axes(g, sx, sy, rest);
  const [x0, x1] = sx.range;
  const [y0, y1] = sy.range;
  if (xlabel) svg("text", { class: "ipytune-label", x: (x0 + x1) / 2, y: y0 + 42, "text-anchor": "middle", "font-size": LABEL }, a).textContent = xlabel;
  if (ylabel) {
    const y = (y0 + y1) / 2;
    svg("text", { class: "ipytune-label", x: 14, y, "text-anchor": "middle", "font-size": LABEL, transform: `rotate(-90 14 ${y})` }, a).textContent = ylabel;
  }
  return a;
}

// y-scale of a 1-D panel: near the optimum (default) or everything
function yScale(data, range, y0, y1) {
  const r = (data.y_ranges || {})[range === "all" ? "all" : "optimum"] || [0, 1];
  return linear(r[0], r[1], y0, y1);
}

function clipRect(parent, x, y, w, h) {
  const id = `${CLIP}-${++clipId}`;
  const cp = svg("clipPath", { id }, svg("defs", {}, parent));
  svg("rect", { x, y, width: w, height: h }, cp);
  return `url(#${id})`;
}

// observations: a dot inside the y-range, a triangle on the edge (with its value) outside it
function observations(g, xs, ys, sx, sy, { added = null, off = null, r = 4.5 } = {}) {
  const [bottom, top] = sy.range;
  const [lo, hi] = sy.domain;
  xs.forEach((x, k) => {
    const y = ys[k];
    const opacity = off && off[k] > 0 ? Math.max(0.25, 1 - 2 * off[k]) : 1;
    if (y < lo || y > hi) {
      const below = y < lo;
      const py = below ? bottom - 2 : top + 2;
      const d = below ? `M${sx(x) - 5},${py - 8}L${sx(x) + 5},${py - 8}L${sx(x)},${py}Z` : `M${sx(x) - 5},${py + 8}L${sx(x) + 5},${py + 8}L${sx(x)},${py}Z`;
      svg("path", { class: "ipytune-obs ipytune-offscale", d, fill: C.point, "fill-opacity": opacity, "data-x": x, "data-y": y }, g);
      svg("text", { class: "ipytune-tick", x: sx(x) + 7, y: below ? py - 2 : py + 10, "font-size": TICK }, g).textContent = fmt(y);
    } else {
      svg("circle", { class: "ipytune-obs", cx: sx(x), cy: sy(y), r, fill: C.point, "fill-opacity": opacity, "data-x": x, "data-y": y, "data-off": off ? off[k] : 0 }, g);
    }
    if (k === added)
      svg("circle", { class: "ipytune-new", cx: sx(x), cy: Math.max(top, Math.min(bottom, sy(y))), r: r + 4, fill: "none", stroke: C.c3, "stroke-width": 2.5 }, g);
  });
}

function draw1d(parent, data, f, i, setting, show) {
  const xs = data.grid;
  const lo = f.mean.map((m, k) => m - 2 * f.std[k]);
  const hi = f.mean.map((m, k) => m + 2 * f.std[k]);
  const root = plot(parent, W, H_TOP + H_ACQ, "ipytune-gp-svg");
  const sx = linear(data.bounds[0][0], data.bounds[0][1], M.left, W - M.right);
  const sy = yScale(data, show.range, H_TOP - M.bottom, M.top);
  const top = svg("g", { class: "ipytune-gp-top", "data-y0": sy.domain[0], "data-y1": sy.domain[1] }, root);
  namedAxes(top, sx, sy, { ylabel: data.maximize === false ? "objective (lower is better)" : "objective" });
  const clip = clipRect(root, M.left, M.top, W - M.left - M.right, H_TOP - M.bottom - M.top);
  const g = svg("g", { "clip-path": clip }, top);
  svg("path", { class: "ipytune-band", d: bandD(xs, lo, hi, sx, sy), fill: C.band, stroke: "none" }, g);
  if (show.truth && data.truth)
    svg("path", { class: "ipytune-truth", d: pathD(xs, data.truth, sx, sy), fill: "none", stroke: C.c4, "stroke-width": 1.5, "stroke-dasharray": "6 4" }, g);
  if (show.samples && f.samples)
    f.samples.forEach((s) => svg("path", { class: "ipytune-sample", d: pathD(xs, s, sx, sy), fill: "none", stroke: C.c5, "stroke-width": 1.2, "stroke-opacity": 0.8 }, g));
  svg("path", { class: "ipytune-mean", d: pathD(xs, f.mean, sx, sy), fill: "none", stroke: C.c1, "stroke-width": 2.5 }, g);
  observations(top, f.points[0], f.targets, sx, sy, { added: f.added, off: f.off });
  if (f.next) {
    const x = sx(f.next[0]);
    svg("line", { class: "ipytune-next", x1: x, x2: x, y1: M.top, y2: H_TOP + H_ACQ - M.bottom, stroke: C.c3, "stroke-width": 1.5, "stroke-dasharray": "4 3" }, root);
  }
  // the acquisition panel, below, on the same x axis
  const acq = setting ? (f.acqs || {})[setting.kind]?.[setting.s] : null;
  const g2 = svg("g", { class: "ipytune-gp-acq", transform: `translate(0, ${H_TOP})` }, root);
  if (!acq) return;
  const [a0, a1] = [Math.min(...acq), Math.max(...acq, setting.own && f.next_acq !== null ? f.next_acq : -Infinity)];
  // the formula has a strip of its own above the curve
  const ay = linear(a0 - 0.05 * (a1 - a0 || 1), a1 + 0.08 * (a1 - a0 || 1), H_ACQ - M.bottom, LABEL + 18);
  namedAxes(g2, sx, ay, { xlabel: data.names[0], ylabel: setting.kind.toUpperCase(), yticks: 3 });
  svg("path", { class: "ipytune-acq", d: pathD(xs, acq, sx, ay), fill: "none", stroke: C.c2, "stroke-width": 2.5 }, g2);
  const formula = `${data.formulas[setting.kind]},  ${data.symbols[setting.kind]} = ${fmt(setting.value)}${setting.kind === "ucb" ? "" : ",  f⁺ = best so far"}`;
  svg("text", { class: "ipytune-formula ipytune-label", x: M.left + 4, y: LABEL + 6, "font-size": LABEL }, g2).textContent = formula;
  if (setting.own && f.next) {
    svg("path", { class: "ipytune-acq-max", d: starD(sx(f.next[0]), ay(f.next_acq), 9), fill: C.c3 }, g2);
  } else if (!setting.own) {
    let best = 0;
    acq.forEach((v, k) => { if (v > acq[best]) best = k; });
    const x = sx(xs[best]);
    const y = ay(acq[best]);
    svg("path", { class: "ipytune-acq-alt", d: `M${x},${y - 8}L${x + 7},${y}L${x},${y + 8}L${x - 7},${y}Z`, fill: C.c3, "fill-opacity": 0.85 }, g2);
  }
}

function drawRace(parent, data, i, showTruth, range) {
  const r = data.race;
  const PW = 370;
  const PH = 230;
  const BH = 180;
  const root = plot(parent, W, PH + BH + 8, "ipytune-race-svg");
  const xs = data.grid;
  r.labels.forEach((name, c) => {
    const f = r.frames[c][Math.min(i, r.frames[c].length - 1)];
    const g = svg("g", { class: "ipytune-race-panel", "data-contender": c, transform: `translate(${c * (PW + 20)}, 0)` }, root);
    const sx = linear(data.bounds[0][0], data.bounds[0][1], M.left, PW - 8);
    const sy = yScale(data, range, PH - M.bottom, M.top + LABEL + 6);
    svg("text", { class: "ipytune-plot-title", x: M.left, y: LABEL + 2, "font-size": LABEL, "font-weight": 600 }, g).textContent = name;
    namedAxes(g, sx, sy, { xlabel: data.names[0], ylabel: "objective", xticks: 4, yticks: 4 });
    const clip = clipRect(g, M.left, sy.range[1], PW - 8 - M.left, sy.range[0] - sy.range[1]);
    const inner = svg("g", { "clip-path": clip }, g);
    const lo = f.mean.map((m, k) => m - 2 * f.std[k]);
    const hi = f.mean.map((m, k) => m + 2 * f.std[k]);
    svg("path", { class: "ipytune-band", d: bandD(xs, lo, hi, sx, sy), fill: C.band, stroke: "none" }, inner);
    if (showTruth && data.truth)
      svg("path", { class: "ipytune-truth", d: pathD(xs, data.truth, sx, sy), fill: "none", stroke: C.c4, "stroke-width": 1.5, "stroke-dasharray": "6 4" }, inner);
    svg("path", { class: "ipytune-mean", d: pathD(xs, f.mean, sx, sy), fill: "none", stroke: C.c1, "stroke-width": 2 }, inner);
    observations(g, f.points[0], f.targets, sx, sy, { added: i > 0 ? f.targets.length - 1 : null, r: 4 });
    if (f.next) svg("path", { class: "ipytune-next-star", d: starD(sx(f.next[0]), sy.range[1] + 2, 7), fill: C.c3 }, g);
  });
  // best so far against evaluations, both settings, up to this step
  const g = svg("g", { class: "ipytune-race-best", transform: `translate(0, ${PH + 8})` }, root);
  const n = r.best[0].length;
  const shown = r.init_points + i;
  const sx = linear(1, n, M.left, W - M.right);
  const values = r.best.flat();
  const b0 = Math.min(...values);
  const b1 = Math.max(...values);
  const sy = linear(b0 - 0.05 * (b1 - b0 || 1), b1 + 0.08 * (b1 - b0 || 1), BH - M.bottom, 8);
  namedAxes(g, sx, sy, { xlabel: "evaluations", ylabel: "best so far", xtickValues: Array.from({ length: n }, (_, k) => k + 1).filter((k) => n <= 12 || k % 2 === 1), yticks: 3 });
  const colours = [C.c1, C.c2];
  r.best.forEach((b, c) => {
    const upto = b.slice(0, shown);
    let d = "";
    upto.forEach((v, k) => { d += k ? `H${sx(k + 1).toFixed(2)}V${sy(v).toFixed(2)}` : `M${sx(1).toFixed(2)},${sy(v).toFixed(2)}`; });
    svg("path", { class: "ipytune-best-line", "data-contender": c, d, fill: "none", stroke: colours[c], "stroke-width": 2.5, "stroke-dasharray": c ? "7 4" : "none" }, g);
    svg("text", { class: "ipytune-label", x: W - M.right, y: 8 + LABEL * (c + 1) + 4 * c, "text-anchor": "end", "font-size": LABEL, fill: colours[c] }, g).textContent = `${r.labels[c]}: ${fmt(upto[upto.length - 1])}`;
  });
  svg("line", { x1: sx(r.init_points + 0.5), x2: sx(r.init_points + 0.5), y1: 8, y2: BH - M.bottom, stroke: C.gridline, "stroke-dasharray": "3 3" }, g);
  svg("text", { class: "ipytune-tick", x: sx(r.init_points + 0.5) + 4, y: BH - M.bottom - 4, "font-size": TICK }, g).textContent = "← random start";
}

function colourBar(parent, x, y, h, lo, hi) {
  const g = svg("g", { class: "ipytune-colourbar" }, parent);
  const n = 24;
  for (let k = 0; k < n; k++) {
    const [r, gg, b] = viridis(k / (n - 1));
    svg("rect", { x, y: y + h - ((k + 1) * h) / n, width: 10, height: h / n + 0.5, fill: `rgb(${r},${gg},${b})` }, g);
  }
  svg("text", { class: "ipytune-tick", x: x + 14, y: y + TICK * 0.8, "font-size": TICK }, g).textContent = fmt(hi);
  svg("text", { class: "ipytune-tick", x: x + 14, y: y + h, "font-size": TICK }, g).textContent = fmt(lo);
}

function draw2d(parent, data, f) {
  const row = html("div", { class: "ipytune-heat-row" }, parent);
  const [nx, ny] = [data.grid.x.length, data.grid.y.length];
  const S = 200;
  const panels = [["mean", "GP mean μ"], ["std", "GP σ"], ["acq", data.acquisition_label]];
  for (const [key, name] of panels) {
    const box = html("div", { class: `ipytune-heat ipytune-heat-${key}` }, row);
    const root = plot(box, S + 110, S + 60, "ipytune-heat-svg");
    const sx = linear(data.bounds[0][0], data.bounds[0][1], 46, 46 + S);
    const sy = linear(data.bounds[1][0], data.bounds[1][1], 22 + S, 22);
    svg("text", { class: "ipytune-plot-title", x: 46 + S / 2, y: 14, "text-anchor": "middle", "font-size": LABEL, "font-weight": 600 }, root).textContent = name;
    // the heatmap: a canvas drawn once, placed as an SVG image so it scales with the drawing
    const holder = html("div", {});
    const canvas = heatmap(holder, f[key], nx, ny, S, S, "ipytune-heatmap");
    const image = svg("image", { class: "ipytune-heatmap", x: 46, y: 22, width: S, height: S, preserveAspectRatio: "none", href: canvas.toDataURL() }, root);
    image.style.imageRendering = "pixelated";
    axes(root, sx, sy, { xlabel: data.names[0], ylabel: data.names[1], xticks: 4, yticks: 4 });
    const values = f[key].filter(Number.isFinite);
    colourBar(root, 46 + S + 10, 22, S, Math.min(...values), Math.max(...values));
    f.points[0].forEach((x, k) =>
      svg("circle", { class: "ipytune-obs", cx: sx(x), cy: sy(f.points[1][k]), r: 4, fill: "white", stroke: "#222", "stroke-width": 1.2, "fill-opacity": f.off && f.off[k] > 0 ? 0.35 : 1 }, root));
    if (f.added !== null && f.added !== undefined)
      svg("circle", { class: "ipytune-new", cx: sx(f.points[0][f.added]), cy: sy(f.points[1][f.added]), r: 8, fill: "none", stroke: C.c3, "stroke-width": 2.5 }, root);
    if (f.next) svg("path", { class: "ipytune-next", d: starD(sx(f.next[0]), sy(f.next[1]), 8), fill: C.c3, stroke: "white" }, root);
  }
}

export default { render };
