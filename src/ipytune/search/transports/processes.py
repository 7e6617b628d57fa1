"""``--n-jobs N``: trials run in N worker processes on this machine (loky), or N threads (``--threads``).

Processes by default, because a notebook's objective is usually pure Python or holds the
GIL: threads do not speed it up. They are loky's reusable executor (the one joblib and
scikit-learn use): started once, warm across cells (idle workers leave after
:data:`IDLE_TIMEOUT_S`), and fed by cloudpickle, so functions and classes defined in the
notebook travel; ``multiprocessing``'s spawn/forkserver cannot import them from
``__main__``. Each worker runs one long :func:`~.worker.run_worker` task per search, so
the cell and its namespace are unpickled once per worker, not once per trial.

The study must be in a storage other processes open: the default journal file, a
journal path, SQLite or a database URL; ``--storage memory`` is one line saying so.
Threads (``--threads``) share the kernel's namespace and storage, memory included; they
help objectives that release the GIL (NumPy, PyTorch) and cannot be interrupted
mid-trial: a Ctrl-C stops them after their current trials.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ipytune.search.recovery import HOST, owner_of
from ipytune.search.storage import storage_key
from ipytune.search.transports import MEMORY_STORAGE
from ipytune.search.transports.driver import Driver
from ipytune.search.transports.payload import LocalPayload, Payload, cell_source, ship
from ipytune.search.transports.worker import WorkerJob, run_worker

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from ipytune.search.engine import Search

IDLE_TIMEOUT_S = 300  # an idle worker process leaves after this long (loky's reusable executor)


def resolve_workers(n_jobs: int, threads: bool = False) -> int:
    """``--n-jobs`` as a number of workers: -1 is one per core, -2 all but one, and so on (as joblib)."""
    if n_jobs > 0:
        return n_jobs
    cores = (os.cpu_count() or 1) if threads else int(_loky().cpu_count())
    return max(1, cores + 1 + n_jobs)


class LocalTransport:
    """Where ``%%tune --n-jobs N [--threads]`` runs its trials (an engine ``Transport``)."""

    def __init__(self, n_jobs: int, threads: bool = False) -> None:
        if n_jobs == 0:
            raise UsageError("--n-jobs 0: give a number of workers (N >= 1, or -1 for one per core).")
        self.n_jobs = n_jobs
        self.threads = threads
        self.payload: Payload | LocalPayload | None = None

    @property
    def workers(self) -> int:
        return resolve_workers(self.n_jobs, self.threads)

    def preflight(self, search: Search) -> None:
        """Before the study opens: a storage the workers can open, and a cell (and names) that travel."""
        if self.threads:
            source = cell_source(search.program)
            self.payload = LocalPayload(search.program, search.namespace, source)
            return
        if storage_key(search.settings.storage) == "memory":
            raise UsageError(MEMORY_STORAGE)
        self.payload = ship(search.program, search.namespace, extra=search.settings.scoring.data or ())

    def run(self, search: Search, study: optuna.Study, total: int) -> None:
        if total <= 0:
            return
        if self.payload is None:
            self.preflight(search)
        assert self.payload is not None
        driver = Driver(search, study)
        jobs = driver.make_jobs(
            self.workers, self.payload, total, isolated=not self.threads, cwd=None if self.threads else os.getcwd()
        )
        if self.threads:
            from concurrent.futures import ThreadPoolExecutor

            if search.settings.run_seeds:  # import what seeding imports, once: two threads importing
                from ipytune.seeding import installed_torch, numpy_random  # torch at once see it half-made

                numpy_random()
                installed_torch()

            pool = ThreadPoolExecutor(len(jobs), thread_name_prefix="ipytune-worker")
            try:
                _submit_and_drive(driver, pool, jobs, None)
            finally:  # after a Ctrl-C a thread may still finish its trial: it is not waited for
                pool.shutdown(wait=False, cancel_futures=True)
            return
        _submit_and_drive(driver, executor(self.workers), jobs, _interrupt_workers)


def _submit_and_drive(driver: Driver, pool: Any, jobs: list[WorkerJob], interrupt: Any) -> None:
    futures: list[Any] = []
    try:
        for job in jobs:
            futures.append(pool.submit(run_worker, job))
    except KeyboardInterrupt:  # the workers already started must stop too
        driver.drive(futures, interrupt, interrupted=True)
        return
    driver.drive(futures, interrupt)


def executor(workers: int) -> Any:
    """loky's reusable process pool with at least ``workers`` processes (started, or grown, on demand).

    It never shrinks here: ``--n-jobs 2`` after ``--n-jobs 4`` runs 2 jobs on the warm pool of 4
    rather than stopping 2 workers that the next ``--n-jobs 4`` would start again, cold.
    """
    global _pool_size
    _pool_size = max(workers, _pool_size)
    return _loky().get_reusable_executor(max_workers=_pool_size, timeout=IDLE_TIMEOUT_S)


_pool_size = 0


def _loky() -> Any:
    from joblib.externals import loky  # type: ignore[import-untyped]

    return loky


def _interrupt_workers(running: list[FrozenTrial]) -> None:
    """Ctrl-C: a SIGINT to each worker process running one of ``running`` (its trial fails "interrupted")."""
    if os.name != "posix":  # os.kill would terminate the process there: the stop flag ends the loops
        return
    for pid in {owner_of(t).get("pid") for t in running if owner_of(t).get("host") == HOST}:
        if isinstance(pid, int) and pid != os.getpid():
            with contextlib.suppress(OSError):  # gone already
                os.kill(pid, signal.SIGINT)
