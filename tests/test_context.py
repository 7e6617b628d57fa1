"""The running trial is context, not a global: trials that run at once each see their own."""

from __future__ import annotations

import threading
from pathlib import Path

from ipytune._context import current_log_sink, current_trial, running
from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.engine import Search
from ipytune.search.settings import SearchSettings
from ipytune.tracking.observer import TrackingObserver, TrackSettings
from ipytune.tracking.runs import metric_history

# Each trial waits at a barrier for the other search's trial, so the two are inside their
# cells at the same moment, reporting and logging in turn.
CELL = """
x = tune.int(0, 9)
for step in range(3):
    BARRIER.wait(timeout=10)
    tune.report(OFFSET + step, step)
    tune.log({"offset": OFFSET, "step_seen": step})
OFFSET + x
"""

TRIALS = 4


def test_two_searches_in_two_threads_report_and_log_to_their_own_trials(trackio_dir: Path) -> None:
    program = parse_cell(CELL)
    barrier = threading.Barrier(2)
    searches = {}
    for offset in (1000, 2000):
        settings = SearchSettings(method="random", n_trials=TRIALS, seed=offset, storage="memory")
        tracker = TrackingObserver(TrackSettings(method="random", project=f"threads-{offset}"))
        namespace = {"tune": tune, "BARRIER": barrier, "OFFSET": offset}
        searches[offset] = Search(program, namespace, settings, [tracker])
    results = {}
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            results[offset] = searches[offset].run()
        except BaseException as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(offset,)) for offset in searches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not barrier.broken  # the two searches really were inside their trials together

    for offset, result in results.items():
        trials = result.study.trials
        assert [t.state.name for t in trials] == ["COMPLETE"] * TRIALS
        for trial in trials:  # every report reached its own trial, none the other search's
            assert trial.intermediate_values == {step: offset + step for step in range(3)}
        logged = metric_history(f"threads-{offset}", metric="offset")
        assert len(logged) == TRIALS * 3
        assert set(logged["value"]) == {offset}  # tune.log rows reached the runs of their own search
        assert logged.groupby("run")["step"].apply(sorted).map(list).tolist() == [[0, 1, 2]] * TRIALS


def test_outside_a_search_nothing_runs_and_a_block_restores_what_was_there() -> None:
    assert current_trial() is None
    assert current_log_sink() is None
    with running("outer"):
        with running("inner", log_sink=None):
            assert current_trial() == "inner"
        assert current_trial() == "outer"
    assert current_trial() is None


def test_a_new_thread_does_not_inherit_the_running_trial() -> None:
    seen: list[object] = []
    with running("the kernel's trial"):
        thread = threading.Thread(target=lambda: seen.append(current_trial()))
        thread.start()
        thread.join()
    assert seen == [None]
