"""%%tune --n-jobs: trials in real worker processes (loky), one warm executor for the whole file.

Objectives take a few milliseconds; the first test pays for starting the workers.
"""

from __future__ import annotations

import _thread
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import optuna
import pytest
from IPython.core.error import UsageError
from optuna.trial import TrialState

from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.engine import Search
from ipytune.search.recovery import OWNER
from ipytune.search.samplers.grid import GRID_ID
from ipytune.search.settings import SearchSettings
from ipytune.search.space import FloatParam
from ipytune.search.storage import open_storage
from ipytune.search.transports.driver import Driver
from ipytune.search.transports.payload import ship
from ipytune.search.transports.processes import LocalTransport, executor
from ipytune.search.transports.samplers import PendingAwareGP
from ipytune.search.transports.worker import run_worker
from ipytune.tracking.runs import metric_history, runs
from tests.conftest import run

GRID_CELL = "x = tune.int(1, 4)\nk = tune.choice(['a', 'b', 'c'])\nz = tune.int(0, 1)\ntime.sleep(0.005)\nx * 10 + z"
GRID_POINTS = 4 * 3 * 2


def search(ip: Any, line: str, cell: str) -> Any:
    return run(ip, f"%%tune {line} --quiet\n{cell}")


def study_of(name: str, storage: str | None = None) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(storage))


def points(trials: Any, names: tuple[str, ...] = ("x", "k", "z")) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(t.params[n] for n in names) for t in trials if t.state == TrialState.COMPLETE)


@pytest.fixture
def warm(ip: Any) -> Any:
    ip.run_cell("import time")
    return ip


# -- every method, the same meaning -------------------------------------------------------------------
@pytest.mark.parametrize("method", ["random", "tpe"])
def test_forty_trials_on_two_workers_are_forty_distinct_configurations(warm, method):
    result = search(
        warm,
        f"--method {method} --trials 40 --n-jobs 2 --seed 0 --no-track",
        "x = tune.float(0, 1)\ny = tune.int(1, 10**6)\nx + y",
    )
    trials = result.study.get_trials()
    assert len(trials) == 40
    assert {t.state for t in trials} == {TrialState.COMPLETE}
    assert len({(t.params["x"], t.params["y"]) for t in trials}) == 40  # a copied seeded sampler repeats itself
    assert len({t.system_attrs[OWNER]["pid"] for t in trials}) == 2  # both workers ran trials
    assert result.trials_run == 40


def test_a_grid_on_two_workers_runs_each_point_once_then_refits_in_the_kernel(warm):
    result = search(warm, "--method grid --n-jobs 2 --no-track", GRID_CELL)

    trials = result.study.get_trials()
    assert len(trials) == GRID_POINTS
    assert set(points(trials).values()) == {1}
    assert len(points(trials)) == GRID_POINTS
    assert result.stop_reason == "completed"
    assert warm.user_ns["x"] == 4  # the refit ran the cell in the notebook with the best point


def join_grid(spec: str) -> tuple[int, int]:
    """A plain single-process grid search on study "joined" (run in a process of the warm pool):
    its pid and how many of the study's trials it completed."""
    program = parse_cell(GRID_CELL.replace("0.005", "0.02"))
    settings = SearchSettings(method="grid", study_name="joined", storage=spec, seed=0)
    result = Search(program, {"tune": tune, "time": time}, settings).run()
    return os.getpid(), result.trials_run


@pytest.mark.parametrize("storage", ["journal", "sqlite"])
def test_two_processes_joining_one_grid_study_run_each_point_once(warm, tmp_path, storage):
    spec = str(tmp_path / "joined.journal") if storage == "journal" else f"sqlite:///{tmp_path / 'joined.db'}"
    settings = SearchSettings(method="grid", study_name="joined", storage=spec)
    Search(parse_cell(GRID_CELL), {"tune": tune}, settings).prepare()  # the study (and SQLite's tables) first

    pool = executor(2)
    futures = [pool.submit(join_grid, spec) for _ in range(2)]
    ran = dict(future.result(timeout=120) for future in futures)

    trials = study_of("joined", spec).get_trials()
    assert len(ran) == 2  # two processes ran points of the one grid
    assert all(ran.values())
    assert sum(ran.values()) == sum(t.state == TrialState.COMPLETE for t in trials)
    assert set(points(trials).values()) == {1}
    assert len(points(trials)) == GRID_POINTS


