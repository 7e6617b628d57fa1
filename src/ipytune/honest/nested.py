"""``%%tune --nested K``: an honest estimate of what tuning delivers, by nested cross-validation.

The best inner CV score of a search is the maximum of many noisy estimates,
so it flatters the model it picked. Nested CV puts an outer K-fold loop
around the *whole* search: in each outer fold the search runs on the training
part only (the cell sees ``X``/``y`` bound to that part, inner CV ``--cv``),
the best configuration is refitted there and scored once on the held-out
part, which no trial has seen.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ipytune._format import Summarised, format_params
from ipytune.honest.folds import GAP_MEANING, outer_splitter, take
from ipytune.search.settings import CV_SCORES, STOPPED_BY_USER, SearchSettings, StopReason, count_rows
from ipytune.search.storage import fresh_study_name

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ipytune.search.cell import CellProgram
    from ipytune.search.engine import ExcInfo
    from ipytune.search.result import TuneResult


@dataclass
class NestedFold:
    """One outer fold: which rows the search saw, what it picked, and how that did on the rest."""

    index: int
    train_index: np.ndarray
    test_index: np.ndarray
    search: TuneResult
    outer_score: float
    estimator: Any  # the best configuration, fitted on this fold's training part

    @property
    def inner_best(self) -> float:
        value = self.search.best_value
        assert value is not None
        return value

    @property
    def best_params(self) -> dict[str, Any]:
        return self.search.best_params


@dataclass(repr=False)
class NestedResult(Summarised):
    """What ``%%tune --nested K`` returns (also ``tune.last``).

    ``outer_scores`` (one per outer fold, on data the search never saw),
    ``mean`` ± ``std``, ``inner_mean`` (mean of the searches' best CV scores),
    ``gap`` (inner minus outer, in the direction of the search: positive means
    the inner score was optimistic), and ``folds`` with each fold's search.
    """

    k: int
    stratified: bool
    maximize: bool
    scoring: str
    folds: list[NestedFold] = field(default_factory=list)
    error: ExcInfo | None = None
    error_message: str = ""
    stop_reason: StopReason = "completed"

    @property
    def outer_scores(self) -> list[float]:
        return [f.outer_score for f in self.folds]

    @property
    def inner_scores(self) -> list[float]:
        return [f.inner_best for f in self.folds]

    @property
    def mean(self) -> float:
        return _mean(self.outer_scores)

    @property
    def std(self) -> float:
        scores = self.outer_scores
        if not scores:
            return math.nan
        m = _mean(scores)
        return math.sqrt(sum((s - m) ** 2 for s in scores) / len(scores))

    @property
    def inner_mean(self) -> float:
        return _mean(self.inner_scores)

    @property
    def gap(self) -> float:
        """How much the inner best flatters the outer estimate (positive: optimistic)."""
        difference = self.inner_mean - self.mean
        return difference if self.maximize else -difference

    @property
    def table(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {
                "fold": f.index,
                "train": len(f.train_index),
                "test": len(f.test_index),
                "inner best": f.inner_best,
                "outer": f.outer_score,
                "best params": format_params(f.best_params, limit=None),
            }
            for f in self.folds
        ]
        return pd.DataFrame(rows, columns=["fold", "train", "test", "inner best", "outer", "best params"])

    def headline(self) -> str:
        if not self.folds:
            return "nested CV: no outer fold finished"
        folds = f"{len(self.folds)} of {self.k}" if len(self.folds) < self.k else str(self.k)
        kind = "stratified " if self.stratified else ""
        return (
            f"nested CV ({folds} {kind}outer folds, {self.scoring}): outer {self.mean:.4f} ± {self.std:.4f} · "
            f"inner best {self.inner_mean:.4f} · gap {self.gap:+.4f}"
        )

    def notes(self) -> list[str]:
        notes = [GAP_MEANING] if self.folds else []
        if self.stop_reason != "completed":
            notes.append(f"stopped early ({self.stop_reason}): the estimate uses the folds that finished")
        notes.append("the notebook is left as it was: run the cell without --nested for the final model")
        return notes

    def to_text(self) -> str:
        lines = [self.headline()] + [f"  {n}" for n in self.notes()]
        if self.folds:
            lines.append(self.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes())
        table = self.table.to_html(index=False, float_format="%.4f") if self.folds else ""
        return f"<div class='ipytune-nested'><b>{html.escape(self.headline())}</b><ul>{notes}</ul>{table}</div>"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def nested_search(
    program: CellProgram,
    user_ns: dict[str, Any],
    settings: SearchSettings,
    k: int,
    observers_for: Callable[[str], list[Any]] = lambda method: [],
) -> NestedResult:
    """Run the search of ``program`` once per outer fold, on that fold's training rows only."""
    from sklearn.metrics import check_scoring

    from ipytune.search.engine import Search

    scoring = settings.scoring
    if scoring.data is None:
        raise UsageError("--nested needs --data X y: the outer folds split that data.")
    scoring.check_data(user_ns)
    x_name, y_name = scoring.data
    X, y = user_ns[x_name], user_ns[y_name]
    rows = count_rows(X, x_name)
    if rows < k:
        raise UsageError(
            f"--nested {k}: {x_name} has {rows} rows, fewer than {k} outer folds: pass --nested {rows} or fewer."
        )
    splitter, stratified = outer_splitter(y, k, settings.seed)
    prefix = settings.study_name or fresh_study_name("nested")
    result = NestedResult(
        k=k,
        stratified=stratified,
        maximize=settings.maximize,
        scoring=scoring.scoring or "estimator.score",
    )
    for index, (train, test) in enumerate(splitter.split(X, y), start=1):
        # the cell and its inner CV see only the training rows, under the names it already uses
        namespace = dict(user_ns)
        namespace[x_name], namespace[y_name] = take(X, train), take(y, train)
        returned_a_number = _ReturnedANumber()
        search = Search(
            program,
            namespace,
            replace(settings, study_name=f"{prefix}-fold{index}"),
            observers_for(settings.method),
            stop_when=returned_a_number,
        )
        inner = search.run()
        if inner.error is not None:
            result.error, result.error_message = (
                inner.error,
                inner.error_message(f"--nested stopped in outer fold {index}"),
            )
            return result
        if returned_a_number.verdict:
            raise UsageError(
                "--nested needs the cell to end with an unfitted scikit-learn estimator (it is refitted and scored "
                "on each outer fold); this cell returned a number."
            )
        if inner.stop_reason in STOPPED_BY_USER:
            result.stop_reason = inner.stop_reason
            return result
        if inner.best_trial is None:
            raise UsageError(
                f"--nested: no trial completed in outer fold {index} ({inner.headline()}); fix the cell first."
            )
        estimator = search.refit(inner)
        scorer = check_scoring(estimator, scoring=scoring.scoring)
        outer = float(scorer(estimator, take(X, test), take(y, test)))
        result.folds.append(NestedFold(index, train, test, inner, outer, estimator))
    return result


class _ReturnedANumber:
    """``stop_when`` for an inner search: true once a complete trial was scored without cross-validation.

    Every trial runs the same cell, so the first complete trial decides, and the verdict is kept:
    polling between trials stops reading the study once it is known.
    """

    def __init__(self) -> None:
        self.verdict: bool | None = None

    def __call__(self, study: Any) -> bool:
        if self.verdict is None:
            for trial in study.get_trials(deepcopy=False):
                if trial.state.name == "COMPLETE":
                    self.verdict = CV_SCORES not in trial.user_attrs
                    break
        return bool(self.verdict)
