// ipytune's widget UI kit: the widget root (theme + presentation scale), scalable plots, SVG/DOM
// builders, scales, axes, legends, paths, colours, binary decoding and push(model). The styles are
// js/styles.css, shipped through anywidget's `_css`; its --ipytune-* variables are the theme.
// Written by hand so the bundles have no runtime dependency and work from a CDN-less export.

export const SVG_NS = "http://www.w3.org/2000/svg";

// Theme colours for SVG attributes: svg() sets a "var(...)" value as a style property, since SVG
// presentation attributes cannot hold var().
export const C = {
  fg: "var(--ipytune-fg)",
  muted: "var(--ipytune-muted)",
  bg: "var(--ipytune-bg)",
  panel: "var(--ipytune-panel)",
  axis: "var(--ipytune-axis)",
  gridline: "var(--ipytune-gridline)",
  point: "var(--ipytune-point)",
  band: "var(--ipytune-band)",
  c1: "var(--ipytune-c1)",
  c2: "var(--ipytune-c2)",
  c3: "var(--ipytune-c3)",
  c4: "var(--ipytune-c4)",
  c5: "var(--ipytune-c5)",
  pruned: "var(--ipytune-c-pruned)",
};

export function svg(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "string" && v.startsWith("var(")) node.style.setProperty(k, v);
    else node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}

// The widget's root element: themed (.ipytune-w) and at presentation scale while the model's
// `present` is true.
export function widgetRoot(model, el, cls) {
  const root = html("div", { class: `ipytune-w ${cls}` }, el);
  const present = () => root.classList.toggle("ipytune-present", !!model.get("present"));
  present();
  model.on("change:present", present);
  return root;
}

// An SVG drawing laid out in a w x h box of user units: it fills its cell's width (the viewBox
// scales text and marks together) up to w px times --ipytune-zoom, and no taller than
// --ipytune-plot-max-h (set at presentation scale, so a drawing and its controls fit a slide).
export function plot(parent, w, h, cls = "") {
  const node = svg("svg", { class: `ipytune-plot ${cls}`.trim(), viewBox: `0 0 ${w} ${h}`, "data-w": w, "data-h": h }, parent);
  node.style.maxWidth = `min(calc(var(--ipytune-zoom) * ${w}px), calc(var(--ipytune-plot-max-h, 100000px) * ${(w / h).toFixed(4)}))`;
  return node;
}

// An HTML legend whose glyphs are drawn like the marks they name.
// items: [{label, glyph: "line" | "dash" | "step" | "dot" | "ring" | "star" | "band" | "tick", colour}]
export function legend(parent, items, cls = "") {
  const box = html("div", { class: `ipytune-legend ${cls}`.trim() }, parent);
  for (const it of items) {
    const item = html("span", { class: "ipytune-legend-item", "data-glyph": it.glyph }, box);
    const g = svg("svg", { viewBox: "0 0 18 10" }, item);
    const c = it.colour || C.fg;
    if (it.glyph === "line" || it.glyph === "dash" || it.glyph === "step")
      svg("path", { d: it.glyph === "step" ? "M0,8H8V2H18" : "M0,5H18", fill: "none", stroke: c, "stroke-width": 2, "stroke-dasharray": it.glyph === "dash" ? "4 3" : "none" }, g);
    else if (it.glyph === "band") svg("rect", { x: 0, y: 1, width: 18, height: 8, fill: c }, g);
    else if (it.glyph === "star") svg("path", { d: starD(9, 5, 5.5), fill: c }, g);
    else if (it.glyph === "tick") svg("path", { d: "M9,0V10", stroke: c, "stroke-width": 2 }, g);
    else if (it.glyph === "ring") svg("circle", { cx: 9, cy: 5, r: 3.5, fill: "none", stroke: c, "stroke-width": 1.6 }, g);
    else svg("circle", { cx: 9, cy: 5, r: 3.5, fill: c }, g);
    html("span", {}, item, it.label);
  }
  return box;
}

// A five-pointed star centred on (cx, cy), outer radius r.
export function starD(cx, cy, r) {
  let d = "";
  for (let k = 0; k < 10; k++) {
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    const rr = k % 2 ? r * 0.45 : r;
    d += `${k ? "L" : "M"}${(cx + rr * Math.cos(a)).toFixed(2)},${(cy + rr * Math.sin(a)).toFixed(2)}`;
  }
  return d + "Z";
}