def test_gp_on_two_workers_suggests_around_the_points_still_running():
    """Two workers with the same GP state: the second's suggestion avoids the first's running point."""
    params = [FloatParam("x", 0.0, 1.0)]
    study = optuna.create_study(direction="maximize")
    for x in (0.1, 0.3, 0.5, 0.7, 0.9):
        study.enqueue_trial({"x": x})
        trial = study.ask()
        study.tell(trial, -((trial.suggest_float("x", 0.0, 1.0) - 0.62) ** 2))

    def ask(sampler: Any) -> optuna.Trial:
        trial = optuna.Study(study_name=study.study_name, storage=study._storage, sampler=sampler).ask()
        trial.suggest_float("x", 0.0, 1.0)
        return trial

    first = ask(PendingAwareGP(params, seed=1)).params["x"]  # still RUNNING
    second = ask(PendingAwareGP(params, seed=1)).params["x"]
    assert abs(second - first) > 0.02


def test_gp_under_two_workers(warm):
    result = search(
        warm, "--method gp --trials 10 --n-jobs 2 --seed 0 --no-track", "x = tune.float(0, 1)\n-(x - 0.3) ** 2"
    )
    trials = result.study.get_trials()
    assert len(trials) == 10
    assert len({t.params["x"] for t in trials}) == 10


def test_pruning_reaches_the_pruner_from_the_workers(warm):
    cell = "x = tune.float(0, 1)\nfor step in range(6):\n    tune.report(x * (step + 1), step)\nx * 6"
    result = search(warm, "--method random --trials 24 --n-jobs 2 --seed 1 --prune median --no-track", cell)
    states = Counter(t.state for t in result.study.get_trials())
    assert states[TrialState.PRUNED] > 0
    assert states[TrialState.PRUNED] + states[TrialState.COMPLETE] == 24


def test_seeds_and_timeout_under_two_workers(warm):
    result = search(warm, "--method random --trials 4 --n-jobs 2 --seeds 1,2 --no-track", "x = tune.float(0, 1)\nx")
    assert all(t.user_attrs["seeds"] == [1, 2] for t in result.study.get_trials())

    started = time.monotonic()
    result = search(
        warm, "--trials 10000 --n-jobs 2 --timeout 1 --no-track", "x = tune.float(0, 1)\ntime.sleep(0.02)\nx"
    )
    assert result.stop_reason == "timeout"
    assert 5 < len(result.study.trials) < 1000
    assert time.monotonic() - started < 15


def test_catch_and_an_estimator_scored_on_data_under_two_workers(warm):
    cell = "x = tune.int(1, 8)\nif x % 2:\n    raise RuntimeError(f'odd {x}')\nx"
    result = search(warm, "--method grid --n-jobs 2 --catch --no-track", cell)
    states = Counter(t.state for t in result.study.get_trials())
    assert states == {TrialState.COMPLETE: 4, TrialState.FAIL: 4}

    warm.run_cell("from sklearn.datasets import make_classification\nfrom sklearn.tree import DecisionTreeClassifier")
    warm.run_cell("X, y = make_classification(n_samples=60, random_state=0)").raise_error()
    cell = "DecisionTreeClassifier(max_depth=tune.int(1, 4), random_state=0)"
    result = search(warm, "--method grid --n-jobs 2 --data X y --cv 3 --no-track", cell)
    assert [t.state for t in result.study.get_trials()] == [TrialState.COMPLETE] * 4
    assert all(len(t.user_attrs["cv_scores"]) == 3 for t in result.study.get_trials())


def test_tracking_writes_one_run_per_finished_trial_from_the_kernel(warm, trackio_dir):
    cell = "x = tune.int(1, 1000)\ntune.log({'twice': x * 2})\ntune.log({'half': x / 2}, step=5)\nx"
    result = search(warm, "--method random --trials 6 --n-jobs 2 --seed 3 --study tracked-par", cell)

    table = runs("tracked-par")
    assert len(table) == 6
    assert sorted(table["search.trial"]) == sorted(t.number for t in result.study.get_trials())
    history = metric_history("tracked-par")
    for _, row in table.iterrows():
        mine = history[history["id"] == row["id"]]
        assert mine[mine["metric"] == "twice"]["value"].tolist() == [2 * row["x"]]
        assert mine[mine["metric"] == "half"][["step", "value"]].values.tolist() == [[5, row["x"] / 2]]
    assert {p.name for p in trackio_dir.iterdir()} >= {"tracked-par.db"}


