"""Grid vs random search on the same budget (Bergstra & Bengio, 2012), interactive.

On a function where one parameter matters and the other barely does, a grid of
``n × n`` points tries only ``n`` distinct values of the parameter that matters;
random search tries as many as it has trials. Every budget is precomputed into
the widget state, so the budget slider works without a kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import anywidget
import numpy as np
import traitlets

from ipytune.widgets._bundle import bundle, stylesheet
from ipytune.widgets._state import Presentable, rounded

MAX_BUDGET = 36
BACKGROUND = 40
PEAK = 0.71  # between the points of small grids, as in the paper's figure
WIDTH = 0.08  # of the bump in the important parameter
# How much of f's range the important parameter owns; the importance slider steps through these.
WEIGHTS = (0.5, 0.75, 0.9, 0.96, 0.99)
TOP_Q = 0.1  # "the top 10 % of the important parameter": the band around the peak


class CoverageExplorer(Presentable, anywidget.AnyWidget):
    """Sample sets per budget (``data``), the budget shown (``budget_index``) and, for the demo
    function, the importance shown (``weight_index`` into ``data["weights"]``)."""

    _esm = bundle("coverage")
    _css = stylesheet("coverage")
    data = traitlets.Dict().tag(sync=True)
    budget_index = traitlets.Int(0).tag(sync=True)
    weight_index = traitlets.Int(0).tag(sync=True)

    @property
    def budget(self) -> int:
        return int(self.data["budgets"][self.budget_index])

    @property
    def importance(self) -> float | None:
        weights = self.data.get("weights")
        return float(weights[self.weight_index]) if weights else None

    def __repr__(self) -> str:
        return summary(self.data, self.budget_index, self.importance)


def coverage_explorer(
    budget: int = 9, important: str = "x", seed: int = 0, importance: float = 0.96, present: bool | None = None
) -> CoverageExplorer:
    """Grid and random search side by side, ``budget`` trials each.

    The function is ``f = w·bump(important) + (1 − w)·ripple(unimportant)`` on [0, 1]², both parts
    ranging over [0, 1]: ``importance`` is ``w``, one of 0.5, 0.75, 0.9, 0.96, 0.99, and a slider
    changes it. ``present=True`` draws at slide size (default: :func:`ipytune.widgets.presentation`).
    """
    data = coverage_data(budget, important, seed)
    if importance not in WEIGHTS:
        raise ValueError(f"coverage_explorer: importance={importance!r} must be one of {', '.join(map(str, WEIGHTS))}.")
    extra = {} if present is None else {"present": bool(present)}
    return CoverageExplorer(
        data=data, budget_index=data["budgets"].index(budget), weight_index=WEIGHTS.index(importance), **extra
    )


def bump(a: Any) -> Any:
    """The important parameter's part of f: a narrow bump, 1 at PEAK, 0 far from it."""
    return np.exp(-(((np.asarray(a, dtype=float) - PEAK) / WIDTH) ** 2))


def ripple(b: Any) -> Any:
    """The unimportant parameter's part of f: a ripple over [0, 1]."""
    return 0.5 * (1 + np.sin(3 * np.pi * np.asarray(b, dtype=float)))


def objective(x: Any, y: Any, important: str = "x", importance: float = 0.96) -> Any:
    """The demo function on [0, 1]²: ``importance`` of its range from the important parameter."""
    a, b = (x, y) if important == "x" else (y, x)
    return importance * bump(a) + (1 - importance) * ripple(b)


def coverage_data(budget: int = 9, important: str = "x", seed: int = 0) -> dict[str, Any]:
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= 400:
        raise ValueError(f"coverage_explorer: budget={budget!r} must be an integer from 1 to 400.")
    if important not in ("x", "y"):
        raise ValueError(f"coverage_explorer: important={important!r} must be 'x' or 'y'.")
    budgets = list(range(1, max(MAX_BUDGET, budget) + 1))
    pool = np.random.default_rng(seed).random((budgets[-1], 2))  # budget b takes the first b points
    k = 0 if important == "x" else 1  # the important axis
    grid_frames, random_frames = [], []
    for b in budgets:
        rows = math.isqrt(b)
        cols = b // rows  # rows × cols <= b points; the rest of the budget cannot fill another row
        gx, gy = np.meshgrid((np.arange(cols) + 0.5) / cols, (np.arange(rows) + 0.5) / rows)
        grid_frames.append(_demo_frame(gx.ravel(), gy.ravel(), important))
        random_frames.append(_demo_frame(pool[:b, 0], pool[:b, 1], important))
    line = np.linspace(0, 1, BACKGROUND)
    names = ["important", "unimportant"] if k == 0 else ["unimportant", "important"]
    return {
        "title": "Grid vs random search · one parameter matters, the other barely does",
        "axes": [{"name": names[0], "range": [0.0, 1.0]}, {"name": names[1], "range": [0.0, 1.0]}],
        "important": k,
        "budgets": budgets,
        "maximize": True,
        "weights": list(WEIGHTS),
        # f = w·bump(important) + (1 − w)·ripple(unimportant): the front-end composes it for any w
        "parts": {"at": rounded(line), "bump": rounded(bump(line)), "ripple": rounded(ripple(line))},
        "band": [PEAK - TOP_Q / 2, PEAK + TOP_Q / 2],
        "top_q": TOP_Q,
        "panels": [{"title": "grid", "frames": grid_frames}, {"title": "random", "frames": random_frames}],
    }


