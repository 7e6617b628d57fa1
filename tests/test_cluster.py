"""``%%tune --cluster``: trials on a Dask cluster, the study in PostgreSQL with heartbeats.

Real components: a throwaway PostgreSQL server (``postgres_url``: .ci/postgres.sh in CI),
Dask's ``LocalCluster`` with two worker processes (one per module), worker processes
killed with SIGKILL. Heartbeats are short here (1 s, stale after 2 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from ipytune.search.storage import Heartbeat, check_shared_storage, open_storage
from tests.conftest import run

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


# -- %%tune --cluster on a LocalCluster ---------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two Dask worker processes (one thread each) on 127.0.0.1, shared by this module's tests."""
    if os.environ.get("CI"):  # the dev extra installs it: missing in CI is a failure, not a skip
        import distributed
    else:
        distributed = pytest.importorskip("distributed", reason="pip install -e '.[cluster]'")
    local = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    )
    client = distributed.Client(local, set_as_default=False)
    yield client
    client.close()
    local.close()


@pytest.fixture
def fast_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipytune.search.transports.dask as transport

    monkeypatch.setattr(transport, "HEARTBEAT", FAST)


def ready(client: Any) -> dict[str, int]:
    """Both workers up (a killed one is restarted by its nanny); their process ids by address."""
    client.wait_for_workers(2, timeout=60)
    pids: dict[str, int] = client.run(os.getpid)
    return pids


def tune_line(cluster: str, storage: str, study: str, rest: str) -> str:
    return f"%%tune --cluster {cluster} --storage {storage} --study {study} --quiet --no-track --no-refit {rest}\n"


def owners(study: optuna.Study) -> set[int]:
    """The processes that ran the study's finished trials."""
    return {t.system_attrs["ipytune:owner"]["pid"] for t in study.trials if t.state == TrialState.COMPLETE}


def test_random_search_of_40_trials_on_2_dask_workers_runs_40_distinct_configurations(
    ip: Any, cluster: Any, postgres_url: str
) -> None:
    pids = ready(cluster)
    ip.user_ns["client"] = cluster
    name = fresh("random")
    cell = "x = tune.float(0, 1)\ny = tune.int(0, 10**6)\nx + y"

    result = run(ip, tune_line("client", postgres_url, name, "--method random --trials 40 --seed 0") + cell)

    study = optuna.load_study(study_name=name, storage=postgres_url)
    configurations = {(t.params["x"], t.params["y"]) for t in study.trials}
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 40
    assert len(configurations) == 40
    assert owners(study) == set(pids.values())  # both workers ran trials
    assert (result.trials_run, result.stop_reason) == (40, "completed")


def test_an_estimator_scored_on_data_the_cell_does_not_name_runs_on_dask_workers(
    ip: Any, cluster: Any, postgres_url: str
) -> None:
    ready(cluster)
    ip.user_ns["client"] = cluster
    run(ip, "from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)")
    name = fresh("data")
    cell = "from sklearn.linear_model import LogisticRegression\nLogisticRegression(C=tune.float(0.1, 10.0, log=True))"

    result = run(ip, tune_line("client", postgres_url, name, "--method random --trials 4 --data X y --cv 3") + cell)

    assert (result.trials_run, result.stop_reason) == (4, "completed")
    assert all(t.state == TrialState.COMPLETE for t in result.study.trials)  # X and y travelled with the cell


def test_a_grid_of_24_points_on_2_dask_workers_by_scheduler_address_runs_each_point_once(
    ip: Any, cluster: Any, postgres_url: str
) -> None:
    ready(cluster)
    name = fresh("grid")
    cell = "a = tune.int(0, 5)\nb = tune.choice(['p', 'q', 'r', 's'])\na * 10 + 'pqrs'.index(b)"

    result = run(ip, tune_line(cluster.scheduler.address, postgres_url, name, "--method grid") + cell)

    study = optuna.load_study(study_name=name, storage=postgres_url)
    points = sorted((t.params["a"], t.params["b"]) for t in study.trials if t.state == TrialState.COMPLETE)
    assert points == sorted((a, b) for a in range(6) for b in "pqrs")
    assert len(study.trials) == 24
    assert result.best_value == 53


def test_cluster_with_the_default_journal_storage_is_one_line_naming_the_fix(ip: Any) -> None:
    from IPython.core.error import UsageError

    outcome = ip.run_cell("%%tune --cluster tcp://127.0.0.1:8786 --trials 2\nx = tune.int(0, 3)\nx")

    assert isinstance(outcome.error_in_exec, UsageError)
    assert str(outcome.error_in_exec) == (
        "--cluster runs trials on other machines, but the journal file .ipytune/studies.journal is on this "
        "machine only (the default): add --storage postgresql://user@host/db (any database every worker reaches)."
    )


