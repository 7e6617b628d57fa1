"""``%%tune --compare``: the same cell, searched by several methods on the same budget.

Each method (and each repetition, with ``--repeats``) gets its own study, so
the comparison is made of ordinary searches that can be opened, resumed and
plotted like any other. Grid search needs a finite grid of about the budget's
size: continuous and wide parameters are coarsened to a few evenly spaced
levels (log-spaced for ``log=True``) so the whole grid fits the budget, and
the result says which grid was run.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ipytune.search.settings import STATIC_METHODS
from ipytune.search.space import ChoiceParam, FloatParam, IntParam, Param
from ipytune.search.storage import fresh_study_name

if TYPE_CHECKING:
    import pandas as pd

    from ipytune.search.cell import CellProgram
    from ipytune.search.engine import ExcInfo, SearchSettings
    from ipytune.search.result import TuneResult

CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


# -- a grid that fits the budget ------------------------------------------------
def budget_grid(params: Sequence[Param], budget: int) -> list[list[Any]]:
    """Values per parameter so that the full grid has at most ``budget`` points where it can.

    Choices keep all their options; numeric parameters start at 2 levels (1 when
    they have a single value) and gain levels one at a time, round-robin, while
    the grid still fits. When even the smallest grid is larger than the budget,
    the search runs ``budget`` of its points.
    """
    fixed = [p for p in params if isinstance(p, ChoiceParam)]
    numeric = [p for p in params if not isinstance(p, ChoiceParam)]
    cap = {p.name: _max_levels(p) for p in numeric}
    levels = {p.name: int(min(2, cap[p.name])) for p in numeric}
    size = math.prod(len(p.labels) for p in fixed) * math.prod(levels.values())
    grown = True
    while grown:
        grown = False
        for p in numeric:
            n = levels[p.name]
            if n < cap[p.name] and size // n * (n + 1) <= budget:
                size = size // n * (n + 1)
                levels[p.name] = n + 1
                grown = True
    return [list(p.labels) if isinstance(p, ChoiceParam) else _levels(p, levels[p.name]) for p in params]


def _max_levels(param: IntParam | FloatParam) -> int | float:
    if isinstance(param, IntParam):
        return (param.high - param.low) // param.step + 1
    if param.step is not None:
        return math.floor((param.high - param.low) / param.step + 1e-9) + 1
    return 1 if param.low == param.high else math.inf


def _levels(param: IntParam | FloatParam, n: int) -> list[Any]:
    """``n`` evenly spaced values of ``param`` (geometric for log), snapped to its step and bounds."""
    import numpy as np

    if n == 1:
        return [param.low]
    raw = np.geomspace(param.low, param.high, n) if param.log else np.linspace(param.low, param.high, n)
    step = param.step
    values: list[Any] = []
    for v in raw:
        if step is not None:
            v = param.low + step * round((v - param.low) / step)
        v = min(max(v, param.low), param.high)
        v = round(float(v)) if isinstance(param, IntParam) else round(float(v), 12)
        if v not in values:
            values.append(v)
    return values


def make_budget_grid_sampler(params: Sequence[Param], budget: int, seed: int | None) -> Any:
    """A :class:`FastGridSampler` over :func:`budget_grid`'s values."""
    import numpy as np

    from ipytune.search.samplers.grid import FastGridSampler

    class BudgetGridSampler(FastGridSampler):
        def __init__(self) -> None:
            super().__init__([], seed=seed)
            self._params = list(params)
            self._values = budget_grid(params, budget)
            self._radices = [len(v) for v in self._values]
            self.size = math.prod(self._radices)
            self._order = np.random.default_rng(seed).permutation(self.size)
            self._search_space = {p.name: p.distribution() for p in self._params}

        def describe(self) -> str:
            shape = "×".join(str(r) for r in self._radices)
            ran = "the whole grid" if self.size <= budget else f"{budget} of its points, in random order"
            return f"grid {shape} = {self.size} points for a budget of {budget}: {ran}"

    return BudgetGridSampler()


