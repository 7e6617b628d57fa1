"""Grid vs random coverage: the counts shown are the samples' own."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError

from ipytune.widgets.coverage import CoverageExplorer, coverage_data, coverage_explorer, objective
from tests.conftest import run


@pytest.fixture(scope="module")
def data() -> dict:
    return coverage_data(budget=9, important="x")


def test_counts_and_best_match_the_samples(data: dict) -> None:
    for panel in data["panels"]:
        assert len(panel["frames"]) == len(data["budgets"])
        for budget, frame in zip(data["budgets"], panel["frames"], strict=True):
            x, y, v = (np.array(frame[k]) for k in ("x", "y", "value"))
            assert len(x) <= budget
            assert frame["distinct_x"] == len(set(x.round(9)))
            assert frame["distinct_y"] == len(set(y.round(9)))
            assert v == pytest.approx(objective(x, y), abs=1e-5)
            assert frame["best"] == pytest.approx(v.max())
            assert v[frame["best_index"]] == frame["best"]


def test_the_lecture_picture_on_nine_trials(data: dict) -> None:
    grid, rand = (p["frames"][data["budgets"].index(9)] for p in data["panels"])
    assert (grid["distinct_x"], grid["distinct_y"], len(grid["x"])) == (3, 3, 9)
    assert (rand["distinct_x"], rand["distinct_y"], len(rand["x"])) == (9, 9, 9)
    assert rand["best"] > grid["best"]  # the grid misses the narrow peak in x


def test_random_samples_grow_with_the_budget(data: dict) -> None:
    frames = data["panels"][1]["frames"]
    assert frames[4]["x"] == frames[9]["x"][:5]  # a bigger budget adds points, keeps the old ones


def test_the_important_parameter_can_be_y() -> None:
    d = coverage_data(budget=4, important="y")
    x, y = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5))
    assert np.ptp(objective(x, 0.71, "y")) < 0.1 < np.ptp(objective(0.5, y, "y"))
    assert [a["name"] for a in d["axes"]] == ["unimportant", "important"]
    assert d["important"] == 1


@pytest.mark.parametrize("w", [0.5, 0.9, 0.99])
def test_importance_is_the_share_of_f_each_parameter_moves(w: float) -> None:
    line = np.linspace(0, 1, 401)
    assert np.ptp(objective(line, 0.3, importance=w)) == pytest.approx(w, abs=1e-3)
    assert np.ptp(objective(0.3, line, importance=w)) == pytest.approx(1 - w, abs=1e-3)
    # the parts the front-end composes f from are f's own
    d = coverage_data(budget=9)
    frame = d["panels"][1]["frames"][8]
    composed = w * np.array(frame["bump"]) + (1 - w) * np.array(frame["ripple"])
    assert composed == pytest.approx(objective(np.array(frame["x"]), np.array(frame["y"]), importance=w), abs=1e-5)
    assert [a["name"] for a in d["axes"]] == ["important", "unimportant"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"budget": 0}, "budget"), ({"important": "z"}, "important"), ({"importance": 0.7}, "importance")],
)
def test_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coverage_explorer(**kwargs)


def test_slider_state_round_trips() -> None:
    widget = coverage_explorer(budget=9)
    assert widget.budget == 9
    widget.budget_index = 15
    copy = CoverageExplorer()
    copy.set_state(widget.get_state())
    assert copy.budget == 16
    assert "16 points" in repr(copy)
    widget.weight_index = 0
    assert widget.importance == 0.5
    assert "importance 0.5" in repr(widget)


def test_coverage_of_real_searches_side_by_side(ip: object) -> None:
    cell = "x = tune.choice([1, 2, 3])\ny = tune.float(0, 1, step=0.5)\nx + y"
    grid = run(ip, f"%%tune --method grid --quiet --no-track --storage memory\n{cell}")
    rand = run(ip, f"%%tune --method random --trials 5 --seed 0 --quiet --no-track --storage memory\n{cell}")
    data = grid.coverage(x="x", y="y", other=rand).get_state()["data"]
    assert [len(p["frames"]) for p in data["panels"]] == [9, 9]
    full = data["panels"][0]["frames"][-1]
    assert (full["distinct_x"], full["distinct_y"], full["best"]) == (3, 3, 4.0)
    assert len(data["panels"][1]["frames"][-1]["x"]) == 5  # the shorter study stops at its own trials
    with pytest.raises(UsageError, match="name two of them"):
        grid.coverage(x="x", y="nope")
