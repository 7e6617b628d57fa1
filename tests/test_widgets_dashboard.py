"""The live search dashboard: throttled, binary, stoppable, rebuilt for finished searches."""

from __future__ import annotations

import time

import numpy as np
import optuna
from ipywidgets.widgets.widget import _remove_buffers

from ipytune.search.progress import MIN_INTERVAL
from ipytune.widgets.dashboard import LiveDashboard, SearchDashboard
from tests.conftest import run


def _study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))


def test_a_thousand_fast_trials_send_a_bounded_number_of_updates() -> None:
    board = LiveDashboard("random", show=False)
    synced: list[int] = []
    board.widget.observe(lambda change: synced.append(change["new"]), names="done")
    study = _study()
    started = time.monotonic()
    board.start(study, 1000)
    for _ in range(1000):
        trial = study.ask()
        board.update(study, study.tell(trial, trial.suggest_float("x", 0, 1)))
        board.should_stop()
    board.finish(study, "completed")
    elapsed = time.monotonic() - started
    bound = elapsed / MIN_INTERVAL + 3  # a few per second, plus the first and the final draw
    assert board.updates_sent <= bound
    assert len(synced) <= bound
    assert synced[-1] == 1000  # the final state is always drawn
    values = np.frombuffer(board.widget.values, dtype=np.float64)
    assert len(values) == 1000
    assert values.max() == board.widget.best_value
    assert board.widget.status == "completed"


def test_trial_arrays_travel_as_binary_buffers() -> None:
    board = LiveDashboard("random", show=False)
    study = _study()
    board.start(study, 3)
    for _ in range(3):
        trial = study.ask()
        board.update(study, study.tell(trial, trial.suggest_float("x", 0, 1)))
    board.finish(study, "completed")
    _, paths, buffers = _remove_buffers(board.widget.get_state())
    assert ["values"] in paths
    assert ["states"] in paths
    assert sum(len(b) for b in buffers) == 3 * 8 + 3


def test_the_stop_flag_ends_the_search_before_the_next_trial(ip: object) -> None:
    from ipytune.search.cell import parse_cell
    from ipytune.search.engine import Search
    from ipytune.search.settings import SearchSettings

    board = LiveDashboard("random", show=False)
    assert board.pump is None  # no kernel here: Stop says it is unavailable
    assert not board.widget.can_stop
    assert "interrupt the kernel" in board.widget.stop_note  # shown inline, with what to do instead
    assert "finished trial is kept" in board.widget.stop_note
    # the cell plays the front-end: it sets the synced trait as a click would
    program = parse_cell("x = tune.float(0, 1)\nboard.widget.stop_requested = len(board._values) >= 5\nx")
    user_ns = dict(ip.user_ns, board=board)  # type: ignore[attr-defined]
    settings = SearchSettings(method="random", n_trials=50, storage="memory", seed=0)
    outcome = Search(program, user_ns, settings, [board]).run()  # the engine polls every Stop button itself
    assert outcome.stop_reason == "stopped"
    assert outcome.trials_run == 6  # Stop came during the 6th trial: it finishes, no trial starts after it
    assert len(outcome.study.trials) == 6
    assert board.widget.status == "stopped"


def test_dashboard_of_a_finished_search_and_round_trip(ip: object) -> None:
    result = run(
        ip,
        "%%tune --method random --trials 6 --seed 1 --quiet --no-track --storage memory --catch\n"
        "x = tune.float(0, 1)\nif x > 0.8:\n    raise ValueError('too big')\nx",
    )
    board = result.dashboard()
    counts = result.trials["state"].value_counts().to_dict()
    assert board.done == board.total == 6
    assert board.counts["COMPLETE"] == counts.get("COMPLETE", 0)
    assert board.counts["FAIL"] == counts.get("FAIL", 0)
    assert board.best_value == result.best_value
    assert not board.can_stop
    copy = SearchDashboard()
    copy.set_state(board.get_state())
    assert copy.values == board.values
    assert "6/6 trials" in repr(copy)
