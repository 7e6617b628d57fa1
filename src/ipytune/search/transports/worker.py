"""The worker loop: one worker's share of a parallel search, the same whatever runs it.

:func:`run_worker` is an importable module function taking and returning plain picklable
dataclasses, so any executor can run it: a loky process or a thread of the kernel
(:mod:`.processes`), a Dask worker (``--cluster``). It opens the study from ordinary
Optuna storage by name, builds its own sampler (:mod:`.samplers`), and runs ask ->
evaluate -> tell until its quota, the deadline, a stop or an exception ends it. The
kernel side (:mod:`.driver`) makes the jobs, polls the storage and reads the reports.

What travels back is in the storage, where the kernel reads it: each trial's owner
(host, pid, run, worker: :mod:`ipytune.search.recovery`), its ``tune.log`` rows
(system attr :data:`LOG_ROWS`, when the kernel tracks), its ``fail_reason``. A worker
process prints nothing into the cell (its stdout, stderr and Optuna's logger are
silenced) and a Ctrl-C reaching it ends its running trial as FAIL "interrupted".
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from IPython.core.error import UsageError
from optuna.trial import TrialState

from ipytune.search._optuna import set_trial_system_attr
from ipytune.search.engine import run_one
from ipytune.search.recovery import HOST, record_owner
from ipytune.search.samplers import make_pruner
from ipytune.search.samplers.gp import Acquisition
from ipytune.search.settings import FAIL_REASON, SearchSettings
from ipytune.search.space import Param
from ipytune.search.storage import open_storage
from ipytune.search.transports.cell_error import CellError, describe
from ipytune.search.transports.payload import LocalPayload, Payload
from ipytune.search.transports.samplers import worker_sampler

LOG_ROWS = "ipytune:log"  # trial system attr: [[step, {metric: value}], ...] of its tune.log calls


def stop_key(run: str) -> str:
    """The study system attr that tells the workers of ``run`` to stop (its value says why)."""
    return f"ipytune:stop:{run}"


@dataclass(frozen=True)
class WorkerJob:
    """One worker's share of a parallel search (see :func:`run_worker`)."""

    study_name: str
    storage: str  # a storage spec every worker can open: an absolute journal path or a URL
    settings: SearchSettings
    params: tuple[Param, ...]  # the space (grid and gp draw from it)
    payload: Payload | LocalPayload
    run: str  # this parallel search: tags its trials, names its stop flag
    worker_index: int
    quota: int | None  # at most this many trials (None: until the grid, the deadline or a stop ends it)
    deadline: float | None = None  # time.time() after which no trial starts (--timeout)
    grid_values: tuple[Any, ...] | None = None  # grid: each parameter's values (lazy ranges), a budget grid's
    acquisition: Acquisition = "ucb"  # gp
    collect_logs: bool = False  # the kernel tracks: send tune.log rows back in the trials
    isolated: bool = True  # a process of its own: silence it, run in cwd, take Ctrl-C per trial
    cwd: str | None = None  # the kernel's working directory, for the cell's relative paths


@dataclass
class WorkerReport:
    """How a worker's loop ended. ``stop``: quota, timeout, stopped, interrupted, grid exhausted,
    error (``error`` says which trial raised what) or usage (``usage``: a one-line misuse)."""

    worker_index: int
    host: str
    pid: int
    trials: list[int] = field(default_factory=list)  # the trials it ran and told, in order
    stop: str = "quota"
    error: CellError | None = None
    usage: str | None = None


def run_worker(job: WorkerJob) -> WorkerReport:
    """Run ``job``: open the study, then ask -> evaluate -> tell until the job's share is done.

    Transport-agnostic: a transport makes the jobs (``driver.make_jobs``), runs one
    ``run_worker(job)`` per worker wherever it likes (one long task per worker, not one per
    trial: the payload is unpickled once), and in the kernel polls the storage for finished
    trials, sets the stop flag on Stop / Ctrl-C, fails what is left RUNNING and reads the
    reports (``driver.Driver``). It must not print: its output is silenced when
    ``job.isolated``. A worker never writes tracking; an exception in the cell without
    ``--catch`` stops every worker of the run (through the stop flag) and comes back in
    ``report.error``.
    """
    report = WorkerReport(job.worker_index, HOST, os.getpid())
    with _isolated(job), _interruptible(job) as signals:
        program, namespace = job.payload.load()
        storage = open_storage(job.storage)
        study_id = storage.get_study_id_from_name(job.study_name)
        sampler = worker_sampler(
            job.settings.method,
            job.params,
            job.settings.seed,
            job.worker_index,
            job.run,
            job.grid_values,
            job.acquisition,
        )
        study = optuna.load_study(
            study_name=job.study_name, storage=storage, sampler=sampler, pruner=make_pruner(job.settings.prune)
        )
        sink = _Rows() if job.collect_logs else None
        while job.quota is None or len(report.trials) < job.quota:
            if job.deadline is not None and time.time() >= job.deadline:
                report.stop = "timeout"
                break
            if signals.interrupted:
                report.stop = "interrupted"
                break
            if stop_key(job.run) in storage.get_study_system_attrs(study_id):
                report.stop = "stopped"
                break
            trial = study.ask()
            if getattr(sampler, "exhausted", False):  # another worker or process took the last points
                study.tell(trial, state=TrialState.FAIL)
                report.stop = "grid exhausted"
                break
            record_owner(study, trial, job.run, job.worker_index)
            try:
                with signals.in_trial():
                    state, value, error = run_one(program, namespace, trial, job.settings, sink)
            except KeyboardInterrupt:
                _close(study, trial, "interrupted")
                report.stop = "interrupted"
                break
            except UsageError as usage:
                _close(study, trial, str(usage))
                report.stop, report.usage = "usage", str(usage)
                storage.set_study_system_attr(study_id, stop_key(job.run), "usage")
                break
            except BaseException:
                _close(study, trial, "the worker failed")
                raise
            rows = sink.rows.pop(trial.number, None) if sink is not None else None
            if rows:
                set_trial_system_attr(study, trial, LOG_ROWS, rows)
            if not _tell(study, trial, value, state):  # the kernel failed it meanwhile (Ctrl-C)
                report.stop = "stopped"
                break
            report.trials.append(trial.number)
            if error is not None and not job.settings.catch:
                report.stop, report.error = "error", describe(error, trial.number, job.payload.filename)
                storage.set_study_system_attr(study_id, stop_key(job.run), "error")
                break
    return report


