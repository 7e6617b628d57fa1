"""ONE search of a cell over one ``optuna.Study``: prepare -> trial loop -> result.

Every feature runs its searches through :class:`Search`: ``%%tune`` runs one,
``--compare`` one per method, ``--nested`` one per outer fold, ``%automl`` one per
model family. They choose settings and observers; the engine owns evaluation,
stopping, the result and what a failure means, as scikit-learn's
``BaseSearchCV.fit`` owns evaluation while ``_run_search`` only schedules.

Every method is an Optuna sampler, so storage, resume, pruning and results are
written once. The loop uses Optuna's ask/tell interface so that it, not Optuna,
decides what an interrupt, a failed trial or a bad objective means: a finished
trial is always told to the study before anything else happens.

Where trials run is a :class:`Transport`: by default one after another in this
process (:meth:`Search._run_trials`); worker processes or a cluster are other
transports. Preparing, stopping, the result and the errors stay as they are.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import optuna
from IPython.core.error import UsageError
from optuna.trial import FrozenTrial, TrialState

from ipytune import _context as context
from ipytune._context import LogSink
from ipytune.search._optuna import fast_tell, stored_trial
from ipytune.search.cell import CellProgram
from ipytune.search.recovery import fail_dead_trials, register_process
from ipytune.search.result import TuneResult
from ipytune.search.samplers import FastGridSampler, make_pruner, make_sampler
from ipytune.search.samplers.budget import budget_grid_sampler
from ipytune.search.settings import (
    CV_SCORES,
    DEFAULT_TRIALS,
    FAIL_REASON,
    METHOD_ATTR,
    STATIC_METHODS,
    SearchSettings,
    StopReason,
)
from ipytune.search.space import Param
from ipytune.search.storage import fresh_study_name, open_storage, storage_key
from ipytune.search.trial import BadObjective, NotANumber, evaluate, refit

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


class Observer(Protocol):
    """Sees the search as it goes: progress displays, trackers, dashboards.

    ``update`` is called on the critical path after every trial is told to the
    study, so an observer must be cheap there (throttle, or hand work to a thread).
    """

    def start(self, study: optuna.Study, total: int) -> None: ...
    def update(self, study: optuna.Study, trial: FrozenTrial) -> None: ...
    def finish(self, study: optuna.Study, reason: str) -> None: ...


@runtime_checkable
class Stoppable(Protocol):
    """An observer the user can stop the search from (the dashboard's Stop button)."""

    def should_stop(self) -> bool: ...


@runtime_checkable
class Tracker(Protocol):
    """An observer that also takes the running trial's ``tune.log`` rows."""

    def log(self, number: int, metrics: dict[str, Any], step: int | None) -> None: ...


@contextmanager
def interrupts_held() -> Iterator[list[int]]:
    """Ctrl-C waits until the block is done (the list says whether one came): for a search's last steps.

    Only the main thread receives signals; elsewhere the block runs as it is.
    """
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


class Transport(Protocol):
    """Where a search's trials run (in this process by default; worker processes, a cluster).

    ``run`` returns when the search is over: the budget spent, ``--timeout``, a stop,
    a user error or an interrupt. It calls ``search.notify(study, trial)`` for every
    finished trial (in the kernel, so observers and tracking stay here), polls
    ``search.should_stop(study)``, and sets ``search.stop_reason`` / ``search.error``.
    """

    def run(self, search: Search, study: optuna.Study, total: int) -> None: ...


@runtime_checkable
class Preflight(Protocol):
    """A transport that checks, before the study is opened or anything runs, that the search can go
    where it sends it (the worker processes' payload, the storage they share): misuse is one line."""

    def preflight(self, search: Search) -> None: ...


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


def open_study(settings: SearchSettings, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """Create the study, or load it when ``--study`` names one that exists (resume)."""
    storage = open_storage(settings.storage)
    name = settings.study_name or fresh_study_name(settings.method)
    with quiet_optuna():
        try:  # a study that exists is loaded, not created again: a resume that is refused writes nothing
            storage.get_study_id_from_name(name)
        except KeyError:
            study = optuna.create_study(
                study_name=name,
                storage=storage,
                sampler=sampler,
                pruner=make_pruner(settings.prune),
                direction=optuna.study.StudyDirection[settings.direction.upper()],
                load_if_exists=True,  # another process may create it at the same moment
            )
        else:
            study = optuna.load_study(
                study_name=name, storage=storage, sampler=sampler, pruner=make_pruner(settings.prune)
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
    fail_dead_trials(study)  # RUNNING trials of processes that died (kill -9): Optuna's journal has no heartbeat
    return study


def read_space(program: CellProgram, namespace: dict[str, Any], method: str) -> list[Param]:
    """The cell's declarations, evaluated before any trial; grid and gp need them all, statically."""
    static = method in STATIC_METHODS
    params = program.static_space(namespace, method, require=static)
    if static and not params:
        raise UsageError(
            f"--method {method} found no tune.int/float/choice declaration in the cell: "
            f"declare at least one parameter to search."
        )
    return params


def run_one(
    program: CellProgram,
    namespace: dict[str, Any],
    trial: optuna.Trial,
    settings: SearchSettings,
    log_sink: LogSink | None = None,
) -> tuple[TrialState, float | None, ExcInfo | None]:
    """Run one trial and say what its outcome means: its state, its value, and the exception of a cell
    that raised (it stops the search unless ``--catch``). Every transport's trials run through it."""
    try:
        value = evaluate(program, namespace, trial, settings, log_sink)
    except optuna.TrialPruned:
        return TrialState.PRUNED, None, None
    except BadObjective as bad:
        trial.set_user_attr(FAIL_REASON, str(bad))
        if isinstance(bad, NotANumber) and not settings.catch and not _any_complete(trial):
            raise UsageError(
                f"trial {trial.number}: {bad}; every trial of this cell would fail the same way, so the search "
                f"stopped: end the cell with the score (or add --catch if only some trials return no number)."
            ) from None
        return TrialState.FAIL, None, None
    except (KeyboardInterrupt, UsageError):
        raise
    except SystemExit as leaving:  # sys.exit() in the cell: the search ends here, its finished trials stay
        trial.set_user_attr(FAIL_REASON, f"the cell called sys.exit({leaving.code!r})")
        kept = len(trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        raise UsageError(
            f"trial {trial.number} called sys.exit({leaving.code!r}): the search stopped there; {kept} finished "
            f"trials are kept in study {trial.study.study_name!r} (tune.last)."
        ) from None
    except Exception as error:
        trial.set_user_attr(FAIL_REASON, f"{type(error).__name__}: {error}")
        return TrialState.FAIL, None, sys.exc_info()  # type: ignore[return-value]
    return TrialState.COMPLETE, value, None


def _any_complete(trial: optuna.Trial) -> bool:
    """Whether the trial's study has a complete trial (then the cell can return a number)."""
    return bool(trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


class Search:
    """One search: ``Search(program, namespace, settings, observers).run()`` returns a :class:`TuneResult`.

    - ``params``: the space, when the caller has read it already (once for several searches);
    - ``grid_on_budget``: grid runs a grid coarsened to about ``n_trials`` points (``--compare``,
      ``%automl``) instead of the declared one;
    - ``stop_when(study)``: one more reason to stop between trials, besides Ctrl-C, ``--timeout``
      and a Stop button of any observer.
    """

    def __init__(
        self,
        program: CellProgram,
        namespace: dict[str, Any],
        settings: SearchSettings,
        observers: Sequence[Observer] = (),
        *,
        params: list[Param] | None = None,
        grid_on_budget: bool = False,
        stop_when: Callable[[optuna.Study], bool] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.program = program
        self.namespace = namespace
        self.settings = settings
        self.observers = list(observers)
        self.params = params
        self.grid_on_budget = grid_on_budget
        self.stop_when = stop_when
        self.transport = transport
        self.study: optuna.Study | None = None
        self.sampler: optuna.samplers.BaseSampler | None = None
        self.note = ""  # what a reader of the result should know about this search (the budget grid)
        self.stop_reason: StopReason = "completed"
        self.error: ExcInfo | None = None  # a user exception that stopped the search
        self.error_trial: int | None = None
        self.trials_run = 0
        self._stoppable = [o for o in self.observers if isinstance(o, Stoppable)]
        self._log_sink: LogSink | None = next((o for o in self.observers if isinstance(o, Tracker)), None)

    # -- prepare: everything that can fail before a trial runs ------------------------------------
    def prepare(self) -> optuna.Study:
        """Read the space, check the data, make the sampler and open the study (once)."""
        if self.study is not None:
            return self.study
        settings = self.settings
        if self.params is None:
            self.params = read_space(self.program, self.namespace, settings.method)
        if settings.scoring.data is not None:
            settings.scoring.check_data(self.namespace)
        if settings.method == "grid" and self.grid_on_budget:
            budget = settings.n_trials or DEFAULT_TRIALS
            self.sampler, self.note = budget_grid_sampler(self.params, budget, settings.seed)
        else:
            self.sampler = make_sampler(settings.method, self.params, settings.seed)
        if isinstance(self.transport, Preflight):
            self.transport.preflight(self)
        study = open_study(settings, self.sampler)
        if isinstance(self.sampler, FastGridSampler):
            self.sampler.remaining(study)  # a resumed grid must be the cell's grid: refused before it is the search's
        self.study = study
        return study

    @property
    def log_sink(self) -> LogSink | None:
        """The observer that takes ``tune.log`` rows (the tracker); a transport feeds it the workers' rows."""
        return self._log_sink

    def planned_trials(self) -> int:
        sampler, n_trials = self.sampler, self.settings.n_trials
        if isinstance(sampler, FastGridSampler):
            assert self.study is not None
            remaining = sampler.remaining(self.study)
            return remaining if n_trials is None else min(n_trials, remaining)
        return DEFAULT_TRIALS if n_trials is None else n_trials

    # -- run ----------------------------------------------------------------------------------------
    def run(self) -> TuneResult:
        """Run the trials; returns with every finished trial told to the study, whatever stopped it."""
        study = self.prepare()
        outside = context.snapshot()
        started: list[Observer] = []
        try:
            total = self.planned_trials()
            if total == 0 and isinstance(self.sampler, FastGridSampler):
                self.stop_reason = "grid exhausted"
            for observer in self.observers:
                observer.start(study, total)
                started.append(observer)
            with quiet_optuna():
                if self.transport is None:
                    self._run_trials(study, total)
                else:
                    self.transport.run(self, study, total)
        except KeyboardInterrupt:  # one that landed between trials, outside the loop's own handler
            self.stop_reason = "interrupted"
        finally:
            with interrupts_held() as held:  # the tracker must write every finished trial
                context.restore(outside)
                for observer in started:
                    observer.finish(study, self.stop_reason)
                result = self.result()
        if held:
            result.stop_reason = self.stop_reason = "interrupted"
        return result

    def should_stop(self, study: optuna.Study) -> bool:
        """Polled between trials: a Stop button was clicked, or the caller's own condition holds."""
        if any(o.should_stop() for o in self._stoppable):
            return True
        return self.stop_when is not None and self.stop_when(study)

    def _run_trials(self, study: optuna.Study, total: int) -> None:
        """The transport: here, trials run one after another in this process."""
        started = time.monotonic()
        timeout = self.settings.timeout
        trial = None
        if storage_key(self.settings.storage) != "memory":  # a memory study dies with this process
            register_process(study)  # so that a kill -9 of this process does not leave its trial RUNNING
        try:
            while self.trials_run < total:
                if timeout is not None and time.monotonic() - started >= timeout:
                    self.stop_reason = "timeout"
                    return
                if self.should_stop(study):
                    self.stop_reason = "stopped"
                    return
                trial = study.ask()
                if getattr(self.sampler, "exhausted", False):  # another worker took the last points
                    study.tell(trial, state=TrialState.FAIL)
                    self.stop_reason = "grid exhausted"
                    return
                state, value = self._run_one(trial)
                finished = fast_tell(study, trial, value, state)
                trial = None
                self.notify(study, finished)
                if self.error is not None:
                    self.stop_reason = "error"
                    return
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"
            if trial is not None:  # the trial that was running, or being told, when the interrupt came
                self._close_interrupted(study, trial)
        except BaseException:
            if trial is not None:  # never leave a trial RUNNING in the storage
                study.tell(trial, state=TrialState.FAIL)
            raise

    def _close_interrupted(self, study: optuna.Study, trial: optuna.Trial) -> None:
        stored = stored_trial(study, trial)
        if stored.state.is_finished():  # told just before the interrupt: it counts, as any finished trial
            self.notify(study, stored)
            return
        trial.set_user_attr(FAIL_REASON, "interrupted")
        study.tell(trial, state=TrialState.FAIL)

    def notify(self, study: optuna.Study, finished: FrozenTrial) -> None:
        """A trial of this search finished (here or in a worker): count it and tell every observer."""
        self.trials_run += 1
        for observer in self.observers:
            observer.update(study, finished)

    def _run_one(self, trial: optuna.Trial) -> tuple[TrialState, float | None]:
        """One trial, and what its outcome means: complete, pruned, failed, or a failure that stops the search."""
        state, value, error = run_one(self.program, self.namespace, trial, self.settings, self._log_sink)
        if error is not None and not self.settings.catch:
            self.error = error
            self.error_trial = trial.number
        return state, value

    # -- after --------------------------------------------------------------------------------------
    def result(self) -> TuneResult:
        """The one place a :class:`TuneResult` is made."""
        assert self.study is not None, "prepare() or run() first"
        return TuneResult(
            study=self.study,
            method=self.settings.method,
            params=self.params or [],
            stop_reason=self.stop_reason,
            sampler=self.sampler,
            trials_run=self.trials_run,
            error=self.error,
            error_trial=self.error_trial,
            note=self._notes(),
        )

    def _notes(self) -> str:
        notes = [self.note] if self.note else []
        assert self.study is not None
        data = self.settings.scoring.data
        if data is not None:  # cross-validation only happens for a returned estimator: say when it did not
            complete = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if complete and not any(CV_SCORES in t.user_attrs for t in complete):
                notes.append(f"--data {' '.join(data)} was not used: the cell returned a number, not an estimator")
        return "; ".join(notes)

    def refit(self, result: TuneResult, namespace: dict[str, Any] | None = None) -> Any:
        """Run the cell once more with the best parameters (in the real namespace unless another is given),
        seeded as the trials were; a returned estimator is fitted on ``--data``."""
        return refit(
            self.program,
            self.namespace if namespace is None else namespace,
            result.stored_best_params,
            self.settings.scoring,
            seed=self.settings.seed,
        )
