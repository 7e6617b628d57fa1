"""What a ``%%tune`` search returns: best parameters and value, every trial, the study."""

from __future__ import annotations

import html
import math
from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ipytune._format import Summarised
from ipytune.search.settings import FAIL_REASON, SEED_STD, SEED_VALUES, StopReason
from ipytune.search.space import ChoiceParam, Param

if TYPE_CHECKING:
    from types import TracebackType

    import optuna
    import pandas as pd

SUMMARY_ROWS = 5

_REASONS: dict[StopReason, str] = {
    "completed": "",
    "grid exhausted": "every grid point has run",
    "timeout": "stopped at --timeout",
    "interrupted": "interrupted: finished trials are kept; re-run with the same --study to resume",
    "error": "stopped by an exception in the cell",
    "stopped": "stopped from the dashboard",
}


class TuneResult(Summarised):
    """The outcome of one ``%%tune`` execution (also ``tune.last``).

    Attributes: ``best_params``, ``best_value``, ``best_trial``, ``trials``
    (a DataFrame), ``study`` (the ``optuna.Study``), ``method``, ``stop_reason``,
    ``trials_run`` (by this execution), ``error`` (the exception that stopped
    it, if any), ``note``, ``saved`` (where the best model went), and for
    ``--method gp`` the bayes_opt ``optimizer``. ``plot(kind)`` draws Optuna's
    plots; ``importance`` says which parameters mattered.
    Made by :meth:`ipytune.search.engine.Search.result`.
    """

    def __init__(
        self,
        *,
        study: optuna.Study,
        method: str,
        params: list[Param] | None = None,
        stop_reason: StopReason = "completed",
        sampler: Any = None,
        trials_run: int = 0,
        error: tuple[type[BaseException], BaseException, TracebackType] | None = None,
        error_trial: int | None = None,
        note: str = "",
    ) -> None:
        self.study = study
        self.method = method
        self.stop_reason = stop_reason
        self.sampler = sampler
        self.trials_run = trials_run
        self.error = error
        self.error_trial = error_trial
        self.note = note
        self.saved: list[str] = []  # lines on the saved best model (set by %%tune after the refit)
        self._choices = {p.name: p for p in params or [] if isinstance(p, ChoiceParam) and not p.plain}

    # -- best ---------------------------------------------------------------------
    @cached_property
    def best_trial(self) -> optuna.trial.FrozenTrial | None:
        try:
            return self.study.best_trial
        except ValueError:  # no trial has completed
            return None

    @property
    def best_value(self) -> float | None:
        return None if self.best_trial is None else self.best_trial.value

    @property
    def best_params(self) -> dict[str, Any]:
        """The best trial's parameter values, as the cell saw them."""
        if self.best_trial is None:
            return {}
        return {name: self._value(name, v) for name, v in self.best_trial.params.items()}

    @property
    def stored_best_params(self) -> dict[str, Any]:
        """The best parameters as stored in the study (choice labels for non-plain options)."""
        return {} if self.best_trial is None else dict(self.best_trial.params)

    @property
    def optimizer(self) -> Any:
        """The bayes_opt ``BayesianOptimization`` behind ``--method gp`` (None otherwise), with every trial registered."""
        if hasattr(self.sampler, "sync"):
            self.sampler.sync(self.study)  # the sampler registers lazily: the last trial is not in yet
        return getattr(self.sampler, "optimizer", None)

    @property
    def maximize(self) -> bool:
        return self.study.direction.name == "MAXIMIZE"

    def _value(self, name: str, stored: Any) -> Any:
        choice = self._choices.get(name)
        return stored if choice is None else choice.from_label(stored)

    def error_message(self, lead: str = "") -> str:
        """One line on the exception that stopped the search (its traceback is shown above it).

        ``lead`` says which part of a larger run this search was (``--compare stopped in the tpe search``).
        """
        assert self.error is not None
        kept = sum(t.state.name == "COMPLETE" for t in self.study.get_trials(deepcopy=False))
        advice = (
            "Add --catch to record such trials as failed and go on."
            if kept
            else "No trial has finished: fix the cell (--catch records failing trials and goes on, "
            "which helps only if other values work)."
        )
        return (
            f"{lead + ': ' if lead else ''}trial {self.error_trial} raised {self.error[0].__name__} "
            f"(traceback above); {kept} finished trials are kept in study {self.study.study_name!r} (tune.last). "
            f"{advice}"
        )

    # -- trials -------------------------------------------------------------------
    @cached_property
    def trials(self) -> pd.DataFrame:
        """One row per trial: number, state, value, duration (s), one column per parameter."""
        import pandas as pd

        rows = [_row(t) for t in self.study.get_trials(deepcopy=False)]
        columns = ["number", "state", "value", "duration"]
        if any("std" in row for row in rows):
            columns.insert(3, "std")
        return pd.DataFrame(rows, columns=columns + [c for c in _union(rows) if c not in columns])

    def best_so_far(self) -> list[float]:
        """The best value after each trial, in trial order (NaN before the first complete one)."""
        best, curve = math.nan, []
        for t in self.study.get_trials(deepcopy=False):
            value = t.value
            if (
                t.state.name == "COMPLETE"
                and value is not None
                and (math.isnan(best) or _better(value, best, self.maximize))
            ):
                best = value
            curve.append(best)
        return curve

    def ranked(self, n: int = SUMMARY_ROWS) -> list[optuna.trial.FrozenTrial]:
        """The ``n`` best complete trials, best first (ties in trial order)."""
        from optuna.trial import TrialState

        done = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return sorted(done, key=_value, reverse=self.maximize)[:n]

    def top(self, n: int = SUMMARY_ROWS) -> pd.DataFrame:
        """The ``n`` best complete trials, best first."""
        import pandas as pd

        rows = [_row(t, summary=True) for t in self.ranked(n)]
        columns = [c for c in ("number", "value", "std", "duration") if any(c in row for row in rows)]
        return pd.DataFrame(rows, columns=columns + [c for c in _union(rows) if c not in columns])

    # -- analysis -----------------------------------------------------------------
    def plot(self, kind: str = "history", params: list[str] | None = None) -> Any:
        """Optuna's plot of this search as a plotly figure: ``history`` (best so far), ``importance``,
        ``contour``, ``slice`` or ``parallel`` (coordinates); ``params`` limits it to some parameters."""
        from ipytune.search.analysis import plot

        return plot(self.study, kind, params)

    @cached_property
    def importance(self) -> dict[str, float] | None:
        """Each parameter's share of the objective's variation (Optuna's default evaluator, summing to
        1), most important first; None under 20 complete trials or with a single parameter."""
        from ipytune.search.analysis import importance

        found = importance(self.study)
        return None if found is None else found[0]

    # -- display ------------------------------------------------------------------
    def headline(self) -> str:
        states = Counter(t.state.name.lower() for t in self.study.get_trials(deepcopy=False))
        counts = ", ".join(f"{n} {s}" for s, n in states.items())
        direction = "max" if self.maximize else "min"
        best = (
            "no trial completed"
            if self.best_trial is None
            else f"best {self.best_value:.6g}{_spread(self.best_trial)} ({direction}) at trial {self.best_trial.number}"
        )
        return f"{self.method} · study {self.study.study_name!r} · {counts or 'no trials'} · {best}"

    def notes(self) -> list[str]:
        notes = [self.note] if self.note else []
        if _REASONS.get(self.stop_reason):
            notes.append(_REASONS[self.stop_reason])
        reasons = Counter(
            t.user_attrs[FAIL_REASON] for t in self.study.get_trials(deepcopy=False) if FAIL_REASON in t.user_attrs
        )
        notes += [f"{n} failed: {reason}" for reason, n in reasons.most_common(3)]
        if self.importance:
            shares = ", ".join(f"{name} {share:.2f}" for name, share in list(self.importance.items())[:3])
            notes.append(f"what mattered most (parameter importance): {shares}; result.plot('importance')")
        notes += self.saved
        pruning = self.pruning()
        if pruning["pruned"]:
            notes.append(
                f"{pruning['pruned']} pruned, saving {pruning['steps_saved']} of "
                f"{pruning['steps_saved'] + pruning['steps_run']} steps ({pruning['saved_fraction']:.0%})"
            )
        return notes

    def pruning(self) -> dict[str, Any]:
        """Pruned trials and the compute they saved, in ``tune.report`` steps.

        A pruned trial is taken to have saved the steps between its last report
        and the furthest step any complete trial reached.
        """
        last = {  # trial number -> its last reported step, for trials that reported
            t.number: t.last_step
            for t in self.study.get_trials(deepcopy=False)
            if t.state.name in ("COMPLETE", "PRUNED") and t.last_step is not None
        }
        trials = [t for t in self.study.get_trials(deepcopy=False) if t.number in last]
        pruned = [last[t.number] for t in trials if t.state.name == "PRUNED"]
        full = max((last[t.number] for t in trials if t.state.name == "COMPLETE"), default=None)
        if full is None:  # no complete trial reported: nothing to measure the savings against
            return {"pruned": len(pruned), "steps_run": 0, "steps_saved": 0, "saved_fraction": 0.0}
        first = min(min(t.intermediate_values) for t in trials)  # 0- or 1-based steps
        saved = sum(max(full - step, 0) for step in pruned)
        total = (full - first + 1) * len(trials)
        run = total - saved
        return {
            "pruned": len(pruned),
            "steps_run": run,
            "steps_saved": saved,
            "saved_fraction": saved / total if total else 0.0,
        }

    # -- widgets (ipytune.widgets; loaded only when asked for) --------------------------------------
    def dashboard(self) -> Any:
        """The live dashboard of this search, rebuilt from its study (progress, best-so-far, counts)."""
        from ipytune.widgets.dashboard import dashboard_for

        return dashboard_for(self)

    def gp_explorer(self, params: str | list[str] | None = None) -> Any:
        """The GP surrogate explorer on this ``--method gp`` search: one parameter (a 1-D slice)
        or two (heatmaps), the others fixed at the best trial; one frame per trial."""
        from ipytune.widgets.gp import GPExplorer, study_frames

        return GPExplorer(data=study_frames(self, params), show_truth=False)

    def coverage(self, x: str | None = None, y: str | None = None, other: TuneResult | None = None) -> Any:
        """Where the trials fell on two parameters, with what each axis saw; ``other`` side by side."""
        from ipytune.widgets.coverage import CoverageExplorer, study_coverage

        data = study_coverage([self] if other is None else [self, other], x, y)
        return CoverageExplorer(data=data, budget_index=len(data["budgets"]) - 1)

    def _summary_table(self) -> tuple[list[str], list[list[str]]]:
        """Header and formatted cells of the best trials, without pandas (shown after every search)."""
        rows = [_row(t, summary=True) for t in self.ranked()]
        header = [c for c in ("number", "value", "std", "duration") if any(c in row for row in rows)]
        header += [c for c in _union(rows) if c not in header]
        return header, [[_duration(row[c]) if c == "duration" else _cell(row.get(c)) for c in header] for row in rows]

    def to_text(self) -> str:
        """The headline, the notes and the best trials, as text (what a terminal shows after a search)."""
        lines = [self.headline()] + [f"  ({note})" for note in self.notes()]
        if self.best_trial is not None:
            header, cells = self._summary_table()
            widths = [max(len(text) for text in column) for column in zip(header, *cells, strict=True)]
            for row in [header, *cells]:
                lines.append("  ".join(text.rjust(width) for text, width in zip(row, widths, strict=True)))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes())
        table = ""
        if self.best_trial is not None:
            header, cells = self._summary_table()
            head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells)
            table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        return (
            f"<div class='ipytune-result'><b>{html.escape(self.headline())}</b>"
            f"{f'<ul>{notes}</ul>' if notes else ''}{table}</div>"
        )


