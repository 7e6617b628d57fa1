"""GP surrogate explorer: Bayesian optimisation step by step, with bayes_opt's own GP.

Every frame is computed here, in Python, by the bayesian-optimization package:
``optimizer.suggest()`` fits its GP and maximises its acquisition function (the
next point), ``optimizer.predict(..., fit_gp=False)`` reads the same fitted GP on a
grid (mean, σ, and the covariance that posterior samples are drawn from), and the
acquisition classes' ``base_acq`` score the grid for every setting of the acquisition
switch (UCB / EI / PI, κ or ξ). Nothing of the GP is re-implemented. The frames travel
in the widget state and the front-end (``js/gp_explorer.js``) only picks one, so Play,
Step, the switch, the samples and the race all work without a kernel.

One change to bayes_opt's defaults, on purpose: its Matern length-scale may shrink to
1e-5, and on three points it does (seeds 42 and 0): the mean is flat between spikes
at the observations that no drawing shows. The explorer bounds the length-scale below
at 1/20 of the parameter's range, and a frame whose fit sits on that bound says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

import anywidget
import numpy as np
import traitlets

from ipytune.widgets._bundle import bundle, stylesheet
from ipytune.widgets._state import Presentable, rounded

GRID_1D = 200
GRID_2D = 40
MAX_STUDY_FRAMES = 40
N_SAMPLES = 3
# The length-scale's floor, as a share of the parameter's range: shorter wiggles need more points
# than a lecture shows, and the 2-D heatmaps' 40 cells could not draw them.
LENGTH_SCALE_FLOOR = {1: 0.05, 2: 0.1}

Kind = Literal["ucb", "ei", "pi"]
KINDS: tuple[Kind, ...] = get_args(Kind)
DEFAULT = {"ucb": 2.576, "ei": 0.01, "pi": 0.01}  # bayes_opt's UCB κ; --method gp's EI ξ
STOPS = {"ucb": (0.0, 0.5, 1.0, 2.576, 5.0, 10.0), "ei": (0.0, 0.01, 0.1, 1.0), "pi": (0.0, 0.01, 0.1, 1.0)}
SYMBOL = {"ucb": "κ", "ei": "ξ", "pi": "ξ"}
FORMULA = {
    "ucb": "UCB(x) = μ(x) + κ·σ(x)",
    "ei": "EI(x) = E[max(f(x) − f⁺ − ξ, 0)]",
    "pi": "PI(x) = P(f(x) > f⁺ + ξ)",
}


class GPExplorer(Presentable, anywidget.AnyWidget):
    """Frames of a GP search (``data``) and what is shown of them.

    ``frame``: the step; ``view``: ``"explore"`` (the GP and its acquisition) or ``"race"``
    (two settings side by side); ``kind`` / ``stop``: the acquisition shown (``""`` / ``-1``:
    the one the search ran with); ``show_samples``; ``y_range``: ``"optimum"`` or ``"all"``.
    """

    _esm = bundle("gp_explorer")
    _css = stylesheet("gp_explorer")
    data = traitlets.Dict().tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    show_truth = traitlets.Bool(True).tag(sync=True)
    show_samples = traitlets.Bool(False).tag(sync=True)
    view = traitlets.Unicode("explore").tag(sync=True)
    kind = traitlets.Unicode("").tag(sync=True)
    stop = traitlets.Int(-1).tag(sync=True)
    y_range = traitlets.Unicode("optimum").tag(sync=True)
    interval_ms = traitlets.Int(800).tag(sync=True)

    def __repr__(self) -> str:
        return summary(self.data, self.frame)


def gp_explorer(
    f: Callable[..., float] | None = None,
    bounds: Sequence[float] | Mapping[str, Sequence[float]] = (-5, 5),
    init_points: int = 3,
    n_iter: int = 7,
    acquisition: Kind = "ucb",
    seed: int | None = 42,
    *,
    kappa: float | None = None,
    xi: float | None = None,
    race: Any = "random",
    present: bool | None = None,
) -> GPExplorer:
    """Bayesian optimisation of ``f`` over ``bounds``, step by step.

    ``bounds`` is ``(low, high)`` for one parameter ``x`` (``f(x)``), or a dict of one or
    two names to ``(low, high)`` (``f(**point)``); two names give heatmaps of the GP mean,
    σ and acquisition. The default ``f`` is the lecture's ``-(x - 2)**2 + 1``.
    ``acquisition`` is ``"ucb"`` (with ``kappa``), ``"ei"`` or ``"pi"`` (with ``xi``).
    ``race`` (1-D): the search raced against ``"random"`` search, another setting
    (``("ucb", 10)``, ``"ei"``), a pair of settings, or ``None`` for no race.
    ``present=True`` draws at slide size (default: :func:`ipytune.widgets.presentation`).
    """
    data = gp_frames(f, bounds, init_points, n_iter, acquisition, seed, kappa=kappa, xi=xi, race=race)
    return GPExplorer(data=data, **({} if present is None else {"present": bool(present)}))


# -- frames of a fresh search ----------------------------------------------------------------------
def gp_frames(
    f: Callable[..., float] | None = None,
    bounds: Sequence[float] | Mapping[str, Sequence[float]] = (-5, 5),
    init_points: int = 3,
    n_iter: int = 7,
    acquisition: Kind = "ucb",
    seed: int | None = 42,
    *,
    kappa: float | None = None,
    xi: float | None = None,
    race: Any = None,
) -> dict[str, Any]:
    """The explorer's state: ``init_points`` random points, then ``n_iter`` GP steps (one frame each)."""
    pbounds = _check_bounds(bounds)
    names = list(pbounds)
    title = _title(f, names, acquisition)
    if f is None:
        f = _default_function(names)
    if not callable(f):
        raise ValueError(f"gp_explorer: f must be a function of {', '.join(pbounds)}, got {type(f).__name__}.")
    if isinstance(init_points, bool) or not isinstance(init_points, int) or init_points < 1:
        raise ValueError(f"gp_explorer: init_points={init_points!r} must be an integer >= 1 (random points first).")
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or not 0 <= n_iter <= 200:
        raise ValueError(f"gp_explorer: n_iter={n_iter!r} must be an integer from 0 to 200.")
    setting = _setting(acquisition, xi if acquisition in ("ei", "pi") else kappa, what="acquisition")
    if (kappa is not None and acquisition != "ucb") or (xi is not None and acquisition == "ucb"):
        raise ValueError(f"gp_explorer: acquisition={acquisition!r} takes {'kappa' if acquisition == 'ucb' else 'xi'}.")
    grid = _grid(pbounds)

    def evaluate(point: Mapping[str, Any]) -> float:
        value = float(f(**{k: float(v) for k, v in point.items()}))
        if not math.isfinite(value):
            raise ValueError(f"gp_explorer: f returned {value} at {dict(point)}; it must return a finite number.")
        return value

    contenders = _race_settings(race, setting) if len(names) == 1 else []
    frames = _search(pbounds, grid, evaluate, setting, seed, init_points, n_iter, rich=True)
    truth = [evaluate(dict(zip(names, p, strict=True))) for p in grid.points]
    state = _state(names, pbounds, grid, frames, setting, truth, title=title)
    if contenders:
        runs = [
            frames if c == setting else _search(pbounds, grid, evaluate, c, seed, init_points, n_iter, rich=False)
            for c in contenders
        ]
        state["race"] = {
            "labels": [_label(c) for c in contenders],
            "frames": [[_light(fr) for fr in run] for run in runs],
            "best": [[float(f"{v:.6g}") for v in np.maximum.accumulate(run[-1]["targets"])] for run in runs],
            "init_points": init_points,
        }
    return state


