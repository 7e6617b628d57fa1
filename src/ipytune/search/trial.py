"""Run a parsed cell as one trial and turn its last expression into a score.

Each trial runs in a shallow copy of the user namespace, so one trial's
variables never leak into the notebook or into the next trial. The refit run
is the only one that uses the real namespace.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from ipytune.search.cell import CellProgram
from ipytune.search.declarations import tune


class BadObjective(Exception):
    """The cell ran but its last expression is not a usable score; the trial fails."""


@dataclass
class Scoring:
    """How an estimator returned by the cell is scored (``--data``, ``--cv``, ``--scoring``)."""

    data: tuple[str, str] | None = None
    cv: int = 5
    scoring: str | None = None

    def check_data(self, namespace: dict[str, Any]) -> None:
        missing = [n for n in self.data or () if n not in namespace]
        if missing:
            raise UsageError(f"--data names {', '.join(missing)}, which the notebook has not defined yet.")


def is_estimator(value: Any) -> bool:
    return hasattr(value, "fit") and hasattr(value, "get_params") and not isinstance(value, type)


def run_cell(program: CellProgram, namespace: dict[str, Any], trial: Any) -> Any:
    """Execute the cell in ``namespace`` with ``trial`` drawing the declarations; return its last value."""
    previous, tune._trial = tune._trial, trial
    try:
        exec(program.body, namespace)
        return eval(program.objective, namespace)
    finally:
        tune._trial = previous


def evaluate(
    program: CellProgram,
    user_ns: dict[str, Any],
    trial: Any,
    scoring: Scoring,
    seeds: Sequence[int] = (),
    deterministic: bool = False,
) -> float:
    """One trial: run the cell in a namespace copy and score what it returns.

    With one seed every RNG is seeded first, so a trial does not depend on the
    trials before it; with several, see :func:`evaluate_seeds`.
    """
    if len(seeds) > 1:
        return evaluate_seeds(program, user_ns, trial, scoring, seeds, deterministic)
    if seeds:
        seed_run(seeds[0], deterministic)
    namespace = dict(user_ns)
    value = run_cell(program, namespace, trial)
    if is_estimator(value):
        return _cross_validate(value, namespace, trial, scoring)
    return to_score(value)


def evaluate_seeds(
    program: CellProgram,
    user_ns: dict[str, Any],
    trial: Any,
    scoring: Scoring,
    seeds: Sequence[int],
    deterministic: bool = False,
) -> float:
    """Run the trial once per seed; the mean is the score, the values and their std go in user attrs.

    ``tune.report`` counts only in the first seed's run: Optuna keeps one value per step.
    """
    values = []
    for index, seed in enumerate(seeds):
        run_trial = trial if index == 0 else _NoReports(trial)
        values.append(evaluate(program, user_ns, run_trial, scoring, (seed,), deterministic))
    mean = statistics.fmean(values)
    if hasattr(trial, "set_user_attr"):
        trial.set_user_attr("seeds", list(seeds))
        trial.set_user_attr("seed_values", values)
        trial.set_user_attr("seed_std", statistics.pstdev(values))  # ddof=0, as cv_std and sklearn's std_test_score
    return mean


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
        trial.set_user_attr("cv_scores", [float(s) for s in scores])
        trial.set_user_attr("cv_std", float(scores.std()))
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