def _tell(study: optuna.Study, trial: optuna.Trial, value: float | None, state: TrialState) -> bool:
    """Tell the trial; False when it was finished already (the kernel failed it after a Ctrl-C)."""
    told = study.tell(trial, value, state=state, skip_if_finished=True)
    return told.state == state


def _close(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    """Fail a trial the loop cannot finish, unless the kernel already did."""
    try:
        trial.set_user_attr(FAIL_REASON, reason)
        study.tell(trial, state=TrialState.FAIL)
    except Exception:
        pass


class _Rows:
    """The worker's ``tune.log`` sink: rows per trial, sent back with the trial (JSON values only)."""

    def __init__(self) -> None:
        self.rows: dict[int, list[list[Any]]] = {}

    def log(self, number: int, metrics: dict[str, Any], step: int | None) -> None:
        self.rows.setdefault(number, []).append([step, {str(k): _plain(v) for k, v in metrics.items()}])


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # NumPy scalars, 0-d tensors
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


# -- the process around the loop -------------------------------------------------------------------
@contextmanager
def _isolated(job: WorkerJob) -> Iterator[None]:
    """In a process of its own: the kernel's working directory, and no output into the cell."""
    if not job.isolated:
        yield
        return
    logging.getLogger("optuna").setLevel(logging.ERROR)  # no "Trial N finished" line per trial
    try:
        previous: str | None = os.getcwd()
    except OSError:  # the folder this worker started in was removed: nothing to go back to
        previous = None
    with open(os.devnull, "w") as null, redirect_stdout(null), redirect_stderr(null):
        try:
            if job.cwd is not None:
                os.chdir(job.cwd)
            yield
        finally:
            if previous is not None:
                with contextlib.suppress(OSError):
                    os.chdir(previous)


class _Signals:
    """Ctrl-C in a worker process: it ends the running trial (FAIL "interrupted"), or the loop between trials.

    A KeyboardInterrupt is raised only while the cell's own code (or a library it calls) runs: one
    raised inside Optuna's or ipytune's bookkeeping (a storage write, the journal's lock) could leave
    the storage half-written. There the interrupt is retried every :data:`_RETRY_S` seconds.
    """

    def __init__(self, cell: str) -> None:
        self.cell = cell
        self.interrupted = False
        self._in_trial = False

    def handle(self, signum: int, frame: Any) -> None:
        self.interrupted = True
        if not self._in_trial:
            return
        if _in_bookkeeping(frame, self.cell):
            signal.setitimer(signal.ITIMER_REAL, _RETRY_S)  # SIGALRM comes back here
            return
        self._in_trial = False
        raise KeyboardInterrupt

    @contextmanager
    def in_trial(self) -> Iterator[None]:
        self._in_trial = True
        try:
            yield
        finally:
            self._in_trial = False


_RETRY_S = 0.01
_BOOKKEEPING = (os.path.dirname(optuna.__file__), str(Path(__file__).resolve().parents[2]))


def _in_bookkeeping(frame: Any, cell: str) -> bool:
    """Whether the innermost frames, up to the cell's, are Optuna's or ipytune's (or the cell is not running)."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == cell:
            return False
        if filename.startswith(_BOOKKEEPING):
            return True
        frame = frame.f_back
    return True


@contextmanager
def _interruptible(job: WorkerJob) -> Iterator[_Signals]:
    signals = _Signals(job.payload.filename)
    posix = hasattr(signal, "setitimer")
    if not job.isolated or not posix or threading.current_thread() is not threading.main_thread():
        yield signals  # a thread of the kernel (or of a Dask worker), or Windows: the stop flag ends it
        return
    previous_alarm = signal.signal(signal.SIGALRM, signals.handle)
    signal.signal(signal.SIGINT, signals.handle)
    try:
        yield signals
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        # An idle worker ignores Ctrl-C: a notebook's interrupt reaches the whole process group,
        # and a worker that died of it would be started again, cold, for the next search.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