def _search(
    pbounds: Mapping[str, Any],
    grid: _Grid,
    evaluate: Callable[[Mapping[str, Any]], float],
    setting: tuple[str, float | None],
    seed: int | None,
    init_points: int,
    n_iter: int,
    rich: bool,
) -> list[dict[str, Any]]:
    """One search: the same random start for every setting (same seed), then a step per frame."""
    optimizer = _optimizer(pbounds, setting, seed)
    for point in optimizer.random_sample(init_points):
        optimizer.register(params=point, target=evaluate(point))
    frames = []
    for step in range(n_iter + 1):
        if setting[0] == "random":
            nxt = optimizer.random_sample(1)[0]
            _fit(optimizer)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn's convergence chatter
                nxt = optimizer.suggest()  # fits the GP and maximises the acquisition function
        frame = _frame(optimizer, grid, nxt, rich=rich, seed=(seed or 0) + step)
        frame["added"] = None if step == 0 else len(frame["targets"]) - 1
        frames.append(frame)
        if step < n_iter:
            optimizer.register(params=nxt, target=evaluate(nxt))
    return frames


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
    setting = (sampler.acquisition, DEFAULT[sampler.acquisition])
    optimizer = _optimizer(sampler.bounds, setting, 0)
    full_grid = [{**best, **dict(zip(chosen, p, strict=True))} for p in grid.points]
    points = [sampler.to_bayes(t.params) for t in trials]
    others = [n for n in axes if n not in chosen]
    spans = {n: float(np.ptp(np.asarray(sampler.bounds[n][:2], dtype=float))) or 1.0 for n in others}
    # how far each trial lies from the drawn slice, in parameter ranges (0: on it)
    off = [max([abs(p[n] - best[n]) / spans[n] for n in others], default=0.0) for p in points]
    steps = list(range(2, len(trials) + 1))
    if len(steps) > MAX_STUDY_FRAMES:  # long studies: evenly spaced frames, always the last
        steps = sorted({steps[round(i * (len(steps) - 1) / (MAX_STUDY_FRAMES - 1))] for i in range(MAX_STUDY_FRAMES)})
    frames = []
    registered = 0
    previous = None
    for k in steps:
        while registered < k:
            optimizer.register(params=points[registered], target=sign * trials[registered].value)
            registered += 1
        nxt = points[k] if k < len(points) else None
        _fit(optimizer)
        frame = _frame(optimizer, grid, nxt, full_grid=full_grid, names=chosen, sign=sign, off=off[:k], seed=k)
        frame["added"] = None if previous is None or previous != k - 1 else k - 1
        previous = k
        frames.append(frame)
    labels = [f"log({n})" if axes[n].param.log else n for n in chosen]
    fixed = {n: v for n, v in result.best_params.items() if n not in chosen}
    title = f"GP of study {study.study_name!r}" + (
        f" · others at the best trial's: {', '.join(f'{k} = {_short(v)}' for k, v in fixed.items())}" if fixed else ""
    )
    state = _state(labels, pbounds, grid, frames, setting, None, title=title, maximize=result.maximize)
    state["next_is_trial"] = True  # the star is the trial the study ran next, not this refit's maximum
    if fixed:
        state["slice"] = (
            f"A slice: {', '.join(fixed)} fixed at the best trial's values. Trials ran all over the space, "
            "so faded points lie off this slice and the GP need not pass through them here."
        )
    return state


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


