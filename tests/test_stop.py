"""Stop and Ctrl-C reach every search the engine runs: one search, --compare, --nested and %automl.

The dashboard is the real one (its Stop button already clicked, as a front-end would set it);
only the front-end check is patched, since these tests run in a terminal shell.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run

DATA = """\
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
calls = []
"""

ESTIMATOR_CELL = "calls.append(1)\nLogisticRegression(C=tune.float(0.01, 10.0, log=True), max_iter=200)"


@pytest.fixture
def stop_clicked(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every search's dashboard comes with Stop already clicked."""
    from ipytune.magics import _shell
    from ipytune.widgets.dashboard import LiveDashboard

    boards: list[Any] = []

    def clicked(method: str) -> LiveDashboard:
        board = LiveDashboard(method, show=False)
        board.widget.stop_requested = True
        boards.append(board)
        return board

    monkeypatch.setattr(_shell, "in_kernel", lambda shell: True)
    monkeypatch.setattr(_shell, "_live_dashboard", clicked)
    return boards


def total_trials(ip: object) -> int:
    return len(ip.user_ns["calls"])  # type: ignore[attr-defined]


def test_stop_ends_a_single_search_before_its_first_trial(ip: object, stop_clicked: list[Any]) -> None:
    run(ip, DATA)
    result = run(ip, f"%%tune --method random --trials 10 --storage memory --no-track\n{ESTIMATOR_CELL}")
    assert total_trials(ip) == 0
    assert result.stop_reason == "stopped"  # type: ignore[attr-defined]
    assert len(stop_clicked) == 1


def test_stop_ends_the_whole_comparison(ip: object, stop_clicked: list[Any]) -> None:
    run(ip, DATA)
    comparison = run(ip, f"%%tune --compare random,tpe --trials 10 --storage memory --no-track\n{ESTIMATOR_CELL}")
    assert total_trials(ip) == 0  # was 10 + 10 when only the kernel's Ctrl-C could stop it
    assert [r.result.stop_reason for r in comparison.runs] == ["stopped"]  # type: ignore[attr-defined]


def test_stop_ends_nested_cv(ip: object, stop_clicked: list[Any]) -> None:
    run(ip, DATA)
    nested = run(ip, f"%%tune --nested 2 --trials 5 --data X y --storage memory --no-track\n{ESTIMATOR_CELL}")
    assert total_trials(ip) == 0  # was 5 + 5
    assert nested.stop_reason == "stopped"  # type: ignore[attr-defined]
    assert nested.folds == []  # type: ignore[attr-defined]


def test_stop_ends_automl(ip: object, stop_clicked: list[Any]) -> None:
    run(ip, DATA)
    result = run(ip, "%automl --data X y --families logistic,knn --trials 3 --cv 3 --storage memory --no-track")
    assert result.stop_reason == "stopped"  # type: ignore[attr-defined]
    assert [len(r.search.study.trials) for r in result.runs] == [0]  # type: ignore[attr-defined]
    assert result.best_estimator is None  # type: ignore[attr-defined]


def test_ctrl_c_ends_the_whole_comparison_and_keeps_the_finished_trials(ip: object) -> None:
    run(ip, "calls = []")
    cell = "x = tune.int(0, 9)\ncalls.append(x)\nif len(calls) == 3:\n    raise KeyboardInterrupt\nx"
    comparison = run(ip, f"%%tune --compare random,tpe --trials 5 --storage memory --no-track --quiet\n{cell}")
    runs = comparison.runs  # type: ignore[attr-defined]
    assert [r.result.stop_reason for r in runs] == ["interrupted"]
    assert [t.state.name for t in runs[0].result.study.trials] == ["COMPLETE", "COMPLETE", "FAIL"]


def test_ctrl_c_ends_nested_cv(ip: object) -> None:
    run(ip, DATA)
    cell = "calls.append(1)\nif len(calls) == 2:\n    raise KeyboardInterrupt\n" + ESTIMATOR_CELL.split("\n", 1)[1]
    nested = run(ip, f"%%tune --nested 2 --trials 4 --data X y --storage memory --no-track --quiet\n{cell}")
    assert nested.stop_reason == "interrupted"  # type: ignore[attr-defined]
    assert total_trials(ip) == 2


def test_ctrl_c_ends_automl() -> None:
    from sklearn.datasets import load_iris

    from ipytune import automl

    class InterruptAfterTwoTrials:
        def __init__(self) -> None:
            self.seen = 0

        def start(self, study: Any, total: int) -> None: ...

        def update(self, study: Any, trial: Any) -> None:
            self.seen += 1
            if self.seen == 2:
                raise KeyboardInterrupt

        def finish(self, study: Any, reason: str) -> None: ...

    X, y = load_iris(return_X_y=True)
    result = automl(
        X,
        y,
        families=["logistic", "knn"],
        trials=4,
        cv=3,
        storage="memory",
        observers_for=lambda family: [InterruptAfterTwoTrials()],
    )
    assert result.stop_reason == "interrupted"
    assert [len(r.search.study.trials) for r in result.runs] == [2]  # knn never started
