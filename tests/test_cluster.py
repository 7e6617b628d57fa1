"""``%%tune --cluster``: trials on a Dask cluster, the study in PostgreSQL with heartbeats.

Real components: a throwaway PostgreSQL server (``postgres_url``: .ci/postgres.sh in CI),
Dask's ``LocalCluster`` with two worker processes (one per module), worker processes
killed with SIGKILL. Heartbeats are short here (1 s, stale after 2 s).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from ipytune.search.storage import Heartbeat, check_shared_storage, open_storage

FAST = Heartbeat(interval=1, grace=2, retries=3)


def fresh(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


# -- the storage: heartbeats on PostgreSQL ------------------------------------------------------------
ASK_AND_HANG = """
import sys, time
import optuna
from ipytune.search.storage import Heartbeat, open_storage
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = open_storage(sys.argv[1], Heartbeat(interval=1, grace=2, retries=3))
study = optuna.load_study(study_name=sys.argv[2], storage=storage)
trial = study.ask()
print(trial.number, trial.suggest_float("x", 0, 1), flush=True)
time.sleep(600)  # a long trial, until the test kills this process
"""


def test_a_dead_processs_trial_on_postgresql_is_failed_and_run_again_with_its_parameters(postgres_url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(postgres_url, FAST)
    name = fresh("stale")
    study = optuna.create_study(study_name=name, storage=storage)
    worker = subprocess.Popen(
        [sys.executable, "-c", ASK_AND_HANG, postgres_url, name], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        number, x = worker.stdout.readline().split()
        time.sleep(FAST.grace + 1.5)  # past the grace period: a living process's trial still beats
        alive = study.ask()
        study.tell(alive, 0.0)
        state_while_alive = study.trials[int(number)].state
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        time.sleep(FAST.grace + 1.5)  # no beat since the kill: stale
        first = study.ask()  # fails the stale trial and queues it again...
        study.tell(first, 0.0)
        retried = study.ask()  # ...which the next ask takes, with the same parameters
        retried_x = retried.suggest_float("x", 0, 1)
        study.tell(retried, 1.0)
    finally:
        worker.kill()
        worker.wait(10)

    trials = study.trials
    assert state_while_alive == TrialState.RUNNING
    assert trials[int(number)].state == TrialState.FAIL
    assert retried_x == float(x)
    assert retried.number > int(number)
    assert trials[retried.number].system_attrs["failed_trial"] == int(number)  # Optuna's retry callback
    assert [t.state for t in trials].count(TrialState.RUNNING) == 0


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (None, "the journal file .ipytune/studies.journal is on this machine only (the default)"),
        ("memory", "--storage memory lives in this kernel only"),
        ("sqlite:///x.db", "--storage sqlite:///x.db is a file on this machine only"),
        ("runs/s.journal", "the journal file runs/s.journal is on this machine only"),
    ],
)
def test_a_storage_only_this_machine_reaches_is_refused_for_a_cluster(spec: str | None, says: str) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as error:
        check_shared_storage(spec)

    assert str(error.value) == (
        f"--cluster runs trials on other machines, but {says}: "
        "add --storage postgresql://user@host/db (any database every worker reaches)."
    )


def test_a_database_url_is_a_storage_every_worker_reaches() -> None:
    check_shared_storage("postgresql://u@db.example/x")
    check_shared_storage("mysql+pymysql://u@db.example/x")
