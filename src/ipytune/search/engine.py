"""One search loop over one ``optuna.Study``, whatever the method.

Every method is an Optuna sampler, so storage, resume, pruning and results
are written once. The loop uses Optuna's ask/tell interface so that it, not
Optuna, decides what an interrupt, a failed trial or a bad objective means:
a finished trial is always told to the study before anything else happens.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import optuna
from IPython.core.error import UsageError
from optuna.trial import FrozenTrial, TrialState

try:
    from optuna.study._tell import _tell_with_warning
except ImportError:  # pragma: no cover - a future Optuna may move it
    _tell_with_warning = None  # type: ignore[assignment]

from ipytune.search.cell import CellProgram
from ipytune.search.samplers.gp import BayesOptSampler
from ipytune.search.samplers.grid import FastGridSampler
from ipytune.search.settings import METHODS, PRUNERS, STATIC_METHODS
from ipytune.search.space import Param
from ipytune.search.storage import fresh_study_name, open_storage
from ipytune.search.trial import BadObjective, Scoring, evaluate

DEFAULT_TRIALS = 20
METHOD_ATTR = "ipytune:method"
FAIL_REASON = "fail_reason"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


@dataclass
class SearchSettings:
    method: str = "tpe"
    n_trials: int | None = None
    timeout: float | None = None
    direction: str = "maximize"
    seed: int | None = None
    study_name: str | None = None
    storage: str | None = None
    catch: bool = False
    scoring: Scoring = field(default_factory=Scoring)
    prune: str = "none"  # median | hyperband | halving | none
    seeds: tuple[int, ...] | None = None  # --seeds: every trial runs once per seed
    deterministic: bool = False  # with a seed: also PyTorch's determinism switches

    @property
    def run_seeds(self) -> tuple[int, ...]:
        """The seeds every trial runs under: --seeds, else --seed alone, else none (RNGs left as they are)."""
        if self.seeds:
            return self.seeds
        return () if self.seed is None else (self.seed,)


class Observer(Protocol):
    """Sees the search as it goes: progress displays, trackers, dashboards.

    ``update`` is called on the critical path after every trial is told to the
    study, so an observer must be cheap there (throttle, or hand work to a thread).
    """

    def start(self, study: optuna.Study, total: int) -> None: ...
    def update(self, study: optuna.Study, trial: FrozenTrial) -> None: ...
    def finish(self, study: optuna.Study, reason: str) -> None: ...


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """No "study created" / "trial finished" log line per trial: the progress display says it."""
    logger = logging.getLogger("optuna")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


@dataclass
class SearchOutcome:
    study: optuna.Study
    sampler: optuna.samplers.BaseSampler
    params: list[Param]
    stop_reason: str = "completed"  # completed | timeout | interrupted | grid exhausted | error | stopped
    error: ExcInfo | None = None  # a user exception that stopped the search
    error_trial: int | None = None
    trials_run: int = 0


def make_sampler(method: str, params: list[Param], seed: int | None) -> optuna.samplers.BaseSampler:
    if method == "grid":
        return FastGridSampler(params, seed=seed)
    if method == "gp":
        return BayesOptSampler(params, seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise UsageError(f"--method {method!r} is not one of {', '.join(METHODS)}.")


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """Optuna's pruner for ``--prune``; any sampler works with any of them, grid and gp included."""
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"--prune {name!r} is not one of {', '.join(PRUNERS)}.")


def open_study(settings: SearchSettings, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """Create the study, or load it when ``--study`` names one that exists (resume)."""
    storage = open_storage(settings.storage)
    name = settings.study_name or fresh_study_name(settings.method)
    with quiet_optuna():
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=sampler,
            pruner=make_pruner(settings.prune),
            direction=optuna.study.StudyDirection[settings.direction.upper()],
            load_if_exists=True,
        )
    if study.direction.name.lower() != settings.direction:
        raise UsageError(
            f"study {name!r} was created to {study.direction.name.lower()}: pass "
            f"--{study.direction.name.lower()}, or choose another --study."
        )
    method = study.user_attrs.get(METHOD_ATTR)
    if method is None:
        study.set_user_attr(METHOD_ATTR, settings.method)
    elif method != settings.method:
        raise UsageError(
            f"study {name!r} was run with --method {method}: pass --method {method} to resume it, "
            f"or choose another --study."
        )
    return study