@pytest.mark.parametrize(
    ("cluster_flag", "message"),
    [
        ("nosuchclient", "--cluster nosuchclient: the notebook has no variable 'nosuchclient'"),
        ("not_a_client", "--cluster not_a_client: 'not_a_client' is a int, not a dask.distributed.Client"),
        ("tcp://127.0.0.1:9", "--cluster tcp://127.0.0.1:9: no Dask scheduler answers there"),
        ("tcp://127.0.0.1:9 --n-jobs 2", "--cluster and --n-jobs do not combine"),
    ],
)
def test_cluster_misuse_is_one_line(
    ip: Any, postgres_url: str, cluster_flag: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.error import UsageError

    import ipytune.search.transports.dask as transport

    monkeypatch.setattr(transport, "CONNECT_TIMEOUT_S", 1)
    ip.user_ns["not_a_client"] = 3
    outcome = ip.run_cell(f"%%tune --cluster {cluster_flag} --storage {postgres_url} --trials 2\nx = tune.int(0, 3)\nx")

    assert isinstance(outcome.error_in_exec, UsageError)
    assert str(outcome.error_in_exec).startswith(message)
    assert "\n" not in str(outcome.error_in_exec)


def search_killing_a_worker_mid_trial(
    ip: Any, cluster: Any, postgres_url: str, line: str, cell: str
) -> tuple[Any, int]:
    """Run ``%%tune --cluster`` while a thread SIGKILLs one Dask worker once its trial has its parameters.

    Returns the study and the number of the trial the killed worker was running."""
    import threading

    pids = ready(cluster)
    ip.user_ns["client"] = cluster
    victim = min(pids.values())
    name = fresh("killed")
    killed: list[int] = []

    def kill_mid_trial() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            time.sleep(0.05)
            try:
                running = optuna.load_study(study_name=name, storage=postgres_url).get_trials(
                    deepcopy=False, states=(TrialState.RUNNING,)
                )
            except KeyError:  # the study is not created yet
                continue
            for trial in running:
                if trial.system_attrs.get("ipytune:owner", {}).get("pid") == victim and trial.params:
                    os.kill(victim, signal.SIGKILL)
                    killed.append(trial.number)
                    return

    killer = threading.Thread(target=kill_mid_trial)
    killer.start()
    try:
        result = run(ip, tune_line("client", postgres_url, name, line) + cell)
    finally:
        ip.user_ns.pop("client", None)
        killer.join()
    assert result.stop_reason == "completed"
    (number,) = killed
    return optuna.load_study(study_name=name, storage=postgres_url), number


def test_a_dask_worker_killed_mid_trial_has_its_trial_failed_by_the_heartbeat_and_run_again(
    ip: Any, cluster: Any, postgres_url: str, fast_heartbeat: None
) -> None:
    cell = "import time\nx = tune.float(0, 1)\ntime.sleep(0.3)\nx"

    study, number = search_killing_a_worker_mid_trial(
        ip, cluster, postgres_url, "--method random --trials 16 --seed 0", cell
    )

    dead = study.trials[number]
    (again,) = [t for t in study.trials if t.system_attrs.get("failed_trial") == number]  # Optuna's retry
    assert dead.state == TrialState.FAIL
    assert (again.state, again.params) == (TrialState.COMPLETE, dead.params)
    states = [t.state for t in study.trials]
    assert (states.count(TrialState.COMPLETE), states.count(TrialState.FAIL), len(states)) == (16, 1, 17)


def test_a_dask_worker_killed_mid_trial_of_a_grid_skips_and_repeats_no_other_point(
    ip: Any, cluster: Any, postgres_url: str, fast_heartbeat: None
) -> None:
    """A grid point is not queued again within the run (a grid sampler would give the copy another
    point and skip that one): the failed trial keeps its point, which the cell's next run runs."""
    cell = "import time\na = tune.int(0, 3)\nb = tune.choice(['p', 'q', 'r', 's'])\ntime.sleep(0.3)\na"

    study, number = search_killing_a_worker_mid_trial(ip, cluster, postgres_url, "--method grid --seed 0", cell)

    point = {t.number: (t.params["a"], t.params["b"]) for t in study.trials}
    complete = [point[t.number] for t in study.trials if t.state == TrialState.COMPLETE]
    assert study.trials[number].state == TrialState.FAIL
    assert len(complete) == len(set(complete)) == 15  # no point twice
    assert sorted([*complete, point[number]]) == sorted((a, b) for a in range(4) for b in "pqrs")  # none skipped
    assert TrialState.RUNNING not in [t.state for t in study.trials]


GRID_24 = (
    "import time\na = tune.int(0, 5)\nb = tune.choice(['p', 'q', 'r', 's'])\ntime.sleep(0.02)\na * 10 + 'pqrs'.index(b)"
)

JOIN = """
import pathlib, sys, time
from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.engine import Search
from ipytune.search.settings import SearchSettings
url, name, ready, go = sys.argv[1:]
settings = SearchSettings(method="grid", study_name=name, storage=url, seed=0)
search = Search(parse_cell({cell!r}), {{"tune": tune}}, settings)
search.prepare()
pathlib.Path(ready).touch()
while not pathlib.Path(go).exists():
    time.sleep(0.01)
print(search.run().trials_run)
"""


def test_a_grid_of_24_points_run_by_2_processes_on_one_postgresql_study_runs_each_point_once(
    tmp_path: Any, postgres_url: str
) -> None:
    """Any process that runs the same cell with the same --study and --storage joins the search (DESIGN §3)."""
    name, go = fresh("joined"), tmp_path / "go"
    script = JOIN.format(cell=GRID_24)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, postgres_url, name, str(tmp_path / f"ready{i}"), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    outputs = [p.communicate(timeout=120)[0] for p in procs]

    assert [p.returncode for p in procs] == [0, 0]
    study = optuna.load_study(study_name=name, storage=postgres_url)
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    points = sorted((t.params["a"], t.params["b"]) for t in done)
    assert points == sorted((a, b) for a in range(6) for b in "pqrs")  # each point once
    ran = [int(out.split()[-1]) for out in outputs]  # trials each process ran
    assert sum(ran) == 24
    assert min(ran) > 0  # both processes ran points


def test_dask_is_imported_only_when_cluster_is_used() -> None:
    probe = (
        "import sys\n"
        "from IPython.testing.globalipapp import get_ipython\n"
        "ip = get_ipython()\n"
        "ip.run_line_magic('load_ext', 'ipytune')\n"
        "ip.run_cell('%%tune --trials 2 --storage memory --quiet --no-track\\nx = tune.int(0, 3)\\nx').raise_error()\n"
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout

    assert out.strip().splitlines()[-1] == "[]"


def test_an_exception_in_the_cell_on_a_dask_worker_is_the_users_traceback_and_one_line(
    ip: Any, cluster: Any, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.error import UsageError

    ready(cluster)
    ip.user_ns["client"] = cluster
    name = fresh("boom")
    cell = "x = tune.int(0, 7)\nif x == 5:\n    raise ValueError('bad x')\nx"

    outcome = ip.run_cell(tune_line("client", postgres_url, name, "--method grid --seed 0") + cell)

    assert isinstance(outcome.error_in_exec, UsageError)
    assert "raised ValueError (traceback above)" in str(outcome.error_in_exec)
    assert "\n" not in str(outcome.error_in_exec)
    shown = capsys.readouterr()
    assert "raise ValueError('bad x')" in shown.out + shown.err  # the user's own line, from the worker
    study = optuna.load_study(study_name=name, storage=postgres_url)
    assert TrialState.RUNNING not in [t.state for t in study.trials]


def test_a_stop_ends_every_dask_workers_loop(cluster: Any, postgres_url: str) -> None:
    from ipytune.search.cell import parse_cell
    from ipytune.search.declarations import tune
    from ipytune.search.engine import Search
    from ipytune.search.settings import SearchSettings
    from ipytune.search.transports.dask import DaskTransport

    ready(cluster)
    settings = SearchSettings(method="random", n_trials=500, study_name=fresh("stopped"), storage=postgres_url)
    result = Search(
        parse_cell("import time\nx = tune.float(0, 1)\ntime.sleep(0.02)\nx"),
        {"tune": tune},
        settings,
        stop_when=lambda study: len(study.get_trials(deepcopy=False)) >= 6,
        transport=DaskTransport(cluster, FAST),
    ).run()

    states = [t.state for t in result.study.get_trials()]
    assert result.stop_reason == "stopped"
    assert TrialState.RUNNING not in states
    assert 6 <= states.count(TrialState.COMPLETE) < 100


def test_ctrl_c_with_cluster_stops_the_workers_and_leaves_nothing_running(
    ip: Any, cluster: Any, postgres_url: str, tmp_path: Any
) -> None:
    """Dask cannot interrupt a task's thread: the running trials are failed "interrupted" in the
    study after the driver's grace period; the workers find them failed and stop."""
    import _thread
    import threading

    from ipytune.search.transports.driver import GRACE_S

    ready(cluster)
    ip.user_ns["client"] = cluster
    name, slow = fresh("interrupted"), tmp_path / "slow"
    interrupted: list[float] = []

    def interrupt_after_4_trials() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                study = optuna.load_study(study_name=name, storage=postgres_url)
                if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) >= 4:
                    slow.touch()  # the trials from now on take 4 s
                    time.sleep(0.5)
                    interrupted.append(time.monotonic())
                    _thread.interrupt_main()
                    return
            except KeyError:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=interrupt_after_4_trials, daemon=True)
    watcher.start()
    cell = f"import os, time\nx = tune.float(0, 1)\ntime.sleep(4 if os.path.exists({str(slow)!r}) else 0.05)\nx"
    result = run(ip, tune_line("client", postgres_url, name, "--method random --trials 1000") + cell)
    returned = time.monotonic()
    watcher.join()

    trials = optuna.load_study(study_name=name, storage=postgres_url).get_trials()
    states = [t.state for t in trials]
    assert result.stop_reason == "interrupted"
    assert returned - interrupted[0] < GRACE_S + 2  # not the workers' 4 s trials
    assert TrialState.RUNNING not in states
    assert 4 <= states.count(TrialState.COMPLETE) < 200
    assert {t.user_attrs.get("fail_reason") for t in trials if t.state == TrialState.FAIL} <= {"interrupted"}