def prepare_on_budget(
    program: CellProgram, user_ns: dict[str, Any], settings: SearchSettings, params: list[Param] | None = None
) -> tuple[Any, str]:
    """Like ``engine.prepare``, but grid gets a grid of at most ``settings.n_trials`` points.

    Returns the prepared ``SearchOutcome`` and, for grid, a note saying which grid it is.
    ``params`` is the space when the caller has already read it.
    """
    from ipytune.search.engine import DEFAULT_TRIALS, SearchOutcome, open_study, prepare

    if settings.method != "grid":
        if params is None:
            return prepare(program, user_ns, settings), ""
        from ipytune.search.engine import make_sampler

        sampler = make_sampler(settings.method, params, settings.seed)
        return SearchOutcome(study=open_study(settings, sampler), sampler=sampler, params=params), ""
    if params is None:
        params = program.static_space(user_ns, "grid", require=True)
        if not params:
            from ipytune.search.space import SpaceError

            raise SpaceError("--method grid found no tune.int/float/choice declaration in the cell.")
    sampler = make_budget_grid_sampler(params, settings.n_trials or DEFAULT_TRIALS, settings.seed)
    outcome = SearchOutcome(study=open_study(settings, sampler), sampler=sampler, params=params)
    return outcome, sampler.describe()


