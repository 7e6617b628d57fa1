"""--prune: an unpromising trial stops at tune.report and is recorded as pruned, with the steps it saved."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from tests.conftest import run

# A bumpy objective, so every method (GP included) keeps trying poor points; their reports are
# low from the first step on and the median pruner stops them.
CELL = """\
import math
q = tune.float(0.0, 1.0, step=0.05)
ran = []
for epoch in range(10):
    tune.report(math.sin(12 * q) * (epoch + 1), epoch)
    ran.append(epoch)
after_report[q] = len(ran)
math.sin(12 * q) * 10
"""


@pytest.mark.parametrize("method", ["tpe", "random", "grid", "gp"])
def test_pruned_trials_stop_at_the_report_line(ip: object, method: str) -> None:
    run(ip, "after_report = {}")
    result = run(ip, f"%%tune --method {method} --trials 16 --prune median --seed 0 --storage memory --quiet\n{CELL}")
    ns = ip.user_ns  # type: ignore[attr-defined]
    trials = result.study.get_trials(deepcopy=False)  # type: ignore[attr-defined]
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert pruned, f"{method}: no trial was pruned"
    for t in pruned:
        q = t.params["q"]
        # the line after the report never ran for the epoch it was pruned at, nor the rest of the cell
        assert q not in ns["after_report"] or ns["after_report"][q] == 10  # a duplicate q may have completed
        assert t.last_step < 9
        assert t.value == pytest.approx(t.intermediate_values[t.last_step])  # kept with its last value
    assert all(t.last_step == 9 for t in complete)
    summary = result.pruning()  # type: ignore[attr-defined]
    assert summary["pruned"] == len(pruned)
    assert summary["steps_saved"] == sum(9 - t.last_step for t in pruned)
    assert f"{len(pruned)} pruned" in str(result)


def test_code_after_the_report_does_not_run_for_a_pruned_trial(ip: object) -> None:
    run(ip, "epochs_run = []")
    cell = """\
q = tune.float(0.0, 1.0)
n = 0
for epoch in range(8):
    tune.report(q, epoch)
    n += 1
epochs_run.append(n)
q
"""
    result = run(ip, f"%%tune --method random --trials 20 --prune median --seed 1 --storage memory --quiet\n{cell}")
    counts = result.study.get_trials(deepcopy=False)  # type: ignore[attr-defined]
    states = [t.state.name for t in counts]
    epochs = ip.user_ns["epochs_run"]  # type: ignore[attr-defined]
    # only complete trials (and the refit) reached the end of the cell, each after all 8 epochs
    assert len(epochs) == states.count("COMPLETE") + 1
    assert set(epochs) == {8}
    assert states.count("PRUNED") > 0


def test_without_prune_nothing_is_pruned(ip: object) -> None:
    run(ip, "after_report = {}")
    result = run(ip, f"%%tune --method random --trials 8 --seed 0 --storage memory --quiet\n{CELL}")
    assert result.pruning()["pruned"] == 0  # type: ignore[attr-defined]
    assert {t.state.name for t in result.study.trials} == {"COMPLETE"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("pruner", ["hyperband", "halving"])
def test_other_pruners_prune(ip: object, pruner: str) -> None:
    run(ip, "after_report = {}")
    result = run(ip, f"%%tune --method random --trials 30 --prune {pruner} --seed 0 --storage memory --quiet\n{CELL}")
    assert result.pruning()["pruned"] > 0  # type: ignore[attr-defined]


def test_unknown_pruner_is_a_usage_error(ip: object) -> None:
    with pytest.raises(UsageError, match="--prune"):
        run(ip, "%%tune --prune fastest --storage memory\nx = tune.int(1, 3)\nx")