def _setting(kind: Any, value: Any, what: str) -> tuple[str, float | None]:
    """``(kind, κ or ξ)``; ``("random", None)`` for random search."""
    if kind == "random":
        return ("random", None)
    if kind not in KINDS:
        raise ValueError(f"gp_explorer: {what}={kind!r} is not one of {', '.join(KINDS)}.")
    if value is None:
        return (kind, DEFAULT[kind])
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"gp_explorer: {SYMBOL[kind]} = {value!r} must be a number >= 0.")
    return (kind, float(value))


def _race_settings(race: Any, own: tuple[str, float | None]) -> list[tuple[str, float | None]]:
    """``race`` as two settings: one spec races against the explorer's own setting."""
    if race is None:
        return []

    def spec(s: Any) -> tuple[str, float | None]:
        if isinstance(s, str):
            return _setting(s, None, "race")
        if isinstance(s, tuple | list) and len(s) == 2 and isinstance(s[0], str):
            return _setting(s[0], s[1], "race")
        raise ValueError(
            f"gp_explorer: race={race!r}: give 'random', an acquisition ('ucb', ('ucb', 10), ('ei', 0.1)) "
            "or a pair of them."
        )

    pair = isinstance(race, tuple | list) and len(race) == 2 and not isinstance(race[1], int | float)
    settings = [spec(race[0]), spec(race[1])] if pair else [own, spec(race)]
    if settings[0] == settings[1]:
        raise ValueError(f"gp_explorer: race={race!r} races a setting against itself.")
    return settings


def _label(setting: tuple[str, float | None]) -> str:
    kind, value = setting
    return "random search" if kind == "random" else f"GP · {kind.upper()} {SYMBOL[kind]} = {value:g}"


def _acquisition(setting: tuple[str, float | None]) -> Any:
    from bayes_opt import acquisition as acq

    kind, value = setting
    if kind == "ei":
        return acq.ExpectedImprovement(xi=DEFAULT["ei"] if value is None else value)
    if kind == "pi":
        return acq.ProbabilityOfImprovement(xi=DEFAULT["pi"] if value is None else value)
    return acq.UpperConfidenceBound(kappa=DEFAULT["ucb"] if value is None else value)