def test_a_stop_ends_every_workers_loop(warm):
    program = parse_cell("x = tune.float(0, 1)\ntime.sleep(0.02)\nx")
    settings = SearchSettings(method="random", n_trials=500, study_name="stopped")
    result = Search(
        program,
        warm.user_ns,
        settings,
        stop_when=lambda study: len(study.get_trials(deepcopy=False)) >= 6,
        transport=LocalTransport(2),
    ).run()
    states = Counter(t.state for t in result.study.get_trials())
    assert result.stop_reason == "stopped"
    assert TrialState.RUNNING not in states
    assert 6 <= states[TrialState.COMPLETE] < 100


def test_threads_on_request_share_the_kernel_even_in_memory(warm):
    warm.user_ns["lock"] = threading.Lock()  # threads need nothing pickled
    cell = "x = tune.int(1, 50)\nwith lock:\n    pass\nx"
    result = search(warm, "--method random --trials 12 --n-jobs 2 --threads --seed 0 --storage memory --no-track", cell)
    assert len(result.study.get_trials()) == 12
    assert {t.system_attrs[OWNER]["pid"] for t in result.study.get_trials()} == {os.getpid()}


def test_a_worker_process_prints_nothing_into_the_cell(warm, capfd):
    """The loop as a worker process runs it (isolated), here in a thread so that its output can be read."""
    study = "silent"
    program = parse_cell("x = tune.int(1, 3)\nprint('printed by the cell')\nx")
    search_ = Search(program, warm.user_ns, SearchSettings(method="grid", study_name=study))
    search_.prepare()
    job = Driver(search_, search_.study).make_jobs(1, ship(program, warm.user_ns), 3, isolated=True)[0]

    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(run_worker, job).result()

    assert len(report.trials) == 3
    printed = capfd.readouterr()
    assert printed.out + printed.err == ""


# -- misuse is one line -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--threads", "--threads goes with --n-jobs N"),
        ("--n-jobs 0", "--n-jobs 0: give a number of workers"),
        ("--n-jobs 2 --storage memory", "cannot open --storage memory"),
        ("--n-jobs 2 --compare random,tpe", "--n-jobs does not combine with --compare or --nested yet"),
    ],
)
def test_misuse_is_one_line(warm, line, message):
    outcome = warm.run_cell(f"%%tune {line}\nx = tune.int(1, 2)\nx")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)


@pytest.mark.parametrize(
    ("setup", "shown"),
    [
        ("handle = open('x.txt', 'w')", "variable 'handle' (_io.TextIOWrapper)"),
        ("import threading\nhandle = {'guard': threading.Lock()}", "variable 'handle' (dict)"),
    ],
)
def test_a_cell_reading_an_unpicklable_global_is_one_line_and_nothing_runs(warm, setup, shown):
    warm.run_cell(setup).raise_error()
    outcome = warm.run_cell("%%tune --n-jobs 2 --study unshippable --trials 3\nx = tune.int(1, 2)\nprint(handle)\nx")

    error = outcome.error_in_exec
    assert isinstance(error, UsageError)
    assert shown in str(error)
    assert "\n" not in str(error)
    assert "unshippable" not in optuna.get_all_study_names(open_storage(None))  # not even the study was made


def test_a_cuda_tensor_is_refused_even_inside_a_container(warm):
    """Pickling would copy it to the CPU and re-create it on the workers' GPU: one line instead.
    (A stand-in: the check reads the type's module and ``is_cuda``; no GPU here.)"""
    warm.run_cell(
        "class Tensor:\n    __module__ = 'torch'\n    is_cuda = True\n    device = 'cuda:0'\nweights = {'w': Tensor()}"
    ).raise_error()
    outcome = warm.run_cell("%%tune --n-jobs 2 --trials 2\nx = tune.int(1, 2)\nlen(weights) + x")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "variable 'weights' (dict) cannot be sent to the worker processes (it holds a CUDA tensor on cuda:0" in str(
        outcome.error_in_exec
    )


def test_a_cell_with_magics_cannot_go_to_worker_processes(warm):
    outcome = warm.run_cell("%%tune --n-jobs 2 --trials 2\nx = tune.int(1, 2)\n%time y = 1\nx")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "the cell uses IPython magics or get_ipython()" in str(outcome.error_in_exec)


def test_names_assigned_by_the_cell_before_it_reads_them_do_not_travel(warm):
    warm.run_cell("handle = open('x.txt', 'w')").raise_error()
    result = search(warm, "--trials 2 --n-jobs 2 --no-track", "handle = 3\nx = tune.int(1, 2)\nx + handle")
    assert len(result.study.trials) == 2