export function html(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function linear(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.domain = [d0, d1];
  f.range = [r0, r1];
  return f;
}

export function extent(...arrays) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    if (!a) continue;
    for (const v of a) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

export function ticks(lo, hi, count = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const err = step0 / mag;
  const step = mag * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

export function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return +v.toPrecision(4) + "";
}

// Tick and label sizes in user units: at natural size 11 px and 12 px on screen, 18 and 19 px
// at presentation zoom (1.6).
export const TICK = 11;
export const LABEL = 12;

// Axes of a plot area [x0, x1] × [y0, y1] (user units), labelled. xtickValues / ytickValues
// replace the automatic ticks; a tick is drawn only inside its axis, so no label is clipped.
export function axes(g, sx, sy, { xlabel = "", ylabel = "", xticks = 5, yticks = 4, xtickValues = null, ytickValues = null, format = fmt } = {}) {
  const [x0, x1] = sx.range;
  const [y0, y1] = sy.range; // y0 is the bottom pixel
  const a = svg("g", { class: "ipytune-axes" }, g);
  svg("line", { x1: x0, x2: x1, y1: y0, y2: y0 }, a);
  svg("line", { x1: x0, x2: x0, y1: y0, y2: y1 }, a);
  const inside = (t, [lo, hi]) => t >= Math.min(lo, hi) - 1e-9 * Math.abs(hi - lo) && t <= Math.max(lo, hi) + 1e-9 * Math.abs(hi - lo);
  for (const t of (xtickValues || ticks(...sx.domain, xticks)).filter((t) => inside(t, sx.domain))) {
    const x = sx(t);
    svg("line", { x1: x, x2: x, y1: y0, y2: y0 + 4 }, a);
    svg("text", { class: "ipytune-tick", x, y: y0 + TICK + 5, "text-anchor": "middle", "font-size": TICK }, a).textContent = format(t);
  }
  for (const t of (ytickValues || ticks(...sy.domain, yticks)).filter((t) => inside(t, sy.domain))) {
    const y = sy(t);
    svg("line", { x1: x0 - 4, x2: x0, y1: y, y2: y }, a);
    svg("text", { class: "ipytune-tick", x: x0 - 6, y: y + TICK * 0.35, "text-anchor": "end", "font-size": TICK }, a).textContent = format(t);
  }
  if (xlabel) svg("text", { class: "ipytune-label", x: (x0 + x1) / 2, y: y0 + TICK + LABEL + 9, "text-anchor": "middle", "font-size": LABEL }, a).textContent = xlabel;
  if (ylabel)
    svg("text", { class: "ipytune-label", x: LABEL, y: (y0 + y1) / 2, "text-anchor": "middle", "font-size": LABEL, transform: `rotate(-90 ${LABEL} ${(y0 + y1) / 2})` }, a).textContent = ylabel;
  return a;
}

export function pathD(xs, ys, sx, sy) {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const ok = Number.isFinite(xs[i]) && Number.isFinite(ys[i]);
    if (!ok) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${sx(xs[i]).toFixed(2)},${sy(ys[i]).toFixed(2)}`;
    pen = true;
  }
  return d;
}

export function bandD(xs, lo, hi, sx, sy) {
  let d = "";
  for (let i = 0; i < xs.length; i++) d += `${i ? "L" : "M"}${sx(xs[i]).toFixed(2)},${sy(hi[i]).toFixed(2)}`;
  for (let i = xs.length - 1; i >= 0; i--) d += `L${sx(xs[i]).toFixed(2)},${sy(lo[i]).toFixed(2)}`;
  return d + "Z";
}

// Viridis, 9 stops, interpolated.
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
export function viridis(t) {
  if (!Number.isFinite(t)) return [200, 200, 200];
  t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(t), VIRIDIS.length - 2);
  const f = t - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

// A heatmap drawn on a small canvas (one pixel per cell) stretched over the plot area.
// values[j * nx + i] is the cell at column i (x) and row j (y, bottom row first).
export function heatmap(parent, values, nx, ny, width, height, cls) {
  const canvas = html("canvas", { class: cls, width: nx, height: ny }, parent);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.style.imageRendering = "pixelated";
  const [lo, hi] = extent(values);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(nx, ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const [r, g, b] = viridis((values[j * nx + i] - lo) / (hi - lo || 1));
      const p = ((ny - 1 - j) * nx + i) * 4;
      img.data[p] = r;
      img.data[p + 1] = g;
      img.data[p + 2] = b;
      img.data[p + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

// Arrays may come as JSON lists or as binary buffers (DataView / ArrayBuffer of float64).
export function floats(v) {
  if (!v) return new Float64Array(0);
  if (Array.isArray(v)) return Float64Array.from(v, (x) => (x === null ? NaN : x));
  if (v instanceof DataView) return new Float64Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (v instanceof ArrayBuffer) return new Float64Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Float64Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  return new Float64Array(0);
}

export function bytes(v) {
  if (!v) return new Uint8Array(0);
  if (v instanceof DataView) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return Uint8Array.from(v);
  return new Uint8Array(0);
}

// model.save_changes() needs a kernel; in exported HTML the change stays local, which is what we want.
export function push(model) {
  try {
    model.save_changes();
  } catch (e) {
    /* no kernel: the local change already redrew the view */
  }
}
