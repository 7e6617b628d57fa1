"""Bad input is one clear line, before anything runs or with the trials kept: never an internal traceback."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from tests.conftest import run


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("x = tune.int(1, 3, name=3)\nx", "name=3): a name is a string"),
        ("x = tune.float(0, 1)\ntune.report('high', 0)\nx", "tune.report(value, step) takes a number"),
        ("x = tune.float(0, 1)\ntune.report(x, 0.5)\nx", "an integer step"),
    ],
)
def test_misused_declarations_are_one_line(ip: object, cell: str, message: str) -> None:
    outcome = ip.run_cell(f"%%tune --method random --trials 3 --storage memory --quiet\n{cell}")  # type: ignore[attr-defined]
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)
    assert "\n" not in str(outcome.error_in_exec).strip()


def test_report_takes_numpy_numbers(ip: object) -> None:
    result = run(
        ip,
        "%%tune --method random --trials 2 --storage memory --quiet --prune median\n"
        "import numpy as np\nx = tune.float(0, 1)\nfor step in np.arange(3):\n    tune.report(np.float32(x), step)\nx",
    )
    assert [t.intermediate_values for t in result.study.trials] == [  # type: ignore[attr-defined]
        {0: pytest.approx(t.params["x"]), 1: pytest.approx(t.params["x"]), 2: pytest.approx(t.params["x"])}
        for t in result.study.trials  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("value", ["float('inf')", "-float('inf')"])
def test_an_infinite_objective_fails_its_trial_and_is_never_the_best(ip: object, value: str) -> None:
    result = run(ip, f"%%tune --method random --trials 3 --storage memory --quiet\nx = tune.int(1, 5)\n{value}")
    assert (result.trials["state"] == "FAIL").all()  # type: ignore[attr-defined]
    assert result.trials["fail_reason"].str.contains("infinite").all()  # type: ignore[attr-defined]
    assert result.best_trial is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("setup", "line", "message"),
    [
        (
            "import numpy as np\nX, y = np.zeros((0, 3)), np.zeros(0)",
            "%automl --data X y --trials 1 --quiet",
            "X has 0 rows",
        ),
        (
            "import numpy as np\nX, y = np.zeros((3, 3)), np.arange(3)",
            "%automl --data X y --cv 5 --quiet",
            "fewer than --cv 5",
        ),
        ("", "%trackio_show --port 99999", "--port 99999"),
        ("", "%trackio_show --port 80", "--port 80"),
    ],
)
def test_other_magics_misuse_is_one_line(ip: object, setup: str, line: str, message: str) -> None:
    if setup:
        run(ip, setup)
    outcome = ip.run_cell(line)  # type: ignore[attr-defined]
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)
    assert "\n" not in str(outcome.error_in_exec).strip()


def test_a_search_stopped_by_an_estimator_that_cannot_fit_is_still_tune_last(ip: object) -> None:
    run(
        ip,
        "from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)\nfrom sklearn.tree import DecisionTreeClassifier",
    )
    outcome = ip.run_cell(  # type: ignore[attr-defined]
        "%%tune --method random --trials 3 --data X y --cv 3 --storage memory --quiet --study unfit\n"
        "DecisionTreeClassifier(max_depth=tune.int(-3, -1))"
    )
    assert isinstance(outcome.error_in_exec, UsageError)
    last = ip.user_ns["tune"].last  # type: ignore[attr-defined]
    assert last.study.study_name == "unfit"
    assert [t.state.name for t in last.study.trials] == ["FAIL"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--maximize --minimize", "--maximize and --minimize together"),
        ("--minimize --trials 2 --maximize", "--maximize and --minimize together"),
    ],
)
def test_contradicting_flags_are_one_line(ip: object, line: str, message: str) -> None:
    outcome = ip.run_cell(f"%%tune {line} --storage memory\nx = tune.int(1, 2)\nx")  # type: ignore[attr-defined]
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)


def test_a_bad_config_default_is_named_as_the_config_not_as_a_flag(ip: object) -> None:
    ip.run_line_magic("config", "TuneMagics.default_method = 'annealing'")  # type: ignore[attr-defined]
    try:
        outcome = ip.run_cell("%%tune --storage memory\nx = tune.int(1, 2)\nx")  # type: ignore[attr-defined]
    finally:
        ip.run_line_magic("config", "TuneMagics.default_method = 'tpe'")  # type: ignore[attr-defined]
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "%config TuneMagics.default_method 'annealing' is not one of" in str(outcome.error_in_exec)


def test_sys_exit_in_the_cell_says_the_finished_trials_are_kept(ip: object) -> None:
    run(ip, "calls = []")
    cell = "import sys\nx = tune.int(1, 9)\ncalls.append(x)\nif len(calls) == 3:\n    sys.exit(2)\nx"
    outcome = ip.run_cell(f"%%tune --method random --trials 6 --study leaving --storage memory --quiet\n{cell}")  # type: ignore[attr-defined]
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "trial 2 called sys.exit(2)" in str(outcome.error_in_exec)
    assert "2 finished trials are kept in study 'leaving'" in str(outcome.error_in_exec)
    assert [t.state.name for t in ip.user_ns["tune"].last.study.trials] == ["COMPLETE", "COMPLETE", "FAIL"]  # type: ignore[attr-defined]


def test_data_a_cell_never_used_is_said(ip: object) -> None:
    run(ip, "X, y = [[0.0]] * 10, [0, 1] * 5")
    result = run(ip, "%%tune --method random --trials 2 --data X y --storage memory --quiet\nx = tune.int(1, 2)\nx")
    assert "--data X y was not used: the cell returned a number" in str(result)