# -- failures: the user's traceback, Ctrl-C, dead processes ---------------------------------------------
def test_a_worker_exception_shows_the_users_traceback_and_one_line(warm, capsys):
    warm.run_cell("def check(x):\n    if x == 3:\n        raise ValueError(f'bad x {x}')\n    return x").raise_error()
    cell = "%%tune --method grid --n-jobs 2 --study boom-par --no-track\nx = tune.int(1, 6)\ntime.sleep(0.01)\ncheck(x)"

    outcome = warm.run_cell(cell)

    error = outcome.error_in_exec
    assert isinstance(error, UsageError)
    assert "raised ValueError" in str(error)
    assert "finished trials are kept in study 'boom-par'" in str(error)
    shown = capsys.readouterr()
    traceback = shown.out + shown.err
    assert "ValueError: bad x 3" in traceback
    assert "raise ValueError(f'bad x {x}')" in traceback  # the notebook function's own line
    assert "check(x)" in traceback  # the cell's line
    assert "ipytune" not in traceback.split("ValueError: bad x 3")[0]  # no frames of ours
    trials = study_of("boom-par").get_trials()
    assert TrialState.RUNNING not in {t.state for t in trials}
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [t.user_attrs["fail_reason"] for t in failed] == ["ValueError: bad x 3"]


def interrupt_when(study: str, complete: int, slow: Path) -> threading.Thread:
    """Once ``complete`` trials of ``study`` finished: trials turn slow (30 s), then a real Ctrl-C
    (KeyboardInterrupt in the main thread) comes while the workers are in them."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                done = study_of(study).get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            except KeyError:
                done = []
            if len(done) >= complete:
                slow.touch()
                time.sleep(0.3)
                watcher.interrupted = time.monotonic()  # type: ignore[attr-defined]
                _thread.interrupt_main()
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_ctrl_c_mid_run_interrupts_the_workers_keeps_finished_trials_and_resumes(warm, tmp_path):
    slow = tmp_path / "slow"
    warm.user_ns["slow"] = str(slow)
    cell = "import os\nx = tune.float(0, 1)\ntime.sleep(30 if os.path.exists(slow) else 0.05)\nx"
    line = "--method random --trials 1000 --n-jobs 2 --study interrupted-par --no-track"
    watcher = interrupt_when("interrupted-par", complete=4, slow=slow)
    result = search(warm, line, cell)
    returned = time.monotonic()
    watcher.join()

    trials = study_of("interrupted-par").get_trials()
    states = Counter(t.state for t in trials)
    assert result.stop_reason == "interrupted"
    assert returned - watcher.interrupted < 2.5  # the workers' 30 s trials were interrupted, not waited for
    assert TrialState.RUNNING not in states
    assert 4 <= states[TrialState.COMPLETE] < 200
    assert {t.user_attrs["fail_reason"] for t in trials if t.state == TrialState.FAIL} == {"interrupted"}

    slow.unlink()
    resumed = search(warm, line.replace("1000", "3"), cell)
    after = Counter(t.state for t in resumed.study.get_trials())
    assert resumed.stop_reason == "completed"
    assert after[TrialState.COMPLETE] == states[TrialState.COMPLETE] + 3
    assert TrialState.RUNNING not in after


def test_kill_9_of_a_worker_mid_trial_fails_its_trial_and_the_grid_runs_it_again(warm, tmp_path):
    """Last: loky replaces its broken pool, so the tests after it would pay for new workers."""
    marker = tmp_path / "killed"
    warm.user_ns["marker"] = str(marker)
    cell = (
        "import os, signal\n"
        "x = tune.int(1, 4)\nk = tune.choice(['a', 'b', 'c'])\nz = tune.int(0, 1)\n"
        "if (x, k, z) == (2, 'b', 1) and not os.path.exists(marker):\n"
        "    open(marker, 'w').close()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "time.sleep(0.02)\nx"
    )
    line = "--method grid --n-jobs 2 --study killed-par --no-track"

    outcome = warm.run_cell(f"%%tune {line} --quiet\n{cell}")

    assert isinstance(outcome.error_in_exec, UsageError)
    assert "a worker stopped during the search" in str(outcome.error_in_exec)
    trials = study_of("killed-par").get_trials()
    assert TrialState.RUNNING not in {t.state for t in trials}
    killed = [t for t in trials if t.params.get("k") == "b" and t.params.get("x") == 2 and t.params.get("z") == 1]
    assert [t.state for t in killed] == [TrialState.FAIL]
    assert "died" in killed[0].user_attrs["fail_reason"]

    resumed = search(warm, line, cell)
    trials = resumed.study.get_trials()
    assert set(points(trials).values()) == {1}
    assert len(points(trials)) == GRID_POINTS  # the killed point ran again, and no point twice
    assert all(GRID_ID in t.system_attrs for t in trials if t.state == TrialState.COMPLETE)