def _spread(trial: optuna.trial.FrozenTrial) -> str:
    """' ± std over N seeds' for a --seeds trial, else ''."""
    if SEED_STD not in trial.user_attrs:
        return ""
    return f" ± {trial.user_attrs[SEED_STD]:.3g} over {len(trial.user_attrs.get(SEED_VALUES, []))} seeds"


def _row(t: optuna.trial.FrozenTrial, summary: bool = False) -> dict[str, Any]:
    """One trial as a row: number, state, value, [std,] duration (s), its parameters[, fail_reason].

    ``summary`` leaves out what a table of the best (complete) trials does not need.
    """
    duration = (
        (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else None
    )
    row: dict[str, Any] = {"number": t.number} if summary else {"number": t.number, "state": t.state.name}
    row["value"] = t.value
    if SEED_STD in t.user_attrs:  # --seeds: value is the mean over seeds
        row["std"] = t.user_attrs[SEED_STD]
    row["duration"] = duration
    row.update(t.params)
    if not summary and FAIL_REASON in t.user_attrs:
        row[FAIL_REASON] = t.user_attrs[FAIL_REASON]
    return row


def _better(value: float, than: float, maximize: bool) -> bool:
    return value > than if maximize else value < than


def _value(trial: optuna.trial.FrozenTrial) -> float:
    assert trial.value is not None  # a complete single-objective trial has one
    return trial.value


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _union(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)
