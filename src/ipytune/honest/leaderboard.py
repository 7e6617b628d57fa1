"""What ``%automl`` / ``ipytune.automl`` returns: the leaderboard over a dummy floor, the winner, a recommendation."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ipytune._format import Summarised, format_params
from ipytune.honest.families import Family
from ipytune.honest.folds import GAP_MEANING
from ipytune.search.settings import CV_STD, StopReason

if TYPE_CHECKING:
    import pandas as pd

    from ipytune.search.engine import Search
    from ipytune.search.result import TuneResult

DEFAULT_TOLERANCE = 0.01


@dataclass
class FamilyRun:
    family: Family
    search: TuneResult
    seconds: float

    @property
    def best(self) -> float:
        value = self.search.best_value
        return math.nan if value is None else value

    @property
    def std(self) -> float:
        trial = self.search.best_trial
        return math.nan if trial is None else float(trial.user_attrs.get(CV_STD, math.nan))


@dataclass(repr=False)
class AutoMLResult(Summarised):
    """What ``%automl`` / ``ipytune.automl`` returns.

    ``leaderboard`` (DataFrame: dummy floor first, then families best first),
    ``winner`` (family name), ``best_estimator`` (the winner's best pipeline,
    refitted on all the data), ``recommendation`` (one sentence),
    ``recommended`` (the family it recommends), ``searches`` (family →
    ``TuneResult``), ``nested`` (outer-fold estimate of the whole procedure,
    with ``--nested``).
    """

    task: str
    scoring: str
    cv: int
    tolerance: float
    floor: float
    floor_std: float
    runs: list[FamilyRun] = field(default_factory=list)
    best_estimator: Any = None
    nested: Any = None
    notes: list[str] = field(default_factory=list)
    stop_reason: StopReason = "completed"
    _searches: dict[str, Search] = field(default_factory=dict, repr=False)  # to refit any family later

    @property
    def searches(self) -> dict[str, TuneResult]:
        return {r.family.name: r.search for r in self.runs}

    @property
    def ranked(self) -> list[FamilyRun]:
        finished = [r for r in self.runs if not math.isnan(r.best)]
        return sorted(finished, key=lambda r: r.best, reverse=True)

    @property
    def winner(self) -> str | None:
        ranked = self.ranked
        return ranked[0].family.name if ranked else None

    @property
    def best_params(self) -> dict[str, Any]:
        return {} if self.winner is None else self.searches[self.winner].best_params

    @property
    def leaderboard(self) -> pd.DataFrame:
        import pandas as pd

        dummy = "DummyClassifier (prior)" if self.task == "classification" else "DummyRegressor (mean)"
        rows = [
            {
                "family": "dummy",
                "model": dummy,
                "trials": 1,
                "best CV": self.floor,
                "std": self.floor_std,
                "fit time (s)": math.nan,
                "best params": "",
            }
        ]
        for r in self.ranked + [r for r in self.runs if math.isnan(r.best)]:
            rows.append(
                {
                    "family": r.family.name,
                    "model": r.family.label,
                    "trials": len(r.search.study.trials),
                    "best CV": r.best,
                    "std": r.std,
                    "fit time (s)": r.seconds,
                    "best params": format_params(r.search.best_params, limit=None),
                }
            )
        return pd.DataFrame(rows)

    @property
    def recommended(self) -> str | None:
        """The simple family when it is within ``tolerance`` of the winner, else the winner."""
        ranked = self.ranked
        if not ranked:
            return None
        simple = next((r for r in ranked if r.family.simple), None)
        if simple is not None and ranked[0].best - simple.best <= self.tolerance:
            return simple.family.name
        return ranked[0].family.name

    @property
    def recommendation(self) -> str:
        ranked = self.ranked
        if not ranked:
            return "no family finished a trial: nothing to recommend."
        best = ranked[0]
        lead = f"{best.family.label} {best.best:.4f}"
        noise = best.std if not math.isnan(best.std) else DEFAULT_TOLERANCE
        if best.best - self.floor <= noise:
            return (
                f"no model beats the dummy floor ({self.floor:.4f}) by more than the spread of its CV scores "
                f"({noise:.4f}): the features may not predict this target; check the data before tuning further."
            )
        simple = next((r for r in ranked if r.family.simple), None)
        if simple is None:
            return f"{lead} is the best; no simple baseline (logistic/linear) was in the run to compare with."
        gap = best.best - simple.best
        if simple is best:
            return (
                f"{simple.family.label} is the best model here ({simple.best:.4f}): keep the simple, interpretable one."
            )
        if gap <= self.tolerance:
            return (
                f"recommend {simple.family.label} ({simple.best:.4f}): within {gap:.4f} of the best ({lead}), inside "
                f"the tolerance of {self.tolerance:g}; it is interpretable, fast and less prone to overfit."
            )
        return (
            f"{lead} beats {simple.family.label} ({simple.best:.4f}) by {gap:.4f}, more than the tolerance of "
            f"{self.tolerance:g}: the extra complexity pays here."
        )

    def refit(self, family: str) -> Any:
        """The best configuration of ``family``, fitted on all the data (e.g. the recommended one)."""
        result = self.searches.get(family)
        if result is None or result.best_trial is None:
            raise UsageError(f"{family!r} has no finished search here: choose from {', '.join(self.searches)}.")
        search = self._searches[family]
        return search.refit(result, namespace=dict(search.namespace))

    def headline(self) -> str:
        winner = self.winner
        best = "" if winner is None else f" · winner {winner} {self.ranked[0].best:.4f}"
        return f"automl · {self.task} · {self.scoring}, {self.cv}-fold CV · floor {self.floor:.4f}{best}"

    def _lines(self) -> list[str]:
        lines = [f"recommendation: {self.recommendation}"]
        if self.nested is not None:
            lines.append(self.nested.headline())
        return lines + self.notes

    def to_text(self) -> str:
        table = self.leaderboard.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="")
        return "\n".join([self.headline(), table, *self._lines()])

    def _repr_html_(self) -> str:
        table = self.leaderboard.to_html(index=False, float_format="%.4f", na_rep="")
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self._lines())
        return f"<div class='ipytune-automl'><b>{html.escape(self.headline())}</b>{table}<ul>{items}</ul></div>"


@dataclass
class AutoMLNested:
    """The whole AutoML procedure, scored on outer folds it never saw."""

    k: int
    winners: list[str] = field(default_factory=list)
    inner: list[float] = field(default_factory=list)
    outer_scores: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.outer_scores) / len(self.outer_scores)

    @property
    def std(self) -> float:
        m = self.mean
        return math.sqrt(sum((s - m) ** 2 for s in self.outer_scores) / len(self.outer_scores))

    @property
    def gap(self) -> float:
        return sum(self.inner) / len(self.inner) - self.mean

    def headline(self) -> str:
        return (
            f"nested ({self.k} outer folds, winners {', '.join(self.winners)}): outer {self.mean:.4f} ± "
            f"{self.std:.4f} · inner winner CV {sum(self.inner) / len(self.inner):.4f} · gap {self.gap:+.4f}. "
            + GAP_MEANING
        )
