"""DIY AutoML (``ipytune.automl``, ``%automl``): one tuned search per model family, ranked over a dummy floor.

Each family (:mod:`.families`) is an ordinary ``%%tune`` cell, run by the engine's
:class:`~ipytune.search.engine.Search` as its own study: the same space reading,
cross-validation, storage and observers as any search. All families are scored on
the same CV folds, so their scores compare. The result (:mod:`.leaderboard`) starts
with the dummy floor (what predicting the majority class / the mean scores), and when
a simple interpretable model is within ``tolerance`` of the best, it says so and
recommends it. ``nested=K`` scores the whole procedure on outer folds it never saw.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from IPython.core.error import UsageError

from ipytune.honest.data_checks import check_data
from ipytune.honest.families import Family, choose_families
from ipytune.honest.folds import outer_splitter, take
from ipytune.honest.leaderboard import DEFAULT_TOLERANCE, AutoMLNested, AutoMLResult, FamilyRun
from ipytune.search.settings import (
    DEFAULT_TRIALS,
    FAIL_REASON,
    STOPPED_BY_USER,
    Method,
    Scoring,
    SearchSettings,
    check_scorer,
    count_rows,
)
from ipytune.search.storage import fresh_study_name

__all__ = ["DEFAULT_TOLERANCE", "AutoMLResult", "automl"]


def automl(
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    families: Sequence[str] | None = None,
    method: Method = "tpe",
    trials: int | None = None,
    timeout: float | None = None,
    cv: int = 5,
    scoring: str | None = None,
    nested: int | None = None,
    seed: int | None = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    storage: str | None = None,
    study: str | None = None,
    quiet: bool = True,
    observers_for: Callable[[str], list[Any]] | None = None,
) -> AutoMLResult:
    """Tune every model family on ``X``/``y`` and rank them over a dummy floor.

    ``trials`` per family (default 20) or ``timeout`` seconds overall (shared
    among the families: time one leaves goes to the next). ``nested=K`` also
    runs the whole procedure inside an outer K-fold loop for an honest estimate
    of the winner's score. Returns an :class:`AutoMLResult` whose
    ``best_estimator`` is the winner refitted on all the data.
    """
    # every family search starts from these settings: a bad value fails here, before any data is read
    template = SearchSettings(
        method=method,
        n_trials=trials,
        timeout=timeout,
        direction="maximize",  # scikit-learn scorers are greater-is-better
        seed=seed,
        storage=storage,
        catch=True,  # a configuration that cannot fit fails its trial, not the whole run
        scoring=Scoring(data=("X", "y"), cv=cv, scoring=scoring),
    )
    if nested is not None and nested < 2:
        raise UsageError(f"--nested {nested}: the outer loop needs at least 2 folds.")
    if tolerance < 0:
        raise UsageError(f"--tolerance {tolerance:g}: give a score difference of 0 or more, e.g. 0.01.")
    if scoring is not None:
        check_scorer(scoring)
    task = check_data(X, y, task, cv)
    rows = count_rows(X, "X")
    if nested is not None and rows < nested:
        raise UsageError(
            f"--nested {nested}: X has {rows} rows, fewer than {nested} outer folds: pass --nested {rows} or fewer."
        )
    chosen = choose_families(task, families)
    if observers_for is None:
        from ipytune.search.progress import make_progress

        def observers_for(name: str) -> list[Any]:
            return [make_progress(name, quiet, in_kernel=False)]

    run = _FamilySearches(task, chosen, template, tolerance, observers_for)
    prefix = study or fresh_study_name("automl")
    result = run(X, y, prefix)
    if nested is not None and result.stop_reason not in STOPPED_BY_USER:
        report = _nested(run, X, y, nested, prefix)
        result.nested = report if report.outer_scores else None
    return result


class _FamilySearches:
    """One search per family on the same data and folds, the families sharing ``--timeout`` in turn."""

    def __init__(
        self,
        task: str,
        families: list[Family],
        template: SearchSettings,
        tolerance: float,
        observers_for: Callable[[str], list[Any]],
    ) -> None:
        self.task = task
        self.families = families
        self.template = template
        self.tolerance = tolerance
        self.observers_for = observers_for

    def __call__(self, X: Any, y: Any, prefix: str) -> AutoMLResult:
        from sklearn.model_selection import cross_val_score

        from ipytune.search.cell import parse_cell
        from ipytune.search.declarations import tune
        from ipytune.search.engine import Search

        cv, scoring = self.template.scoring.cv, self.template.scoring.scoring
        floor_scores = cross_val_score(_dummy(self.task), X, y, cv=cv, scoring=scoring)
        # the smallest training part of a CV split bounds k of a nearest-neighbour model
        max_neighbors = max(1, min(30, len(y) - math.ceil(len(y) / cv) - 1))
        sparse = hasattr(X, "tocsr")  # scaling must not centre a sparse matrix (it would densify it)
        seed = self.template.seed
        namespace = {"X": X, "y": y, "SEED": seed, "MAX_NEIGHBORS": max_neighbors, "SPARSE": sparse, "tune": tune}
        result = AutoMLResult(
            task=self.task,
            scoring=scoring or ("accuracy" if self.task == "classification" else "r2"),
            cv=cv,
            tolerance=self.tolerance,
            floor=float(floor_scores.mean()),
            floor_std=float(floor_scores.std()),
        )
        timeout, trials = self.template.timeout, self.template.n_trials
        deadline = None if timeout is None else time.monotonic() + timeout
        for position, family in enumerate(self.families):
            share = None
            if deadline is not None:
                share = (deadline - time.monotonic()) / (len(self.families) - position)
                if share <= 0:
                    result.notes.append(f"--timeout reached: {family.name} and later families did not run")
                    break
            settings = replace(
                self.template,
                n_trials=trials if trials is not None else (DEFAULT_TRIALS if share is None else 100_000),
                timeout=share,
                study_name=f"{prefix}-{family.name}",
            )
            program = parse_cell(family.source, filename=f"<automl:{family.name}>")
            # grid: each family's space is coarsened to a grid of about --trials points, as --compare does
            search = Search(program, namespace, settings, self.observers_for(family.name), grid_on_budget=True)
            started = time.perf_counter()
            found = search.run()
            result.runs.append(FamilyRun(family, found, time.perf_counter() - started))
            result._searches[family.name] = search
            if found.note:
                result.notes.append(f"{family.name}: {found.note}")
            if found.best_trial is None:
                reasons = [t.user_attrs[FAIL_REASON] for t in found.study.trials if FAIL_REASON in t.user_attrs]
                last_line = [line for line in (reasons[0] if reasons else "").splitlines() if line.strip()][-1:]
                result.notes.append(f"{family.name}: no trial finished ({(last_line or [found.stop_reason])[0][:160]})")
            if found.stop_reason in STOPPED_BY_USER:
                result.stop_reason = found.stop_reason
                result.notes.append(f"{found.stop_reason}: the leaderboard has the families that ran")
                break
        if result.winner is not None:
            result.best_estimator = result.refit(result.winner)
        return result


def _nested(run: _FamilySearches, X: Any, y: Any, k: int, prefix: str) -> AutoMLNested:
    """Run the whole family search on each outer training part; score its winner on the held-out part."""
    from sklearn.metrics import check_scoring

    splitter, _ = outer_splitter(y, k, run.template.seed, classes=run.task == "classification")
    report = AutoMLNested(k)
    for index, (train, test) in enumerate(splitter.split(X, y), start=1):
        inner = run(take(X, train), take(y, train), f"{prefix}-outer{index}")
        if inner.stop_reason in STOPPED_BY_USER:
            break
        if inner.winner is None:
            continue
        scorer = check_scoring(inner.best_estimator, scoring=run.template.scoring.scoring)
        report.winners.append(inner.winner)
        report.inner.append(inner.ranked[0].best)
        report.outer_scores.append(float(scorer(inner.best_estimator, take(X, test), take(y, test))))
    return report


def _dummy(task: str) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyClassifier(strategy="prior") if task == "classification" else DummyRegressor()
