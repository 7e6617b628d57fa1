"""Run a parsed cell as one trial and turn its last expression into a score.

Each trial runs in a shallow copy of the user namespace, so one trial's
variables never leak into the notebook or into the next trial. The refit run
is the only one that uses the real namespace.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from IPython.core.error import UsageError

from ipytune._context import LogSink, running
from ipytune.search.cell import CellProgram
from ipytune.search.settings import CV_SCORES, CV_STD, SEED_STD, SEED_VALUES, SEEDS, Scoring, SearchSettings


class BadObjective(Exception):
    """The cell ran but its last expression is not a usable score; the trial fails."""


def is_estimator(value: Any) -> bool:
    return hasattr(value, "fit") and hasattr(value, "get_params") and not isinstance(value, type)


def run_cell(program: CellProgram, namespace: dict[str, Any], trial: Any, log_sink: LogSink | None = None) -> Any:
    """Execute the cell in ``namespace`` with ``trial`` drawing the declarations; return its last value.

    ``log_sink`` takes the cell's ``tune.log`` rows (the search's tracker).
    """
    with running(trial, log_sink):
        exec(program.body, namespace)
        return eval(program.objective, namespace)


def evaluate(
    program: CellProgram,
    user_ns: dict[str, Any],
    trial: Any,
    settings: SearchSettings,
    log_sink: LogSink | None = None,
) -> float:
    """One trial: run the cell in a namespace copy and score what it returns.

    With one seed (``--seed``) every RNG is seeded first, so a trial does not depend
    on the trials before it; with several (``--seeds``) the cell runs once per seed,
    the mean is the score, and the values and their std go in the trial's user attrs.
    ``tune.report`` counts only in the first seed's run: Optuna keeps one value per step.
    """
    seeds = settings.run_seeds
    if len(seeds) <= 1:
        return _evaluate_once(program, user_ns, trial, settings, seeds[0] if seeds else None, log_sink)
    values = []
    for index, seed in enumerate(seeds):
        run_trial = trial if index == 0 else _NoReports(trial)
        values.append(_evaluate_once(program, user_ns, run_trial, settings, seed, log_sink))
    mean = statistics.fmean(values)
    if hasattr(trial, "set_user_attr"):
        trial.set_user_attr(SEEDS, list(seeds))
        trial.set_user_attr(SEED_VALUES, values)
        trial.set_user_attr(SEED_STD, statistics.pstdev(values))  # ddof=0, as cv_std and sklearn's std_test_score
    return mean


def _evaluate_once(
    program: CellProgram,
    user_ns: dict[str, Any],
    trial: Any,
    settings: SearchSettings,
    seed: int | None,
    log_sink: LogSink | None,
) -> float:
    if seed is not None:
        seed_run(seed, settings.deterministic)
    namespace = dict(user_ns)
    value = run_cell(program, namespace, trial, log_sink)
    if is_estimator(value):
        return _cross_validate(value, namespace, trial, settings.scoring)
    return to_score(value)


def seed_run(seed: int, deterministic: bool) -> None:
    """Seed every RNG before one run; the costly determinism switches only when asked for."""
    from ipytune.seeding import seed_everything, seed_generators

    if deterministic:
        seed_everything(seed, deterministic=True)
    else:
        seed_generators(seed)


class _NoReports:
    """A trial whose intermediate reports are dropped (later seeds of a multi-seed trial)."""

    def __init__(self, trial: Any) -> None:
        self._trial = trial

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)

    def report(self, value: float, step: int) -> None:
        pass

    def should_prune(self) -> bool:
        return False


def to_score(value: Any) -> float:
    """A number from the cell's last value, or :class:`BadObjective` saying what it was."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # NumPy scalars, 0-d arrays/tensors
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadObjective(_describe(value))
    score = float(value)
    if math.isnan(score):
        raise BadObjective("the cell returned NaN")
    if math.isinf(score):  # it would become the best score and be refitted
        raise BadObjective(f"the cell returned {score} (infinite): return a finite score")
    return score


def _describe(value: Any) -> str:
    if value is None:
        return "the cell returned None: its last line must evaluate to the score (a number)"
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"the cell returned a {type(value).__name__} ({shown}), not a number"


def _cross_validate(estimator: Any, namespace: dict[str, Any], trial: Any, scoring: Scoring) -> float:
    if scoring.data is None:
        raise UsageError(
            f"the cell returned a {type(estimator).__name__} estimator: pass --data X y to score it "
            f"with cross-validation, or end the cell with a number."
        )
    from sklearn.model_selection import cross_val_score

    X, y = (namespace[name] for name in scoring.data)
    scores = cross_val_score(estimator, X, y, cv=scoring.cv, scoring=scoring.scoring)
    if hasattr(trial, "set_user_attr"):
        trial.set_user_attr(CV_SCORES, [float(s) for s in scores])
        trial.set_user_attr(CV_STD, float(scores.std()))
    return to_score(scores.mean())


def refit(
    program: CellProgram, user_ns: dict[str, Any], params: dict[str, Any], scoring: Scoring, seed: int | None = None
) -> Any:
    """Run the cell once more in the real namespace with ``params``; fit a returned estimator on --data.

    With ``seed`` (--seed, or the first of --seeds) the RNGs are seeded first, as they were in the trial.
    """
    from optuna.trial import FixedTrial

    if seed is not None:
        seed_run(seed, deterministic=False)
    value = run_cell(program, user_ns, FixedTrial(params))
    if is_estimator(value) and scoring.data is not None:
        X, y = (user_ns[name] for name in scoring.data)
        value.fit(X, y)
    return value
