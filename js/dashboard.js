// Live search dashboard: progress, elapsed / ETA, best-so-far curve (every trial a point,
// the best so far a step line), best parameters, counts, and a Stop button.
import { axes, bytes, clear, extent, floats, fmt, html, linear, push, svg } from "./ui.js";
import "./styles.css";
import "./dashboard.css";

const W = 520;
const H = 200;
const M = { left: 50, right: 12, top: 10, bottom: 30 };
const STATE_COLOUR = ["#4c78a8", "#bbb", "#e45756"]; // complete, pruned, failed

function seconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function render({ model, el }) {
  const root = html("div", { class: "ipytune-w ipytune-dashboard" }, el);
  const title = html("div", { class: "ipytune-title" }, root);
  const bar = html("div", { class: "ipytune-bar" }, root);
  const progress = html("progress", { class: "ipytune-progress", max: 1, value: 0 }, bar);
  const text = html("span", { class: "ipytune-progress-text" }, bar);
  const stop = html("button", { class: "ipytune-stop", title: "End the search after the current trial" }, bar, "■ Stop");
  const counts = html("div", { class: "ipytune-counts ipytune-note" }, root);
  const plot = html("div", { class: "ipytune-dash-plot" }, root);
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
    title.textContent = model.get("title");
    progress.max = Math.max(total, 1);
    progress.value = done;
    text.textContent = `${done} / ${total} · elapsed ${seconds(model.get("elapsed"))}` +
      (status === "running" ? ` · ETA ${seconds(model.get("eta"))}` : ` · ${status}`);
    el.dataset.status = status;
    const canStop = model.get("can_stop") && status === "running";
    stop.style.display = status === "running" ? "" : "none";
    if (!model.get("stop_requested")) stop.disabled = !canStop;
    stop.title = model.get("stop_note") || "End the search after the current trial";
    const c = model.get("counts") || {};
    counts.textContent = `complete ${c.COMPLETE || 0} · pruned ${c.PRUNED || 0} · failed ${c.FAIL || 0}`;
    const bv = model.get("best_value");
    const params = Object.entries(model.get("best_params") || {}).map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : v}`);
    best.textContent = bv === null || bv === undefined ? "best: —" : `best ${fmt(bv)} (trial ${model.get("best_number")}) · ${params.join(", ")}`;
    curve(plot, floats(model.get("values")), bytes(model.get("states")), model.get("maximize"));
  }
  for (const k of ["title", "total", "done", "status", "values", "best_value", "can_stop", "counts"]) model.on(`change:${k}`, draw);
  draw();
}

function curve(parent, values, states, maximize) {
  clear(parent);
  const root = svg("svg", { class: "ipytune-dash-svg", width: W, height: H }, parent);
  const n = values.length;
  const xs = Array.from({ length: n }, (_, i) => i);
  const sx = linear(0, Math.max(n - 1, 1), M.left, W - M.right);
  const sy = linear(...extent(values), H - M.bottom, M.top);
  axes(root, sx, sy, { xlabel: "trial", ylabel: "objective" });
  // best so far as a step line over the completed trials
  let bestSoFar = NaN;
  let d = "";
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (states[i] === 0 && Number.isFinite(v) && (!Number.isFinite(bestSoFar) || (maximize ? v > bestSoFar : v < bestSoFar))) {
      if (Number.isFinite(bestSoFar)) d += `L${sx(i).toFixed(1)},${sy(bestSoFar).toFixed(1)}`;
      bestSoFar = v;
      d += `${d ? "L" : "M"}${sx(i).toFixed(1)},${sy(v).toFixed(1)}`;
    }
  }
  if (Number.isFinite(bestSoFar)) d += `L${sx(Math.max(n - 1, 0)).toFixed(1)},${sy(bestSoFar).toFixed(1)}`;
  svg("path", { class: "ipytune-best-line", d, fill: "none", stroke: "#f58518", "stroke-width": 2 }, root);
  const yFail = H - M.bottom - 4;
  for (let i = 0; i < n; i++) {
    const ok = Number.isFinite(values[i]);
    svg("circle", {
      class: "ipytune-trial", cx: sx(xs[i]), cy: ok ? sy(values[i]) : yFail, r: 3,
      fill: STATE_COLOUR[states[i]] || "#e45756", "fill-opacity": 0.8,
    }, root);
  }
}

export default { render };