def prepare(program: CellProgram, user_ns: dict[str, Any], settings: SearchSettings) -> SearchOutcome:
    """Everything that can fail before a trial runs: space, sampler, study."""
    if settings.method not in METHODS:
        raise UsageError(f"--method {settings.method!r} is not one of {', '.join(METHODS)}.")
    params = program.static_space(user_ns, settings.method, require=settings.method in STATIC_METHODS)
    if settings.method in STATIC_METHODS and not params:
        raise UsageError(
            f"--method {settings.method} found no tune.int/float/choice declaration in the cell: "
            f"declare at least one parameter to search."
        )
    if settings.scoring.data is not None:
        settings.scoring.check_data(user_ns)
    sampler = make_sampler(settings.method, params, settings.seed)
    study = open_study(settings, sampler)
    return SearchOutcome(study=study, sampler=sampler, params=params)


def planned_trials(outcome: SearchOutcome, settings: SearchSettings) -> int:
    sampler = outcome.sampler
    if isinstance(sampler, FastGridSampler):
        remaining = sampler.remaining(outcome.study)
        return remaining if settings.n_trials is None else min(settings.n_trials, remaining)
    return DEFAULT_TRIALS if settings.n_trials is None else settings.n_trials


def run_search(
    program: CellProgram,
    user_ns: dict[str, Any],
    settings: SearchSettings,
    outcome: SearchOutcome,
    observers: Sequence[Observer],
    should_stop: Callable[[], bool] = lambda: False,
) -> SearchOutcome:
    """Run the trials; returns with every finished trial told to the study.

    ``should_stop`` is polled between trials (a dashboard's Stop button).
    """
    study = outcome.study
    total = planned_trials(outcome, settings)
    if total == 0 and isinstance(outcome.sampler, FastGridSampler):
        outcome.stop_reason = "grid exhausted"
    for observer in observers:
        observer.start(study, total)
    try:
        with quiet_optuna():
            _loop(program, user_ns, settings, outcome, observers, should_stop, total)
    finally:
        for observer in observers:
            observer.finish(study, outcome.stop_reason)
    return outcome


def _loop(
    program: CellProgram,
    user_ns: dict[str, Any],
    settings: SearchSettings,
    outcome: SearchOutcome,
    observers: Sequence[Observer],
    should_stop: Callable[[], bool],
    total: int,
) -> None:
    study = outcome.study
    started = time.monotonic()
    trial = None
    try:
        while outcome.trials_run < total:
            if settings.timeout is not None and time.monotonic() - started >= settings.timeout:
                outcome.stop_reason = "timeout"
                return
            if should_stop():
                outcome.stop_reason = "stopped"
                return
            trial = study.ask()
            if getattr(outcome.sampler, "exhausted", False):  # another worker took the last points
                study.tell(trial, state=TrialState.FAIL)
                outcome.stop_reason = "grid exhausted"
                return
            state, value = _run_one(program, user_ns, settings, trial, outcome)
            finished = _tell(study, trial, value, state)
            trial = None
            outcome.trials_run += 1
            for observer in observers:
                observer.update(study, finished)
            if outcome.error is not None:
                outcome.stop_reason = "error"
                return
    except KeyboardInterrupt:
        outcome.stop_reason = "interrupted"
        if trial is not None:  # the trial that was running when the interrupt came
            trial.set_user_attr(FAIL_REASON, "interrupted")
            study.tell(trial, state=TrialState.FAIL)
    except BaseException:
        if trial is not None:  # never leave a trial RUNNING in the storage
            study.tell(trial, state=TrialState.FAIL)
        raise


def _tell(study: optuna.Study, trial: optuna.Trial, value: float | None, state: TrialState) -> FrozenTrial:
    """``study.tell`` without the deep copy of the finished trial that Optuna makes for its caller.

    That copy is about 15 µs, a quarter of a random-search trial; observers only read the
    trial. Falls back to the public ``tell`` if Optuna's internal function moves.
    """
    if _tell_with_warning is None:
        return study.tell(trial, value, state=state)
    _tell_with_warning(study, trial, value, state)
    return study._storage.get_trial(trial._trial_id)


def _run_one(
    program: CellProgram,
    user_ns: dict[str, Any],
    settings: SearchSettings,
    trial: optuna.Trial,
    outcome: SearchOutcome,
) -> tuple[TrialState, float | None]:
    try:
        value = evaluate(program, user_ns, trial, settings.scoring, settings.run_seeds, settings.deterministic)
    except optuna.TrialPruned:
        return TrialState.PRUNED, None
    except BadObjective as bad:
        trial.set_user_attr(FAIL_REASON, str(bad))
        return TrialState.FAIL, None
    except (KeyboardInterrupt, UsageError):
        raise
    except Exception as error:
        trial.set_user_attr(FAIL_REASON, f"{type(error).__name__}: {error}")
        if not settings.catch:
            outcome.error = sys.exc_info()  # type: ignore[assignment]
            outcome.error_trial = trial.number
        return TrialState.FAIL, None
    return TrialState.COMPLETE, value
