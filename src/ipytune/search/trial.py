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
from ipytune.search.settings import (
    CV_SCORES,
    CV_STD,
    FAIL_REASON,
    SEED_STD,
    SEED_VALUES,
    SEEDS,
    Scoring,
    SearchSettings,
    class_fold_problem,
)


class BadObjective(Exception):
    """The cell ran but its last expression is not a usable score; the trial fails."""


class NotANumber(BadObjective):
    """The cell's last expression is not a number at all (None, a string, a list...): a fault of the
    cell, not of the trial's values, so every trial would fail the same way."""


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
        return _cross_validate(value, namespace, trial, settings)
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
        raise NotANumber(_describe(value))
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


def _cross_validate(estimator: Any, namespace: dict[str, Any], trial: Any, settings: SearchSettings) -> float:
    scoring = settings.scoring
    if scoring.data is None:
        raise UsageError(
            f"the cell returned a {type(estimator).__name__} estimator: pass --data X y to score it "
            f"with cross-validation, or end the cell with a number."
        )
    from sklearn.model_selection import cross_val_score

    X, y = (namespace[name] for name in scoring.data)
    try:  # "raise": the estimator's own error, not NaN scores and "All the 5 fits failed"
        scores = cross_val_score(estimator, X, y, cv=scoring.cv, scoring=scoring.scoring, error_score="raise")
    except Exception as error:
        from optuna import TrialPruned

        if isinstance(error, (TrialPruned, UsageError, BadObjective)):  # tune.report in a fit, ipytune's own lines
            raise
        raise fit_failure(error, estimator, y, trial, settings) from None
    if hasattr(trial, "set_user_attr"):
        trial.set_user_attr(CV_SCORES, [float(s) for s in scores])
        trial.set_user_attr(CV_STD, float(scores.std()))
    return to_score(scores.mean())


def fit_failure(error: BaseException, estimator: Any, y: Any, trial: Any, settings: SearchSettings) -> Exception:
    """What an error in ipytune's cross-validation of a returned estimator means, in the user's terms.

    Folds a classifier cannot stratify are a usage error. Otherwise the estimator's own error and the
    trial's parameters: with ``--catch`` the trial fails with them as its reason (:class:`BadObjective`)
    and the search goes on; without, one line stops the search (a traceback would be scikit-learn's
    and ipytune's frames), saying whether ``--catch`` can help: only if other values fitted.
    """
    from sklearn.base import is_classifier

    scoring = settings.scoring
    assert scoring.data is not None
    if y is not None and is_classifier(estimator):
        problem = class_fold_problem(y, scoring.cv, scoring.data[1])
        if problem:
            return UsageError(problem)
    error = _origin(error, estimator)
    reason = f"{_where(error, estimator)} raised {type(error).__name__}: {_one_line(str(error))}{_user_frame(error)}"
    if settings.catch:
        return BadObjective(reason)
    if hasattr(trial, "set_user_attr"):
        trial.set_user_attr(FAIL_REASON, reason)
    params = ", ".join(f"{k}={v!r}" for k, v in getattr(trial, "params", {}).items()) or "no parameters"
    study = getattr(trial, "study", None)
    if study is not None and (fitted := len(study.get_trials(deepcopy=False, states=(_complete(),)))):
        advice = (
            f"{fitted} trials fitted with other values (kept in study {study.study_name!r}): add --catch to "
            f"record the values that fail as failed trials and go on"
        )
    else:
        advice = (
            f"no trial has fitted yet: fix the estimator or --data {' '.join(scoring.data)} "
            f"(--catch only helps if other values fit)"
        )
    number = getattr(trial, "number", None)
    return UsageError(f"{'' if number is None else f'trial {number} '}with {params}: {reason}; {advice}.")


def _complete() -> Any:
    from optuna.trial import TrialState

    return TrialState.COMPLETE


def _origin(error: BaseException, estimator: Any) -> BaseException:
    """The exception the estimator raised, where scikit-learn re-raised it as another (its parameter
    validation then names ``cross_val_score`` instead of the estimator); else ``error``."""
    cause: BaseException | None = error
    while cause is not None:
        if _method(cause, estimator) is not None:
            return cause
        cause = cause.__cause__
    return error


def _where(error: BaseException, estimator: Any) -> str:
    """``Estimator.fit`` (or ``Estimator``) when the estimator raised ``error``, else what ipytune was doing."""
    name = type(estimator).__name__
    method = _method(error, estimator)
    if method is None:
        return f"cross-validating {name}"
    return name if method.startswith("_") else f"{name}.{method}"


def _method(error: BaseException, estimator: Any) -> str | None:
    """The estimator's method ``error`` came out of (its public one when both appear), or None."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        code, owner = tb.tb_frame.f_code, tb.tb_frame.f_locals.get("self")
        if type(owner) is type(estimator) and (found is None or found.startswith("_")):
            found = code.co_name
        tb = tb.tb_next
    return found


def _user_frame(error: BaseException) -> str:
    """`` (in fit, <file>:<line>)`` when the error was raised by code of the user's (a notebook's
    estimator), not by an installed library; else ''."""
    import sysconfig

    tb = error.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    libraries = {sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")}
    if any(code.co_filename.startswith(folder) for folder in libraries):
        return ""
    return f" (in {code.co_name}, {code.co_filename}:{tb.tb_lineno})"


def _one_line(message: str, limit: int = 300) -> str:
    text = " ".join(message.split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
