"""A process that dies mid-trial (kill -9) leaves no trial RUNNING for ever: the next open of the study fails it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import optuna
from optuna.trial import TrialState

from ipytune.search._optuna import set_trial_system_attr
from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.engine import Search, open_study
from ipytune.search.recovery import HOST, OWNER, PROCESS, fail_dead_trials
from ipytune.search.samplers import make_sampler
from ipytune.search.settings import SearchSettings

GRID_CELL = "x = tune.int(1, 3)\nk = tune.choice(['a', 'b'])\nhook(x, k)\nx"


def grid_settings(journal: str) -> SearchSettings:
    return SearchSettings(method="grid", study_name="crash", storage=journal, seed=0)


def test_kill_9_of_a_single_process_search_fails_its_trial_on_the_next_open_and_the_grid_reruns_it(tmp_path):
    journal, ready = str(tmp_path / "studies.journal"), tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        from ipytune.search.cell import parse_cell
        from ipytune.search.declarations import tune
        from ipytune.search.engine import Search
        from ipytune.search.settings import SearchSettings
        runs = []
        def hook(x, k):
            runs.append((x, k))
            if len(runs) == 3:  # the third trial hangs until it is killed
                pathlib.Path({str(ready)!r}).touch()
                time.sleep(600)
        settings = SearchSettings(method="grid", study_name="crash", storage={journal!r}, seed=0)
        Search(parse_cell({GRID_CELL!r}), {{"tune": tune, "hook": hook}}, settings).run()
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    settings = grid_settings(journal)
    study = open_study(settings, make_sampler("grid", [], 0))  # the next open
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.COMPLETE] * 2 + [TrialState.FAIL]
    assert study.trials[2].user_attrs["fail_reason"] == (f"its process (pid {process.pid} on {HOST}) died while it ran")

    result = Search(parse_cell(GRID_CELL), {"tune": tune, "hook": lambda x, k: None}, settings).run()
    done = Counter((t.params["x"], t.params["k"]) for t in result.study.trials if t.state == TrialState.COMPLETE)
    assert len(done) == 6
    assert set(done.values()) == {1}  # the killed point ran again, no point twice


def test_only_a_dead_process_of_this_host_loses_its_running_trial(tmp_path):
    settings = SearchSettings(method="random", study_name="owners", storage=str(tmp_path / "studies.journal"))
    study = open_study(settings, make_sampler("random", [], 0))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    owners = {
        "dead here": {"host": HOST, "pid": gone.pid},
        "alive here": {"host": HOST, "pid": os.getppid()},
        "this process": {"host": HOST, "pid": os.getpid()},
        "another host": {"host": HOST + "-elsewhere", "pid": gone.pid},
        "no owner": None,
    }
    numbers = {}
    for name, owner in owners.items():
        trial = study.ask()
        if owner is not None:
            set_trial_system_attr(study, trial, OWNER, owner)
        numbers[name] = trial.number

    assert fail_dead_trials(study) == [numbers["dead here"]]
    states = {name: study.trials[number].state for name, number in numbers.items()}
    assert states == {name: TrialState.FAIL if name == "dead here" else TrialState.RUNNING for name in owners}


def test_a_search_in_the_kernel_registers_its_process_once_not_a_write_per_trial(tmp_path):
    settings = SearchSettings(method="random", n_trials=3, study_name="owned", storage=str(tmp_path / "s.journal"))
    result = Search(parse_cell("x = tune.int(1, 9)\nx"), {"tune": tune}, settings).run()
    attrs = result.study._storage.get_study_system_attrs(result.study._study_id)
    assert attrs[f"{PROCESS}{HOST}:{os.getpid()}"] is True
    assert all(OWNER not in t.system_attrs for t in result.study.trials)

    in_memory = Search(
        parse_cell("x = tune.int(1, 9)\nx"), {"tune": tune}, SearchSettings(n_trials=2, storage="memory")
    )
    assert all(OWNER not in t.system_attrs for t in in_memory.run().study.trials)  # it dies with this process


def test_a_zombie_counts_as_dead(tmp_path):
    """A killed child its parent has not reaped yet (a loky worker a moment after kill -9)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(child.pid, signal.SIGKILL)
    time.sleep(0.2)  # dead, not reaped: a zombie
    study = optuna.create_study()
    trial = study.ask()
    set_trial_system_attr(study, trial, OWNER, {"host": HOST, "pid": child.pid})
    try:
        assert fail_dead_trials(study) == [trial.number]
    finally:
        child.wait()
