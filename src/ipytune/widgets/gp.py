"""GP surrogate explorer: Bayesian optimisation step by step, with bayes_opt's own GP.

Every frame is computed here, in Python, by the bayesian-optimization package:
``optimizer.suggest()`` fits its GP and maximises its acquisition function (the
next point), ``optimizer.predict(..., return_std=True, fit_gp=False)`` reads the
same fitted GP on a grid (the GP posterior's mean and σ), and the acquisition
object's ``base_acq`` scores the grid. Nothing of the GP is re-implemented. The
optimizer is the one ``--method gp`` uses (``search.samplers.gp.make_optimizer``).
The frames travel in the widget state and the front-end (``js/gp_explorer.js``)
only picks one, so Play / Step / the scrubber work without a kernel.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import traitlets

from ipytune.widgets._bundle import bundle, stylesheet
from ipytune.widgets._state import rounded

if TYPE_CHECKING:
    from ipytune.search.samplers.gp import Acquisition

GRID_1D = 200
GRID_2D = 40
MAX_STUDY_FRAMES = 40


class GPExplorer(anywidget.AnyWidget):
    """Frames of a GP search (``data``) and the one shown (``frame``)."""

    _esm = bundle("gp_explorer")
    _css = stylesheet("gp_explorer")
    data = traitlets.Dict().tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    show_truth = traitlets.Bool(True).tag(sync=True)
    interval_ms = traitlets.Int(800).tag(sync=True)

    def __repr__(self) -> str:
        return summary(self.data, self.frame)


def gp_explorer(
    f: Callable[..., float] | None = None,
    bounds: Sequence[float] | Mapping[str, Sequence[float]] = (-5, 5),
    init_points: int = 3,
    n_iter: int = 7,
    acquisition: Acquisition = "ucb",
    seed: int | None = 42,
) -> GPExplorer:
    """Bayesian optimisation of ``f`` over ``bounds``, step by step.

    ``bounds`` is ``(low, high)`` for one parameter ``x`` (``f(x)``), or a dict of one or
    two names to ``(low, high)`` (``f(**point)``); two names give heatmaps of the GP mean,
    σ and acquisition. The default ``f`` is the lecture's ``-(x - 2)**2 + 1``.
    """
    return GPExplorer(data=gp_frames(f, bounds, init_points, n_iter, acquisition, seed))


# -- frames of a fresh search ----------------------------------------------------------------------
def gp_frames(
    f: Callable[..., float] | None = None,
    bounds: Sequence[float] | Mapping[str, Sequence[float]] = (-5, 5),
    init_points: int = 3,
    n_iter: int = 7,
    acquisition: Acquisition = "ucb",
    seed: int | None = 42,
) -> dict[str, Any]:
    """The explorer's state: ``init_points`` random points, then ``n_iter`` GP steps (one frame each)."""
    pbounds = _check_bounds(bounds)
    title = _title(f, list(pbounds), acquisition)
    if f is None:
        f = _default_function(list(pbounds))
    if not callable(f):
        raise ValueError(f"gp_explorer: f must be a function of {', '.join(pbounds)}, got {type(f).__name__}.")
    if isinstance(init_points, bool) or not isinstance(init_points, int) or init_points < 1:
        raise ValueError(f"gp_explorer: init_points={init_points!r} must be an integer >= 1 (random points first).")
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or not 0 <= n_iter <= 200:
        raise ValueError(f"gp_explorer: n_iter={n_iter!r} must be an integer from 0 to 200.")
    optimizer = _optimizer(pbounds, acquisition, seed)
    grid = _grid(pbounds)

    def evaluate(point: Mapping[str, Any]) -> float:
        value = float(f(**{k: float(v) for k, v in point.items()}))
        if not math.isfinite(value):
            raise ValueError(f"gp_explorer: f returned {value} at {dict(point)}; it must return a finite number.")
        return value

    for point in optimizer.random_sample(init_points):
        optimizer.register(params=point, target=evaluate(point))
    frames = []
    for step in range(n_iter + 1):
        nxt = optimizer.suggest()  # fits the GP and maximises the acquisition function
        frames.append(_frame(optimizer, grid, nxt))
        if step < n_iter:
            optimizer.register(params=nxt, target=evaluate(nxt))
    names = list(pbounds)
    truth = [evaluate(dict(zip(names, p, strict=True))) for p in grid.points]
    return _state(names, pbounds, grid, frames, acquisition, truth, title=title)


