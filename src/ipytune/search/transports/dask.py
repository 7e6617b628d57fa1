"""``--cluster ADDRESS|CLIENT``: a search's trials on a Dask cluster, its study in a database every worker reaches.

Dask's ``distributed`` is the transport only. Each Dask worker gets ONE long task,
:func:`work` (the same :func:`~.worker.run_worker` loop as ``--n-jobs``), submitted with
``pure=False`` and pinned to that worker; the cell and the names it reads travel once per
worker, in the job. Trials are never Dask tasks. The kernel side is :class:`~.driver.Driver`,
as for ``--n-jobs``: it polls the study (progress, tracking), and Stop / Ctrl-C set the
run's stop flag, which the workers read between trials.

The study lives in a database every worker reaches (PostgreSQL, or any RDB URL Optuna
takes; a journal file, SQLite or memory is one line, see
:func:`~ipytune.search.storage.check_shared_storage`), opened with Optuna's heartbeats
(:data:`HEARTBEAT`): a worker that dies mid-trial stops beating, and after the grace
period its trial is failed and queued again with the same parameters, for whichever
worker asks next. Dask re-runs the task of a dead worker elsewhere (``allow_other_workers``);
that task runs only what is left of its worker's share. A worker that has done its share
waits for the run's trials still running, so a trial failed late is still run again.

``dask`` is imported only when ``--cluster`` is used.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from optuna.trial import TrialState

from ipytune.search.recovery import owner_of
from ipytune.search.storage import Heartbeat, check_shared_storage, open_storage
from ipytune.search.transports.driver import Driver
from ipytune.search.transports.payload import Payload, ship
from ipytune.search.transports.worker import WorkerJob, WorkerReport, run_worker, stop_key

if TYPE_CHECKING:
    import optuna

    from ipytune.search.engine import Search

HEARTBEAT = Heartbeat(interval=10, grace=30, retries=3)  # a dead worker's trial is run again after ~30 s
CONNECT_TIMEOUT_S = 10
WAIT_S = 0.25  # a worker done with its share looks this often for trials of the run to run again
INSTALL = "--cluster needs Dask's distributed: pip install 'ipytune[cluster]' (here and on the workers)."

_clients: dict[str, Any] = {}  # scheduler address -> the Client this kernel opened for it (warm across cells)


def connect(spec: str, namespace: dict[str, Any]) -> Any:
    """The ``Client`` for ``--cluster spec``: a scheduler address, or the name of a Client (or cluster) in the notebook."""
    spec = spec.strip()
    try:
        import distributed
    except ImportError:
        raise UsageError(INSTALL) from None
    Client: Any = distributed.Client  # distributed is partly typed: its client is used as Any here
    if spec.isidentifier():
        if spec not in namespace:
            raise UsageError(
                f"--cluster {spec}: the notebook has no variable {spec!r}; give the name of a "
                f"dask.distributed.Client, or a scheduler address (tcp://host:8786)."
            )
        found = namespace[spec]
        if isinstance(found, Client):
            return found
        address = getattr(found, "scheduler_address", None)  # a LocalCluster, a dask-jobqueue cluster...
        if not isinstance(address, str):
            raise UsageError(
                f"--cluster {spec}: {spec!r} is a {type(found).__name__}, not a dask.distributed.Client "
                f"(or a cluster with a scheduler_address)."
            )
        spec = address
    client = _clients.get(spec)
    if client is not None and client.status == "running":
        return client
    try:
        client = Client(spec, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except Exception as error:  # OSError, TimeoutError, ValueError for a malformed address
        raise UsageError(
            f"--cluster {spec}: no Dask scheduler answers there ({type(error).__name__}: {_one_line(error)})."
        ) from None
    _clients[spec] = client
    return client


class DaskTransport:
    """Where ``%%tune --cluster`` runs its trials (an engine ``Transport``, with a preflight)."""

    def __init__(self, client: Any, heartbeat: Heartbeat | None = None) -> None:
        self.client = client
        self.heartbeat = heartbeat or HEARTBEAT
        self.payload: Payload | None = None

    def preflight(self, search: Search) -> None:
        """Before the study opens: a storage every worker reaches, opened with heartbeats; workers
        that run ipytune; a cell (and names) that travel."""
        spec = search.settings.storage
        check_shared_storage(spec)
        assert spec is not None
        open_storage(spec, self.heartbeat)  # the kernel opens the study on this same storage, heartbeats on
        self.workers()
        self.payload = ship(
            search.program, search.namespace, flag="--cluster", extra=search.settings.scoring.data or ()
        )

    def workers(self) -> list[str]:
        """The cluster's worker addresses, each checked to import ipytune (one line if none, or one cannot)."""
        try:
            found = sorted(self.client.scheduler_info()["workers"])
            if not found:
                self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
                found = sorted(self.client.scheduler_info()["workers"])
        except Exception as error:
            raise UsageError(
                f"--cluster: no Dask worker joined the cluster in {CONNECT_TIMEOUT_S} s "
                f"({type(error).__name__}: {_one_line(error)}); start workers, then run the cell again."
            ) from None
        try:
            versions = self.client.run(_ipytune_version, workers=found)
        except Exception as error:
            raise UsageError(
                f"--cluster: the Dask workers cannot run ipytune ({type(error).__name__}: {_one_line(error)}); "
                f"install ipytune[cluster] where they run, the same version as here."
            ) from None
        mine = _ipytune_version()
        other = {address: v for address, v in versions.items() if v != mine}
        if other:
            address, version = next(iter(other.items()))
            raise UsageError(
                f"--cluster: worker {address} runs ipytune {version}, this kernel {mine}: "
                f"install the same version on every worker."
            )
        return found

    def run(self, search: Search, study: optuna.Study, total: int) -> None:
        if total <= 0:
            return
        if self.payload is None:
            self.preflight(search)
        assert self.payload is not None
        workers = self.workers()
        driver = Driver(search, study, flag="--cluster")
        jobs = driver.make_jobs(len(workers), self.payload, total, isolated=True, cwd=None)
        futures = [
            self.client.submit(
                work,
                job,
                self.heartbeat,
                key=f"ipytune-{study.study_name}-{job.run}-{job.worker_index}-{uuid.uuid4().hex[:6]}",
                pure=False,
                workers=[address],
                allow_other_workers=True,  # a dead worker's task is run again on another (or its restart)
            )
            for job, address in zip(jobs, workers, strict=False)
        ]
        try:
            driver.drive(futures)  # Ctrl-C: the stop flag; a worker's running trial is failed after GRACE_S
        finally:
            self.client.cancel([f for f in futures if not f.done()])


