"""Bad input that only a running trial can show: one line, the search stopped, every finished trial kept.

Unlike the other tables, something ran here (the first trial, or a few): the promise is that what
the user sees is still one line with no ipytune frame, that the search stops at once instead of
failing its whole budget, and that the study (``tune.last``) keeps every trial that finished.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.bad_inputs.harness import COUNTER, IPYTUNE_SOURCE
from tests.conftest import run

FLAGS = "%%tune --method random --trials 5 --storage memory --no-track --quiet"


@pytest.mark.parametrize(
    ("objective", "says"),
    [
        ("None", "returned None"),
        ("'0.9'", "returned a str"),
        ("[x, x]", "returned a list"),
        ("x > 1", "returned a bool"),
        ("{'score': x}", "returned a dict"),
        ("complex(x, 1)", "returned a complex"),
        ("__import__('numpy').array([x, x])", "returned a ndarray"),
    ],
    ids=["none", "text", "list", "bool", "dict", "complex", "array"],
)
def test_a_cell_that_returns_no_number_stops_after_its_first_trial(ip: Any, objective: str, says: str) -> None:
    run(ip, f"{COUNTER} = []")
    names = {k for k in ip.user_ns if not k.startswith("_")}
    with capture_output() as shown:
        outcome = ip.run_cell(f"{FLAGS}\n{COUNTER}.append(1)\nx = tune.int(1, 9)\n{objective}")
    seen = shown.stdout + shown.stderr
    assert type(outcome.error_in_exec) is UsageError
    message = str(outcome.error_in_exec)
    assert says in message, message
    assert "every trial of this cell would fail the same way" in message
    assert seen.strip() == f"UsageError: {message}"
    assert IPYTUNE_SOURCE not in seen
    assert ip.user_ns[COUNTER] == [1], "the search went on after the first trial"
    assert {k for k in ip.user_ns if not k.startswith("_")} == names, "a trial's variables leaked into the notebook"
    trials = ip.user_ns["tune"].last.study.trials
    assert [t.state.name for t in trials] == ["FAIL"]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("x = tune.int(1, 3, name=3)\nx", "name=3): a name is a string"),
        ("x = tune.float(0, 1)\ntune.report('high', 0)\nx", "tune.report(value, step) takes a number"),
        ("x = tune.float(0, 1)\ntune.report(x, 0.5)\nx", "an integer step"),
        ("x = tune.float(0, 1)\ntune.log({'x': x}, step='first')\nx", "step is a whole number"),
    ],
)
def test_misused_declarations_are_one_line(ip: Any, cell: str, message: str) -> None:
    with capture_output() as shown:
        outcome = ip.run_cell(f"%%tune --method random --trials 3 --storage memory --quiet\n{cell}")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)
    assert "\n" not in str(outcome.error_in_exec).strip()
    assert IPYTUNE_SOURCE not in shown.stdout + shown.stderr


def test_report_takes_numpy_numbers(ip: Any) -> None:
    result = run(
        ip,
        "%%tune --method random --trials 2 --storage memory --quiet --prune median\n"
        "import numpy as np\nx = tune.float(0, 1)\nfor step in np.arange(3):\n    tune.report(np.float32(x), step)\nx",
    )
    assert [t.intermediate_values for t in result.study.trials] == [
        {0: pytest.approx(t.params["x"]), 1: pytest.approx(t.params["x"]), 2: pytest.approx(t.params["x"])}
        for t in result.study.trials
    ]


@pytest.mark.parametrize("value", ["float('inf')", "-float('inf')"])
def test_an_infinite_objective_fails_its_trial_and_is_never_the_best(ip: Any, value: str) -> None:
    result = run(ip, f"%%tune --method random --trials 3 --storage memory --quiet\nx = tune.int(1, 5)\n{value}")
    assert (result.trials["state"] == "FAIL").all()
    assert result.trials["fail_reason"].str.contains("infinite").all()
    assert result.best_trial is None


def test_a_search_stopped_by_an_estimator_that_cannot_fit_is_still_tune_last(ip: Any) -> None:
    run(
        ip,
        "from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)\nfrom sklearn.tree import DecisionTreeClassifier",
    )
    outcome = ip.run_cell(
        "%%tune --method random --trials 3 --data X y --cv 3 --storage memory --quiet --study unfit\n"
        "DecisionTreeClassifier(max_depth=tune.int(-3, -1))"
    )
    assert isinstance(outcome.error_in_exec, UsageError)
    last = ip.user_ns["tune"].last
    assert last.study.study_name == "unfit"
    assert [t.state.name for t in last.study.trials] == ["FAIL"]


def test_sys_exit_in_the_cell_says_the_finished_trials_are_kept(ip: Any) -> None:
    run(ip, "calls = []")
    cell = "import sys\nx = tune.int(1, 9)\ncalls.append(x)\nif len(calls) == 3:\n    sys.exit(2)\nx"
    outcome = ip.run_cell(f"%%tune --method random --trials 6 --study leaving --storage memory --quiet\n{cell}")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "trial 2 called sys.exit(2)" in str(outcome.error_in_exec)
    assert "2 finished trials are kept in study 'leaving'" in str(outcome.error_in_exec)
    assert [t.state.name for t in ip.user_ns["tune"].last.study.trials] == ["COMPLETE", "COMPLETE", "FAIL"]


def test_data_a_cell_never_used_is_said(ip: Any) -> None:
    run(ip, "X, y = [[0.0]] * 10, [0, 1] * 5")
    result = run(ip, "%%tune --method random --trials 2 --data X y --storage memory --quiet\nx = tune.int(1, 2)\nx")
    assert "--data X y was not used: the cell returned a number" in str(result)