# -- the comparison -------------------------------------------------------------
class _Timed:
    """An observer whose own time is kept apart: a method's time is its search, not its display or tracking."""

    def __init__(self, observer: Any) -> None:
        self.observer = observer
        self.seconds = 0.0

    def _timed(self, hook: str, *args: Any) -> None:
        started = time.perf_counter()
        try:
            getattr(self.observer, hook)(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def start(self, study: Any, total: int) -> None:
        self._timed("start", study, total)

    def update(self, study: Any, trial: Any) -> None:
        self._timed("update", study, trial)

    def finish(self, study: Any, reason: str) -> None:
        self._timed("finish", study, reason)


@dataclass
class MethodRun:
    """One search of the comparison: a method, a repetition, its study and its time."""

    method: str
    repeat: int
    seed: int
    result: TuneResult
    seconds: float
    note: str = ""

    @property
    def curve(self) -> list[float]:
        """Best value so far after each trial (NaN before the first complete one)."""
        maximize = self.result.maximize
        best = math.nan
        curve = []
        for t in self.result.study.get_trials(deepcopy=False):
            if (
                t.state.name == "COMPLETE"
                and t.value is not None
                and (math.isnan(best) or (t.value > best if maximize else t.value < best))
            ):
                best = t.value
            curve.append(best)
        return curve


@dataclass
class Comparison:
    """What ``%%tune --compare`` returns (also ``tune.last``).

    ``runs`` holds every search; ``summary`` (best per method, median and
    range over repetitions, time: the search's wall time without the
    progress display and tracking), ``curves`` (long table of best-so-far per
    trial) and ``curve_table()`` (side by side at a few trial counts) are
    DataFrames ready to plot.
    """

    budget: int
    methods: tuple[str, ...]
    repeats: int
    maximize: bool
    runs: list[MethodRun] = field(default_factory=list)
    error: ExcInfo | None = None
    error_message: str = ""

    @property
    def curves(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {"method": r.method, "repeat": r.repeat, "trial": i + 1, "best": best}
            for r in self.runs
            for i, best in enumerate(r.curve)
        ]
        return pd.DataFrame(rows, columns=["method", "repeat", "trial", "best"])

    @property
    def summary(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for method in self.methods:
            runs = [r for r in self.runs if r.method == method]
            if not runs:
                continue
            finals = pd.Series([r.result.best_value for r in runs], dtype=float)
            rows.append(
                {
                    "method": method,
                    "trials": int(pd.Series([len(r.curve) for r in runs]).median()),
                    "best": finals.median(),
                    "best_min": finals.min(),
                    "best_max": finals.max(),
                    "seconds": float(pd.Series([r.seconds for r in runs]).median()),
                }
            )
        table = pd.DataFrame(rows, columns=["method", "trials", "best", "best_min", "best_max", "seconds"])
        return table.sort_values("best", ascending=not self.maximize, kind="stable").reset_index(drop=True)

    def curve_table(self, checkpoints: Sequence[int] | None = None) -> pd.DataFrame:
        """Best-so-far after 1, 2, 5, 10, ... trials, one column per method (median over repetitions)."""
        curves = self.curves
        points = sorted({c for c in checkpoints or CHECKPOINTS if c <= self.budget} | {self.budget})
        table = {}
        for method in self.methods:
            mine = curves[curves["method"] == method]
            column = []
            for n in points:
                at = mine[mine["trial"] == min(n, int(mine["trial"].max()) if len(mine) else n)]["best"]
                column.append(_spread(at.tolist()) if self.repeats > 1 else _number(at.median()))
            table[method] = column
        import pandas as pd

        return pd.DataFrame(table, index=pd.Index(points, name="after trials"))

    @property
    def notes(self) -> list[str]:
        notes = sorted({r.note for r in self.runs if r.note})
        if self.repeats > 1:
            notes.append(f"each method ran {self.repeats} times (seeds differ); best shows the median [min, max]")
        if self.runs:
            notes.append("no refit: the notebook is left as it was; run the cell with the method you keep")
        return notes

    def headline(self) -> str:
        table = self.summary
        if table.empty:
            return "compare: no search finished"
        direction = "max" if self.maximize else "min"
        return (
            f"compare {', '.join(self.methods)} · {self.budget} trials each · "
            f"best ({direction}): {table['method'][0]} {table['best'][0]:.6g}"
        )

    def _summary_for_display(self) -> pd.DataFrame:
        table = self.summary.copy()
        if self.repeats > 1:
            table["best"] = [
                f"{b:.4g} [{lo:.4g}, {hi:.4g}]"
                for b, lo, hi in zip(table["best"], table["best_min"], table["best_max"], strict=True)
            ]
        else:
            table["best"] = [_number(b) for b in table["best"]]
        table["seconds"] = [f"{s:.2f}" for s in table["seconds"]]
        return table.drop(columns=["best_min", "best_max"])

    def __repr__(self) -> str:
        lines = [self.headline()] + [f"  ({n})" for n in self.notes]
        if self.runs:
            lines += [self._summary_for_display().to_string(index=False), "", "best so far:"]
            lines.append(self.curve_table().to_string())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        tables = ""
        if self.runs:
            tables = (
                self._summary_for_display().to_html(index=False) + "<p>best so far</p>" + self.curve_table().to_html()
            )
        return (
            f"<div class='ipytune-compare'><b>{html.escape(self.headline())}</b>"
            f"{f'<ul>{notes}</ul>' if notes else ''}{tables}</div>"
        )


def _number(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.4g}"


def _spread(values: list[float]) -> str:
    import numpy as np

    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return "—"
    return f"{np.median(finite):.4g} [{min(finite):.4g}, {max(finite):.4g}]"


def compare_methods(
    program: CellProgram,
    user_ns: dict[str, Any],
    settings: SearchSettings,
    methods: Sequence[str],
    repeats: int = 1,
    observers_for: Callable[[str], list[Any]] = lambda method: [],
) -> Comparison:
    """Search ``program`` with each of ``methods``, ``repeats`` times, every search on the same budget.

    The budget is ``settings.n_trials`` (default 20). Repetition ``r`` seeds the
    samplers with ``settings.seed + r`` (seed 0 when none is given), so every
    method sees the same seeds.
    """
    from ipytune.search.engine import DEFAULT_TRIALS, run_search
    from ipytune.search.result import TuneResult
    from ipytune.search.space import SpaceError

    budget = settings.n_trials or DEFAULT_TRIALS
    static = [m for m in methods if m in STATIC_METHODS]
    # read the space once, strictly if any method needs it whole: a bad space fails before any search
    params = program.static_space(user_ns, static[0] if static else methods[0], require=bool(static))
    if static and not params:
        raise SpaceError(
            f"--compare {','.join(methods)}: {static[0]} needs tune.int/float/choice declarations in the cell."
        )
    if settings.scoring.data is not None:
        settings.scoring.check_data(user_ns)
    prefix = settings.study_name or fresh_study_name("compare")
    base_seed = settings.seed if settings.seed is not None else 0
    comparison = Comparison(
        budget=budget, methods=tuple(methods), repeats=repeats, maximize=settings.direction == "maximize"
    )
    for repeat in range(repeats):
        for method in methods:
            seed = base_seed + repeat
            run_settings = replace(
                settings,
                method=method,
                seed=seed,
                n_trials=budget,
                study_name=f"{prefix}-{method}" + (f"-r{repeat}" if repeats > 1 else ""),
            )
            outcome, note = prepare_on_budget(program, user_ns, run_settings, params)
            study, sampler = outcome.study, outcome.sampler
            watched = [_Timed(observer) for observer in observers_for(method)]
            started = time.perf_counter()
            outcome = run_search(program, user_ns, run_settings, outcome, watched)
            seconds = time.perf_counter() - started - sum(w.seconds for w in watched)
            result = TuneResult(study, method, params, outcome.stop_reason, sampler, outcome.trials_run)
            comparison.runs.append(MethodRun(method, repeat, seed, result, seconds, note))
            if outcome.error is not None:
                comparison.error = outcome.error
                comparison.error_message = (
                    f"--compare stopped: trial {outcome.error_trial} of the {method} search raised "
                    f"{outcome.error[0].__name__} (traceback above); add --catch to record such trials as failed."
                )
                return comparison
            if outcome.stop_reason == "interrupted":
                return comparison
    return comparison
