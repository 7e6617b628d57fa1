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

from ipytune._format import Summarised
from ipytune.search.settings import DEFAULT_TRIALS, STATIC_METHODS, STOPPED_BY_USER, Method, SearchSettings
from ipytune.search.storage import fresh_study_name

if TYPE_CHECKING:
    import pandas as pd

    from ipytune.search.cell import CellProgram
    from ipytune.search.engine import ExcInfo
    from ipytune.search.result import TuneResult

CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class _Timed:
    """An observer whose own time is kept apart: a method's time is its search, not its display or tracking.

    It forwards a Stop button and ``tune.log`` rows to the observer it wraps.
    """

    def __init__(self, observer: Any) -> None:
        self.observer = observer
        self.seconds = 0.0
        if hasattr(observer, "should_stop"):
            self.should_stop = observer.should_stop
        if hasattr(observer, "log"):
            self.log = observer.log

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

    @property
    def note(self) -> str:
        return self.result.note

    @property
    def curve(self) -> list[float]:
        """Best value so far after each trial (NaN before the first complete one)."""
        return self.result.best_so_far()


@dataclass(repr=False)
class Comparison(Summarised):
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

    def to_text(self) -> str:
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
    methods: Sequence[Method],
    repeats: int = 1,
    observers_for: Callable[[str], list[Any]] = lambda method: [],
) -> Comparison:
    """Search ``program`` with each of ``methods``, ``repeats`` times, every search on the same budget.

    The budget is ``settings.n_trials`` (default 20). Repetition ``r`` seeds the
    samplers with ``settings.seed + r`` (seed 0 when none is given), so every
    method sees the same seeds. Ctrl-C or a Stop button ends the whole comparison.
    """
    from ipytune.search.engine import Search, read_space

    budget = settings.n_trials or DEFAULT_TRIALS
    static = [m for m in methods if m in STATIC_METHODS]
    # read the space once, strictly if any method needs it whole: a bad space fails before any search
    params = read_space(program, user_ns, static[0] if static else methods[0])
    if settings.scoring.data is not None:
        settings.scoring.check_data(user_ns)
    prefix = settings.study_name or fresh_study_name("compare")
    base_seed = settings.seed if settings.seed is not None else 0
    comparison = Comparison(budget=budget, methods=tuple(methods), repeats=repeats, maximize=settings.maximize)
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
            watched = [_Timed(observer) for observer in observers_for(method)]
            search = Search(program, user_ns, run_settings, watched, params=params, grid_on_budget=True)
            search.prepare()
            started = time.perf_counter()
            result = search.run()
            seconds = time.perf_counter() - started - sum(w.seconds for w in watched)
            comparison.runs.append(MethodRun(method, repeat, seed, result, seconds))
            if result.error is not None:
                comparison.error = result.error
                comparison.error_message = result.error_message(f"--compare stopped in the {method} search")
                return comparison
            if result.stop_reason in STOPPED_BY_USER:
                return comparison
    return comparison
