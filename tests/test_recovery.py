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


KERNEL_CELL = """%%tune --method grid --study crash --storage {journal} --no-track --quiet --no-refit
import pathlib, time
x = tune.int(1, 3)
k = tune.choice(['a', 'b'])
with open({runs!r}, 'a') as runs:
    runs.write(f'{{x}},{{k}}\\n')
if len(open({runs!r}).readlines()) == 3 and not pathlib.Path({resume!r}).exists():
    pathlib.Path({ready!r}).touch()  # the third trial hangs until its kernel is killed
    time.sleep(600)
x
"""


def _kernel(folder):
    """A real ipykernel working in ``folder``, with ipytune loaded, and a client to it."""
    from jupyter_client import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(folder), env={**os.environ, "TRACKIO_DIR": str(folder / "trackio")})
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    _execute(client, "%load_ext ipytune")
    return manager, client


def _execute(client, code):
    """Run ``code`` in the kernel; its reply must be ok (its output is returned, for a failure's message)."""
    shown = []
    reply = client.execute_interactive(
        code, timeout=60, output_hook=lambda msg: shown.append(str(msg["content"].get("text", msg["content"])))
    )
    assert reply["content"]["status"] == "ok", "".join(shown)
    return "".join(shown)


def test_kill_9_of_a_real_kernel_mid_search_then_the_same_cell_resumes_it(tmp_path):
    """A kernel killed in its third grid trial: the finished trials stay, the killed one is FAIL
    (not RUNNING for ever), and the cell run again in a fresh kernel finishes the grid, no point twice."""
    from ipytune.search.storage import open_storage

    journal, runs, ready, resume = (tmp_path / n for n in ("studies.journal", "runs", "ready", "resume"))
    cell = KERNEL_CELL.format(journal=journal, runs=str(runs), ready=str(ready), resume=str(resume))

    manager, client = _kernel(tmp_path)
    try:
        client.execute(cell)  # no wait: it hangs in trial 2
        deadline = time.monotonic() + 60
        while not ready.exists() and manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the search never reached its third trial"
        pid = manager.provisioner.process.pid
        os.kill(pid, signal.SIGKILL)
        manager.provisioner.process.wait(timeout=10)
    finally:
        client.stop_channels()
        manager.cleanup_resources()

    def trials():
        storage = open_storage(str(journal))
        return storage.get_all_trials(storage.get_study_id_from_name("crash"), deepcopy=False)

    killed = trials()
    assert [t.state for t in killed] == [TrialState.COMPLETE] * 2 + [TrialState.RUNNING]  # it died in trial 2

    resume.touch()
    manager, client = _kernel(tmp_path)
    try:
        _execute(client, cell)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    after = trials()
    assert [(t.params, t.state) for t in after[:2]] == [(t.params, t.state) for t in killed[:2]]  # kept as they were
    assert after[2].state == TrialState.FAIL
    assert after[2].user_attrs["fail_reason"] == f"its process (pid {pid} on {HOST}) died while it ran"
    done = Counter((t.params["x"], t.params["k"]) for t in after if t.state == TrialState.COMPLETE)
    assert len(done) == 6  # the whole grid: the budget is spent
    assert set(done.values()) == {1}  # no point twice: the killed point ran again once
    assert not [t for t in after if t.state == TrialState.RUNNING]