def _optimizer(pbounds: Mapping[str, Any], setting: tuple[str, float | None], seed: int | None) -> Any:
    """A fresh bayes_opt optimizer as ``--method gp`` builds it, with the explorer's length-scale floor."""
    from sklearn.gaussian_process.kernels import Matern

    from ipytune.search.samplers.gp import make_optimizer

    optimizer = make_optimizer(pbounds, _acquisition(setting), random_state=seed)
    spans = [float(b[1]) - float(b[0]) for b in pbounds.values()] or [1.0]
    floor = LENGTH_SCALE_FLOOR[min(len(spans), 2)] * min(spans)
    # bayes_opt's kernel (Matern, ν = 2.5) with a floor under its length-scale (see the module docstring)
    optimizer.set_gp_params(
        kernel=Matern(nu=2.5, length_scale=4 * floor, length_scale_bounds=(floor, 1e3 * max(spans)))
    )
    return optimizer


def _fit(optimizer: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer.predict([optimizer.space.array_to_params(optimizer.space.params[0])], fit_gp=True)


def _length_scale(optimizer: Any) -> tuple[float, float]:
    """The fitted length-scale and its floor (``get_params`` reaches the Matern inside bayes_opt's wrapper)."""
    params = optimizer._gp.kernel_.get_params()  # the GP bayes_opt fitted (no public getter); read only
    scale = next(float(np.min(v)) for k, v in params.items() if k.endswith("length_scale"))
    floor = next(float(v[0]) for k, v in params.items() if k.endswith("length_scale_bounds"))
    return scale, floor


def _scores(setting: tuple[str, float | None], mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """bayes_opt's own acquisition function ``setting`` on a grid's mean and σ."""
    function = _acquisition(setting)
    if hasattr(function, "y_max"):
        function.y_max = best  # what its suggest() would set; bayes_opt asks callers of base_acq to set it
    with np.errstate(all="ignore"):
        return np.asarray(np.nan_to_num(function.base_acq(mean, std), nan=0.0, posinf=0.0, neginf=0.0))


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _compact(values: Any) -> list[float]:
    """Four significant digits: enough for a curve drawn a few hundred pixels high, and the
    state (saved in the notebook, carried by exported HTML) stays small."""
    return [float(f"{v:.4g}") for v in np.asarray(values, dtype=float).ravel()]


def _samples(optimizer: Any, queries: list[dict[str, Any]], seed: int) -> list[list[float]]:
    """Draws from the GP posterior on the grid: mean + L·z with the GP's own covariance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean, cov = optimizer.predict(queries, return_cov=True, fit_gp=False)
    cov = np.asarray(cov)
    jitter = 1e-10 * (float(np.max(np.diag(cov))) or 1.0)
    values, vectors = np.linalg.eigh(cov + jitter * np.eye(len(cov)))
    root = vectors * np.sqrt(np.clip(values, 0, None))
    z = np.random.default_rng(seed).standard_normal((len(cov), N_SAMPLES))
    return [_compact(row) for row in (np.asarray(mean)[:, None] + root @ z).T]


def _frame(
    optimizer: Any,
    grid: _Grid,
    nxt: Mapping[str, Any] | None,
    full_grid: list[dict[str, Any]] | None = None,
    names: list[str] | None = None,
    sign: float = 1.0,
    rich: bool = True,
    off: list[float] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """What one step shows; the GP is the one bayes_opt fitted for ``suggest()`` (or ``_fit``)."""
    names = names or list(optimizer.space.keys)
    queries = full_grid or [dict(zip(names, p, strict=True)) for p in grid.points]
    function = optimizer.acquisition_function
    best_seen = float(np.max(optimizer.space.target))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        mean, std = (np.asarray(v) for v in optimizer.predict(queries, return_std=True, fit_gp=False))
        next_acq = None
        if nxt is not None:
            next_query = {**queries[0], **{k: nxt[k] for k in names}} if full_grid else dict(nxt)
            m, s = optimizer.predict([next_query], return_std=True, fit_gp=False)
            kind = next(k for k, cls in _CLASSES().items() if isinstance(function, cls))
            value = getattr(function, "kappa", getattr(function, "xi", None))
            next_acq = float(_scores((kind, value), np.atleast_1d(m), np.atleast_1d(s), best_seen)[0])
    keys = list(optimizer.space.keys)
    params = np.asarray(optimizer.space.params)
    targets = np.asarray(optimizer.space.target) * sign
    shown = mean * sign
    frame: dict[str, Any] = {
        "points": [rounded(params[:, keys.index(n)]) for n in names],
        "targets": rounded(targets),
        "mean": rounded(shown),
        "std": rounded(std),
        "next": None if nxt is None else [float(nxt[n]) for n in names],
        "next_acq": next_acq,
        "best": float(np.max(targets) if sign > 0 else np.min(targets)),
    }
    if off is not None:
        frame["off"] = rounded(off)
    if not rich:
        return frame
    scale, floor = _length_scale(optimizer)
    frame["length_scale"] = float(f"{scale:.4g}")
    if len(names) == 1:
        frame["acqs"] = {k: [_compact(_scores((k, v), mean, std, best_seen)) for v in STOPS[k]] for k in KINDS}
        frame["samples"] = [_compact(np.asarray(s) * sign) for s in _samples(optimizer, queries, seed)]
    else:
        own = next(k for k, cls in _CLASSES().items() if isinstance(function, cls))
        value = getattr(function, "kappa", getattr(function, "xi", None))
        frame["acq"] = _compact(_scores((own, value), mean, std, best_seen))
    frame.update(_honesty(frame, grid, floor, scale, len(names)))
    return frame


def _CLASSES() -> dict[str, type]:  # a table, built once bayes_opt is imported
    from bayes_opt import acquisition as acq

    return {"ucb": acq.UpperConfidenceBound, "ei": acq.ExpectedImprovement, "pi": acq.ProbabilityOfImprovement}


def drawn_at(frame: Mapping[str, Any], grid: Any, where: Sequence[float]) -> float:
    """The drawn mean at ``where``: the 1-D path is straight between grid points, the 2-D grid bilinear."""
    mean = np.asarray(frame["mean"], dtype=float)
    if not isinstance(grid, Mapping):
        return float(np.interp(where[0], np.asarray(grid, dtype=float), mean))
    gx, gy = (np.asarray(grid[k], dtype=float) for k in ("x", "y"))
    z = mean.reshape(len(gy), len(gx))
    i = int(np.clip(np.searchsorted(gx, where[0]) - 1, 0, len(gx) - 2))
    j = int(np.clip(np.searchsorted(gy, where[1]) - 1, 0, len(gy) - 2))
    tx = (where[0] - gx[i]) / (gx[i + 1] - gx[i])
    ty = (where[1] - gy[j]) / (gy[j + 1] - gy[j])
    top = z[j + 1, i] * (1 - tx) + z[j + 1, i + 1] * tx
    bottom = z[j, i] * (1 - tx) + z[j, i + 1] * tx
    return float(bottom * (1 - ty) + top * ty)


def tolerance(frame: Mapping[str, Any]) -> float:
    """How near the drawn mean must pass an observation: 1 % of the drawn range (a pixel or two)."""
    values = np.concatenate([np.asarray(frame["mean"], dtype=float), np.asarray(frame["targets"], dtype=float)])
    return 0.01 * (float(np.ptp(values)) or 1.0)


def _honesty(frame: dict[str, Any], grid: _Grid, floor: float, scale: float, dims: int) -> dict[str, Any]:
    """Whether the drawn mean passes through the observations on the drawing, and if not, why."""
    axes: Any = rounded(grid.axes[0]) if dims == 1 else {"x": rounded(grid.axes[0]), "y": rounded(grid.axes[1])}
    off = frame.get("off") or [0.0] * len(frame["targets"])
    misses = [
        abs(drawn_at(frame, axes, [frame["points"][d][k] for d in range(dims)]) - t)
        for k, t in enumerate(frame["targets"])
        if off[k] == 0
    ]
    worst = max(misses, default=0.0)
    caveat = None
    at_floor = scale <= floor * 1.001
    if worst > tolerance(frame) and at_floor:
        caveat = (
            f"Length-scale at its floor ({floor:.3g}): {len(frame['targets'])} points cannot yet tell a smooth "
            "function from a wiggly one; the GP's bumps at its points are narrower than this drawing's cells."
        )
    elif worst > tolerance(frame):
        caveat = (
            f"The GP misses an observed point by {worst:.3g}: bayes_opt's fit treats it as noise "
            "(points too close together, or values that disagree)."
        )
    elif at_floor:
        caveat = (
            f"Length-scale at its floor ({floor:.3g}): {len(frame['targets'])} points cannot yet tell a "
            "smooth function from a wiggly one, so away from them the GP falls back to its prior."
        )
    return {"miss": float(f"{worst:.3g}"), "caveat": caveat}


def _light(frame: Mapping[str, Any]) -> dict[str, Any]:
    """A race frame: what the side-by-side panels draw."""
    return {
        k: (_compact(frame[k]) if k in ("mean", "std") else frame[k])
        for k in ("points", "targets", "mean", "std", "next")
    }


def _y_ranges(frames: list[dict[str, Any]], truth: list[float] | None, maximize: bool) -> dict[str, list[float]]:
    """The y-axis, fixed for the whole animation: ``optimum`` leaves out the far tail of the worse
    values (so the band near the optimum is readable), ``all`` shows everything."""
    targets = np.concatenate([np.asarray(f["targets"], dtype=float) for f in frames])
    means = np.concatenate([np.asarray(f["mean"], dtype=float) for f in frames])
    pool = np.asarray(truth, dtype=float) if truth is not None else np.concatenate([targets, means])
    everything = np.concatenate([pool, targets, means])
    lo, hi = float(np.min(everything)), float(np.max(everything))
    if maximize:
        top, bottom = float(max(np.max(pool), np.max(targets))), float(np.quantile(pool, 0.25))
    else:
        bottom, top = float(min(np.min(pool), np.min(targets))), float(np.quantile(pool, 0.75))
    span = (top - bottom) or 1.0
    near = [bottom - 0.05 * span, top + 0.12 * span] if maximize else [bottom - 0.12 * span, top + 0.05 * span]
    pad = 0.05 * ((hi - lo) or 1.0)
    return {"optimum": [float(f"{v:.4g}") for v in near], "all": [float(f"{v:.4g}") for v in (lo - pad, hi + pad)]}


def _state(
    names: list[str],
    pbounds: Mapping[str, Sequence[float]],
    grid: _Grid,
    frames: list[dict[str, Any]],
    setting: tuple[str, float | None],
    truth: list[float] | None,
    title: str,
    maximize: bool = True,
) -> dict[str, Any]:
    dims = len(names)
    kind, value = setting
    assert value is not None
    stops: dict[str, list[float]] = {k: list(STOPS[k]) for k in KINDS}
    if value not in stops[kind]:  # the run's own κ / ξ is always a stop of its switch
        stops[kind] = sorted([*stops[kind], value])
        for f in frames:
            if "acqs" in f:
                mean, std = np.asarray(f["mean"]), np.asarray(f["std"])
                best = max(f["targets"]) if maximize else -min(f["targets"])
                sign = 1.0 if maximize else -1.0
                f["acqs"][kind].insert(stops[kind].index(value), _compact(_scores(setting, sign * mean, std, best)))
    return {
        "title": title,
        "dims": dims,
        "names": names,
        "bounds": [[float(b[0]), float(b[1])] for b in pbounds.values()],
        "grid": rounded(grid.axes[0]) if dims == 1 else {"x": rounded(grid.axes[0]), "y": rounded(grid.axes[1])},
        "truth": None if truth is None else rounded(truth),
        "maximize": maximize,
        "acquisition": kind,
        "value": value,
        "acquisition_label": f"{kind.upper()} ({SYMBOL[kind]} = {value:g})",
        "formulas": FORMULA,
        "symbols": SYMBOL,
        "stops": stops,
        "y_ranges": _y_ranges(frames, truth, maximize) if dims == 1 else None,
        "frames": frames,
        "race": None,
    }


def _title(f: Callable[..., Any] | None, names: list[str], acquisition: str) -> str:
    signature = f"f({', '.join(names)})"
    if f is None:
        what = f"the lecture's {signature} = -(x-2)² + 1" if len(names) == 1 else f"a quadratic {signature}"
    else:
        name = getattr(f, "__name__", "")
        what = signature if not name.isidentifier() else f"{name}({', '.join(names)})"
    return f"Bayesian optimisation of {what} · GP (bayes_opt) · {acquisition.upper()}"


def summary(data: Mapping[str, Any], frame: int = -1) -> str:
    """The explorer as text, for terminals and other places without a widget front-end."""
    frames = data.get("frames") or []
    if not frames:
        return "GP explorer (no frames)"
    lines = [data.get("title", "GP explorer"), f"{len(frames)} steps · acquisition {data.get('acquisition_label')}"]
    names = data.get("names", [])
    for i, f in enumerate(frames):
        nxt = (
            ""
            if f["next"] is None
            else ", next " + ", ".join(f"{n}={v:.4g}" for n, v in zip(names, f["next"], strict=False))
        )
        lines.append(f"  step {i + 1}: {len(f['targets'])} observed, best {f['best']:.6g}{nxt}")
    return "\n".join(lines)
