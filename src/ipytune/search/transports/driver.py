"""The kernel's side of a parallel search, whatever runs the workers: jobs out, the study watched, reports in.

The kernel stays the face of the search. While the workers run (:func:`~.worker.run_worker`),
:meth:`Driver.drive` polls the storage every :data:`POLL_S` seconds and, for each trial of
this run that finished since, feeds its ``tune.log`` rows to the tracker and calls
``search.notify`` (progress, dashboard, one trackio run per trial, all written here).
Stop (``search.should_stop``) and Ctrl-C set the run's stop flag in the study, which the
workers read between trials; after a Ctrl-C the running trials are interrupted (the
transport's ``interrupt``), given :data:`GRACE_S` seconds to close, and whatever of this
run is still RUNNING is failed. The reports then say how the search ended.
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from optuna.trial import FrozenTrial, TrialState

from ipytune.search.recovery import died, fail_trials, is_dead, owner_of
from ipytune.search.samplers import FastGridSampler
from ipytune.search.settings import FAIL_REASON
from ipytune.search.storage import open_storage, storage_key
from ipytune.search.transports.cell_error import rebuild
from ipytune.search.transports.payload import LocalPayload, Payload
from ipytune.search.transports.worker import LOG_ROWS, WorkerJob, WorkerReport, stop_key

if TYPE_CHECKING:
    import optuna

    from ipytune.search.engine import Search

POLL_S = 0.25
POLL_DATABASE_S = 1.0
GRACE_S = 3.0  # after a Ctrl-C, how long the running trials have to close themselves

Futures = Sequence[Any]  # anything with done() and result(): concurrent.futures, dask.distributed


def quotas(total: int, workers: int) -> list[int]:
    """``total`` trials shared as evenly as can be by at most ``workers`` workers (none gets 0)."""
    workers = max(1, min(workers, total))
    return [total // workers + (1 if i < total % workers else 0) for i in range(workers)]


class Driver:
    """One parallel search seen from the kernel: ``Driver(search, study)``, then :meth:`make_jobs`,
    run them anywhere, :meth:`drive` the futures, and the search has its stop reason or error."""

    def __init__(self, search: Search, study: optuna.Study, flag: str = "--n-jobs") -> None:
        self.search = search
        self.study = study
        self.flag = flag
        self.run = uuid.uuid4().hex[:12]
        self.storage = open_storage(search.settings.storage)
        self.study_id = self.storage.get_study_id_from_name(study.study_name)
        self._low = len(study.get_trials(deepcopy=False))  # trials below are settled: older, or notified
        self._seen: set[int] = set()
        self._why: str | None = None
        # reading a database study is costly for the kernel: poll it less often than a journal file
        self.poll_every = POLL_DATABASE_S if "://" in storage_key(search.settings.storage) else POLL_S

    def make_jobs(
        self,
        workers: int,
        payload: Payload | LocalPayload,
        total: int,
        *,
        isolated: bool = True,
        cwd: str | None = None,
    ) -> list[WorkerJob]:
        """One job per worker, ``total`` trials shared between them (``--trials`` is exact)."""
        settings, sampler = self.search.settings, self.search.sampler
        grid = sampler.values if isinstance(sampler, FastGridSampler) else None
        return [
            WorkerJob(
                study_name=self.study.study_name,
                storage=storage_key(settings.storage),
                settings=settings,
                params=tuple(self.search.params or ()),
                payload=payload,
                run=self.run,
                worker_index=index,
                quota=quota,
                deadline=None if settings.timeout is None else time.time() + settings.timeout,
                grid_values=None if grid is None else tuple(grid),  # lazy value ranges: a huge grid stays small
                acquisition=getattr(sampler, "acquisition", "ucb"),
                collect_logs=self.search.log_sink is not None,
                isolated=isolated,
                cwd=cwd,
            )
            for index, quota in enumerate(quotas(total, workers))
        ]

    # -- while the workers run ------------------------------------------------------------------------
    def drive(
        self,
        futures: Futures,
        interrupt: Callable[[list[FrozenTrial]], None] | None = None,
        interrupted: bool = False,
    ) -> list[WorkerReport]:
        """Watch the study until every worker is done; then say how the search ended (see the module).

        ``interrupted``: a Ctrl-C came while the jobs were being submitted (``futures`` are those that were).
        """
        try:
            if interrupted:
                raise KeyboardInterrupt
            while True:
                done = _wait(futures, self.poll_every)
                self.poll()
                if self._why is None and self.search.should_stop(self.study):
                    self.stop("stopped")
                if done:
                    break
        except KeyboardInterrupt:
            self._interrupted(futures, interrupt)
        return self._conclude(futures)

    def poll(self) -> None:
        """Notify the search of every trial of this run that finished since the last poll, in order."""
        fresh: list[FrozenTrial] = []
        settled = True
        for trial in self.study.get_trials(deepcopy=False)[self._low :]:
            finished = trial.state.is_finished()
            if settled and finished:
                self._low = trial.number + 1
            settled = settled and finished
            if not finished or trial.number in self._seen or owner_of(trial).get("run") != self.run:
                continue
            self._seen.add(trial.number)
            if trial.user_attrs.get(FAIL_REASON) != "interrupted":  # as in the kernel: finish() records those
                fresh.append(trial)
        sink = self.search.log_sink
        for trial in fresh:
            if sink is not None:
                for step, metrics in trial.system_attrs.get(LOG_ROWS, ()):
                    sink.log(trial.number, metrics, step)
            self.search.notify(self.study, trial)

    def stop(self, why: str) -> None:
        """Tell every worker of this run to stop after its current trial."""
        if self._why is None:
            self._why = why
            self.storage.set_study_system_attr(self.study_id, stop_key(self.run), why)

    def running(self) -> list[FrozenTrial]:
        """This run's trials still RUNNING."""
        trials = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        return [t for t in trials if owner_of(t).get("run") == self.run]

    def fail_running(self, reason: str) -> list[int]:
        """Fail this run's RUNNING trials (a dead worker's say so); their numbers."""
        return [n for t in self.running() for n in fail_trials(self.study, [t], died(t) if is_dead(t) else reason)]

    # -- after ----------------------------------------------------------------------------------------
    def _interrupted(self, futures: Futures, interrupt: Callable[[list[FrozenTrial]], None] | None) -> None:
        self.stop("interrupted")
        self.search.stop_reason = "interrupted"
        try:
            if interrupt is not None:
                interrupt(self.running())
            deadline = time.monotonic() + GRACE_S
            while time.monotonic() < deadline and not _wait(futures, 0.05):
                pass
        except KeyboardInterrupt:  # a second Ctrl-C: do not wait for the workers
            pass
        for _ in range(3):  # never leave a trial RUNNING, even under repeated Ctrl-C
            try:
                self.fail_running("interrupted")
                break
            except KeyboardInterrupt:
                continue

    def _conclude(self, futures: Futures) -> list[WorkerReport]:
        search = self.search
        reports: list[WorkerReport] = []
        crashes: list[BaseException] = []
        for future in futures:
            if not future.done():  # still closing its trial after a Ctrl-C: the stop flag ends it
                continue
            try:
                reports.append(future.result())
            except Exception as error:  # the worker itself died (killed, out of memory) or failed
                crashes.append(error)
        failed = self.fail_running("its worker stopped before the trial finished")
        self.poll()
        if crashes:
            kept = sum(t.state == TrialState.COMPLETE for t in self.study.get_trials(deepcopy=False))
            what = " ".join(f"{type(crashes[0]).__name__}: {crashes[0]}".split())
            raise UsageError(
                f"{self.flag}: a worker stopped during the search ({what[:200]}); "
                f"{'trials ' + ', '.join(map(str, failed)) + ' were failed; ' if failed else ''}"
                f"{kept} finished trials are kept in study {self.study.study_name!r}: "
                f"run the cell again with the same --study to resume."
            )
        usage = next((r.usage for r in reports if r.usage), None)
        if usage is not None:
            raise UsageError(usage)
        errors = [r.error for r in reports if r.error is not None]
        if errors:
            first = min(errors, key=lambda e: e.trial)
            search.error, search.error_trial = rebuild(first), first.trial
            search.stop_reason = "error"
        elif search.stop_reason != "interrupted":
            stops = {r.stop for r in reports}
            for reason in ("interrupted", "stopped", "timeout", "grid exhausted"):
                if reason in stops or self._why == reason:
                    search.stop_reason = reason
                    break
        return reports


def _wait(futures: Futures, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds; whether every future is done."""
    if all(isinstance(f, concurrent.futures.Future) for f in futures):
        return not concurrent.futures.wait(futures, timeout)[1]
    deadline = time.monotonic() + timeout
    while not all(f.done() for f in futures):  # Dask futures: look often, so a finished search ends at once
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True