# -- frames of a finished --method gp study ----------------------------------------------------------
def study_frames(result: Any, params: str | Sequence[str] | None = None) -> dict[str, Any]:
    """Replay a ``--method gp`` study: the GP after each trial, on a 1-D slice or a 2-D pair.

    The other parameters stay at the best trial's values; the next point of each frame is
    the trial the study really ran next.
    """
    from IPython.core.error import UsageError

    from ipytune.search.space import ChoiceParam

    sampler: Any = getattr(result, "sampler", None)
    if getattr(result, "method", None) != "gp" or not hasattr(sampler, "optimizer"):
        raise UsageError(
            "gp_explorer() needs the result of a %%tune --method gp search run in this session "
            f"(this one is --method {getattr(result, 'method', '?')})."
        )
    axes = {n: a for n, a in sampler.axes.items() if a.constant is None}  # constants: bayes_opt never sees them
    numeric = [n for n, a in axes.items() if not isinstance(a.param, ChoiceParam)]
    chosen = [params] if isinstance(params, str) else list(params or numeric[:2])
    unknown = [n for n in chosen if n not in numeric]
    if unknown or not 1 <= len(chosen) <= 2:
        raise UsageError(
            f"gp_explorer(params=...): name one or two numeric parameters of the search, from "
            f"{', '.join(numeric) or '(none)'}; got {chosen}."
        )
    study = result.study
    sign = 1.0 if result.maximize else -1.0
    trials = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and set(axes) <= set(t.params)]
    if len(trials) < 2:
        raise UsageError("gp_explorer() needs at least two completed trials to fit a GP.")
    best = sampler.to_bayes(result.best_trial.params)
    pbounds = {n: _numeric_bound(sampler.bounds[n]) for n in chosen}
    grid = _grid(pbounds)
    acquisition = sampler.acquisition
    optimizer = _optimizer(sampler.bounds, acquisition, 0)
    full_grid = [{**best, **dict(zip(chosen, p, strict=True))} for p in grid.points]
    points = [sampler.to_bayes(t.params) for t in trials]
    steps = list(range(2, len(trials) + 1))
    if len(steps) > MAX_STUDY_FRAMES:  # long studies: evenly spaced frames, always the last
        steps = sorted({steps[round(i * (len(steps) - 1) / (MAX_STUDY_FRAMES - 1))] for i in range(MAX_STUDY_FRAMES)})
    frames = []
    registered = 0
    for k in steps:
        while registered < k:
            optimizer.register(params=points[registered], target=sign * trials[registered].value)
            registered += 1
        nxt = points[k] if k < len(points) else None
        frames.append(_frame(optimizer, grid, nxt, full_grid=full_grid, names=chosen, sign=sign))
    labels = [f"log({n})" if axes[n].param.log else n for n in chosen]
    fixed = {n: v for n, v in result.best_params.items() if n not in chosen}
    title = f"GP of study {study.study_name!r}" + (
        f" · others at best: {', '.join(f'{k}={v}' for k, v in fixed.items())}" if fixed else ""
    )
    return _state(labels, pbounds, grid, frames, acquisition, None, title=title)


# -- internals --------------------------------------------------------------------------------------
class _Grid:
    def __init__(self, axes: list[np.ndarray]) -> None:
        self.axes = axes
        self.points: list[tuple[float, ...]]
        if len(axes) == 1:
            self.points = [(float(x),) for x in axes[0]]
        else:  # row-major with x fastest: points[j * nx + i] = (x[i], y[j])
            self.points = [(float(x), float(y)) for y in axes[1] for x in axes[0]]


def _grid(pbounds: Mapping[str, Sequence[float]]) -> _Grid:
    n = GRID_1D if len(pbounds) == 1 else GRID_2D
    return _Grid([np.linspace(float(lo), float(hi), n) for lo, hi in (b[:2] for b in pbounds.values())])


def _check_bounds(bounds: Any) -> dict[str, tuple[float, float]]:
    named = dict(bounds) if isinstance(bounds, Mapping) else {"x": bounds}
    if not 1 <= len(named) <= 2:
        raise ValueError(f"gp_explorer: bounds names {len(named)} parameters; give one (low, high) or a dict of two.")
    out = {}
    for name, bound in named.items():
        try:
            lo, hi = (float(v) for v in bound)
        except (TypeError, ValueError):
            raise ValueError(f"gp_explorer: bounds for {name!r} must be (low, high), got {bound!r}.") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"gp_explorer: bounds for {name!r} must be finite with low < high, got {bound!r}.")
        out[str(name)] = (lo, hi)
    return out


def _numeric_bound(bound: Sequence[Any]) -> tuple[float, float]:
    return float(bound[0]), float(bound[1])


def _default_function(names: list[str]) -> Callable[..., float]:
    if len(names) == 1:
        return lambda **p: -((p[names[0]] - 2) ** 2) + 1
    return lambda **p: -((p[names[0]] - 2) ** 2) - 0.5 * (p[names[1]] + 1) ** 2 + 1