def _demo_frame(xs: Any, ys: Any, important: str) -> dict[str, Any]:
    a, b = (xs, ys) if important == "x" else (ys, xs)
    frame = _frame(xs, ys, objective(xs, ys, important), True)
    frame["bump"], frame["ripple"] = rounded(bump(a)), rounded(ripple(b))
    return frame


def study_coverage(results: Sequence[Any], x: str | None = None, y: str | None = None) -> dict[str, Any]:
    """The same view for real searches: their trials on two parameters, budget = first k trials."""
    from IPython.core.error import UsageError

    first = results[0]
    names = _param_names(first)
    x = x or (names[0] if names else None)
    y = y or next((n for n in names if n != x), None)
    for result in results:
        have = _param_names(result)
        missing = [n for n in (x, y) if n is None or n not in have]
        if missing:
            raise UsageError(
                f"coverage(x=..., y=...): study {result.study.study_name!r} has parameters "
                f"{', '.join(have) or '(none)'}; name two of them (got x={x!r}, y={y!r})."
            )
    assert x is not None
    assert y is not None
    axes = [_axis(results, x), _axis(results, y)]
    longest = max(len(_complete(r)) for r in results)
    if longest == 0:
        raise UsageError("coverage(): no completed trial to show yet.")
    budgets = list(range(1, longest + 1))
    panels = []
    for result in results:
        trials = _complete(result)
        xs = np.array([_position(axes[0], t.params[x]) for t in trials], dtype=float)
        ys = np.array([_position(axes[1], t.params[y]) for t in trials], dtype=float)
        vs = np.array([t.value for t in trials], dtype=float)
        frames = [_frame(xs[:b], ys[:b], vs[:b], result.maximize) for b in budgets]
        panels.append({"title": f"{result.method} · {result.study.study_name}", "frames": frames})
    return {
        "title": f"Coverage of {x} × {y}" + (" · side by side" if len(results) > 1 else ""),
        "axes": axes,
        "budgets": budgets,
        "maximize": first.maximize,
        "panels": panels,
    }


def _complete(result: Any) -> list[Any]:
    return [t for t in result.study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]


def _param_names(result: Any) -> list[str]:
    names: dict[str, None] = {}
    for t in result.study.get_trials(deepcopy=False):
        names.update(dict.fromkeys(t.params))
    return list(names)


def _axis(results: Sequence[Any], name: str) -> dict[str, Any]:
    """Numbers on a linear (or log) axis; anything else as evenly spaced categories."""
    values = [t.params[name] for r in results for t in r.study.get_trials(deepcopy=False) if name in t.params]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        lo, hi = float(min(values)), float(max(values))
        log = lo > 0 and hi / lo >= 100
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        pad = (hi - lo) * 0.05 or 0.5
        return {"name": f"log10({name})" if log else name, "range": [lo - pad, hi + pad], "log": log}
    labels = list(dict.fromkeys(str(v) for v in values))
    return {"name": name, "range": [-0.5, len(labels) - 0.5], "labels": labels}


def _position(axis: dict[str, Any], value: Any) -> float:
    if "labels" in axis:
        return float(axis["labels"].index(str(value)))
    return math.log10(value) if axis.get("log") else float(value)


def _frame(xs: Any, ys: Any, values: Any, maximize: bool) -> dict[str, Any]:
    values = np.asarray(values, dtype=float)
    best = int(np.argmax(values) if maximize else np.argmin(values)) if len(values) else -1
    return {
        "x": rounded(xs),
        "y": rounded(ys),
        "value": rounded(values),
        "distinct_x": len(set(np.round(np.asarray(xs, dtype=float), 9))),
        "distinct_y": len(set(np.round(np.asarray(ys, dtype=float), 9))),
        "best": rounded([values[best]])[0] if best >= 0 else None,
        "best_index": best,
    }


def summary(data: dict[str, Any], index: int = 0, importance: float | None = None) -> str:
    budget = data["budgets"][index]
    lines = [f"{data['title']} · budget {budget}" + ("" if importance is None else f" · importance {importance}")]
    for panel in data["panels"]:
        frame = panel["frames"][min(index, len(panel["frames"]) - 1)]
        best_value = frame["best"]
        if importance is not None and frame["x"]:  # the demo function at the importance shown
            values = importance * np.array(frame["bump"]) + (1 - importance) * np.array(frame["ripple"])
            best_value = float(values.max())
        best = "—" if best_value is None else f"{best_value:.4g}"
        lines.append(
            f"  {panel['title']:<24} {len(frame['x']):>4} points · {frame['distinct_x']} distinct "
            f"{data['axes'][0]['name']} · {frame['distinct_y']} distinct {data['axes'][1]['name']} · best {best}"
        )
    return "\n".join(lines)