# -- on a Dask worker ---------------------------------------------------------------------------------
def work(job: WorkerJob, heartbeat: Heartbeat | None) -> WorkerReport:
    """One Dask worker's share of the run: ``run_worker`` on a storage with heartbeats.

    The share is exact however workers die: a trial counts for the worker that first ran it,
    a re-run of a dead worker's trial (``failed_trial`` in its system attrs, set by Optuna's
    retry callback) for no one. So this task, run again by Dask after its worker died, runs
    only what is left of the share, and a worker that ran a re-run within its share runs one
    more. When its share is done it stays, up to a grace period and two beats, while trials of
    the run are still RUNNING: one whose worker died stops beating, is failed after the grace
    period (here, if no one else does it) and queued again, and this worker runs it.
    """
    storage = open_storage(job.storage, heartbeat)  # run_worker's open_storage(job.storage) returns it
    beat = heartbeat or Heartbeat()  # None: a storage without heartbeats (a benchmark's local journal)
    study_id = storage.get_study_id_from_name(job.study_name)
    report = WorkerReport(job.worker_index, "", 0, stop="quota")
    waited = 0.0  # seconds spent waiting on others' RUNNING trials since this worker last ran one
    while report.stop == "quota" and stop_key(job.run) not in storage.get_study_system_attrs(study_id):
        left = None if job.quota is None else job.quota - _share_done(storage, study_id, job)
        if (left is None and not report.pid) or (left is not None and left > 0):
            _merge(report, run_worker(replace(job, quota=left)))
            waited = 0.0
            continue
        waiting, running = _leftovers(storage, study_id, job.run)
        if waiting:  # a dead worker's trial, queued again: run it (ask takes WAITING trials first)
            import distributed

            lock: Any = distributed.Lock
            with lock(f"ipytune-retry-{job.run}"):  # one worker at a time: no fresh trial asked instead
                waiting = _leftovers(storage, study_id, job.run)[0]
                if waiting:
                    _merge(report, run_worker(replace(job, quota=waiting)))
        elif running and waited < beat.grace + 2 * beat.interval:
            # Another worker's last trial, or a dead worker's, failed once its beats are stale. Not for
            # ever: a long trial of a live worker is that worker's to finish, and a dead worker's task,
            # which Dask runs again, waits for its own dead trial.
            time.sleep(WAIT_S)
            waited += WAIT_S
            if heartbeat is not None:
                storage.fail_stale_trials(study_id, throttle=heartbeat.interval)
            continue
        else:
            break
        waited = 0.0
    return report


def _merge(report: WorkerReport, more: WorkerReport) -> None:
    report.host, report.pid = more.host, more.pid
    report.trials += more.trials
    report.stop, report.error, report.usage = more.stop, more.error, more.usage


def _share_done(storage: Any, study_id: int, job: WorkerJob) -> int:
    """How much of this worker's share is done or taken: its trials, finished or RUNNING (a RUNNING one
    while this task starts belonged to its dead predecessor), less the re-runs of others' trials."""
    return sum(
        1
        for t in storage.get_all_trials(study_id, deepcopy=False)
        if t.state != TrialState.WAITING
        and "failed_trial" not in t.system_attrs
        and owner_of(t).get("run") == job.run
        and owner_of(t).get("worker") == job.worker_index
    )


def _leftovers(storage: Any, study_id: int, run: str) -> tuple[int, int]:
    """This run's trials queued again (WAITING) and still RUNNING."""
    states = (TrialState.WAITING, TrialState.RUNNING)
    trials = [
        t for t in storage.get_all_trials(study_id, deepcopy=False, states=states) if owner_of(t).get("run") == run
    ]
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    return waiting, len(trials) - waiting


def _ipytune_version() -> str:
    from ipytune._version import __version__

    return str(__version__)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:200]