def _optimizer(pbounds: Mapping[str, Any], acquisition: str, seed: int | None) -> Any:
    """A fresh bayes_opt optimizer as ``--method gp`` builds it, with ``acquisition`` (its kind)."""
    from bayes_opt import acquisition as acq

    from ipytune.search.samplers.gp import ACQUISITIONS, make_optimizer

    if acquisition == "ucb":
        function: Any = acq.UpperConfidenceBound(kappa=2.576)  # bayes_opt's default, labelled in _state
    elif acquisition == "ei":
        function = acq.ExpectedImprovement(xi=0.01)  # as BayesOptSampler(acquisition="ei")
    else:
        raise ValueError(f"gp_explorer: acquisition={acquisition!r} is not one of {', '.join(ACQUISITIONS)}.")
    return make_optimizer(pbounds, function, random_state=seed)


def _frame(
    optimizer: Any,
    grid: _Grid,
    nxt: Mapping[str, Any] | None,
    full_grid: list[dict[str, Any]] | None = None,
    names: list[str] | None = None,
    sign: float = 1.0,
) -> dict[str, Any]:
    """What one step shows; the GP is the one bayes_opt fitted for ``suggest()`` (or fitted here)."""
    from ipytune.search.samplers.gp import set_incumbent

    names = names or list(optimizer.space.keys)
    queries = full_grid or [dict(zip(names, p, strict=True)) for p in grid.points]
    acquisition = optimizer.acquisition_function
    fit = nxt is None or full_grid is not None  # suggest() has fitted it otherwise
    if fit:
        set_incumbent(optimizer)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        mean, std = optimizer.predict(queries, return_std=True, fit_gp=fit)
        acq = np.nan_to_num(acquisition.base_acq(mean, std), nan=0.0)
        next_acq = None
        if nxt is not None:
            next_query = {**queries[0], **{k: nxt[k] for k in names}} if full_grid else dict(nxt)
            m, s = optimizer.predict([next_query], return_std=True, fit_gp=False)
            next_acq = float(np.nan_to_num(acquisition.base_acq(m, s), nan=0.0)[0])
        # the same GP at the observed points: the mean interpolates them, σ vanishes there
        at_points = [optimizer.space.array_to_params(p) for p in optimizer.space.params]
        obs_mean, obs_std = optimizer.predict(at_points, return_std=True, fit_gp=False)
    keys = list(optimizer.space.keys)
    params = np.asarray(optimizer.space.params)
    targets = np.asarray(optimizer.space.target) * sign
    return {
        "points": [rounded(params[:, keys.index(n)]) for n in names],
        "targets": rounded(targets),
        "mean": rounded(np.asarray(mean) * sign),
        "std": rounded(std),
        "acq": rounded(acq),
        "obs_mean": rounded(np.asarray(obs_mean) * sign),
        "obs_std": rounded(obs_std),
        "next": None if nxt is None else [float(nxt[n]) for n in names],
        "next_acq": next_acq,
        "best": float(np.max(targets) if sign > 0 else np.min(targets)),
    }


def _state(
    names: list[str],
    pbounds: Mapping[str, Sequence[float]],
    grid: _Grid,
    frames: list[dict[str, Any]],
    acquisition: str,
    truth: list[float] | None,
    title: str,
) -> dict[str, Any]:
    dims = len(names)
    return {
        "title": title,
        "dims": dims,
        "names": names,
        "bounds": [[float(b[0]), float(b[1])] for b in pbounds.values()],
        "grid": rounded(grid.axes[0]) if dims == 1 else {"x": rounded(grid.axes[0]), "y": rounded(grid.axes[1])},
        "truth": None if truth is None else rounded(truth),
        "acquisition": acquisition,
        "acquisition_label": {"ucb": "UCB (κ = 2.576)", "ei": "expected improvement (ξ = 0.01)"}[acquisition],
        "frames": frames,
    }


def _title(f: Callable[..., Any] | None, names: list[str], acquisition: str) -> str:
    if f is None:
        what = "the lecture's f(x) = -(x-2)² + 1" if len(names) == 1 else "a default quadratic"
    else:
        what = getattr(f, "__name__", "f")
    return f"Bayesian optimisation of {what} · GP (bayes_opt) · {acquisition.upper()}"


def summary(data: Mapping[str, Any], frame: int = -1) -> str:
    """The explorer as text, for terminals and other places without a widget front-end."""
    frames = data.get("frames") or []
    if not frames:
        return "GP explorer (no frames)"
    lines = [data.get("title", "GP explorer"), f"{len(frames)} steps · acquisition {data.get('acquisition')}"]
    names = data.get("names", [])
    for i, f in enumerate(frames):
        nxt = (
            ""
            if f["next"] is None
            else ", next " + ", ".join(f"{n}={v:.4g}" for n, v in zip(names, f["next"], strict=False))
        )
        lines.append(f"  step {i + 1}: {len(f['targets'])} observed, best {f['best']:.6g}{nxt}")
    return "\n".join(lines)
