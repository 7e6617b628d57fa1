"""--compare: every method searches the same cell on the same budget, side by side."""

from __future__ import annotations

import itertools

import pytest
from IPython.core.error import UsageError

from tests.conftest import run

CELL = """\
x = tune.float(-5.0, 5.0)
n = tune.int(0, 10)
kind = tune.choice(["a", "b"])
calls.append(kind)
-(x - 1) ** 2 - (n - 3) ** 2 + (kind == "a")
"""


def test_every_method_gets_the_same_budget(ip: object) -> None:
    run(ip, "calls = []")
    comparison = run(ip, f"%%tune --compare random,tpe,gp,grid --trials 12 --seed 3 --storage memory --quiet\n{CELL}")
    runs = comparison.runs  # type: ignore[attr-defined]
    assert [r.method for r in runs] == ["random", "tpe", "gp", "grid"]
    for r in runs:
        trials = r.result.study.get_trials(deepcopy=False)
        if r.method == "grid":
            # a grid of at most 12 points: x and n get levels, the choice keeps both options
            assert len(trials) <= 12
            assert "grid" in r.note
            assert "budget of 12" in r.note
        else:
            assert len(trials) == 12
        assert r.result.study.study_name.endswith(r.method)
        assert r.seconds > 0
        assert len(r.curve) == len(trials)
    # the cell ran once per trial of every method, and was never refitted
    assert len(ip.user_ns["calls"]) == sum(len(r.curve) for r in runs)  # type: ignore[attr-defined]
    summary = comparison.summary  # type: ignore[attr-defined]
    assert set(summary["method"]) == {"random", "tpe", "gp", "grid"}
    assert summary["best"].is_monotonic_decreasing  # best first (maximised)
    text = str(comparison)
    assert "best so far" in text
    assert "budget of 12" in text
    assert ip.user_ns["tune"].last is comparison  # type: ignore[attr-defined]
    assert "<table" in comparison._repr_html_()  # type: ignore[attr-defined]


def test_best_so_far_curves_never_get_worse(ip: object) -> None:
    run(ip, "calls = []")
    comparison = run(ip, f"%%tune --compare random,tpe --trials 10 --minimize --storage memory --quiet\n{CELL}")
    for r in comparison.runs:  # type: ignore[attr-defined]
        curve = r.curve
        assert all(b <= a for a, b in itertools.pairwise(curve))
        assert curve[-1] == r.result.best_value


def test_repeats_show_the_spread_over_seeds(ip: object) -> None:
    run(ip, "calls = []")
    comparison = run(
        ip, f"%%tune --compare random,tpe --trials 6 --repeats 3 --seed 10 --storage memory --quiet\n{CELL}"
    )
    runs = comparison.runs  # type: ignore[attr-defined]
    assert len(runs) == 6
    assert sorted({r.seed for r in runs}) == [10, 11, 12]
    curves = comparison.curves  # type: ignore[attr-defined]
    assert len(curves) == 6 * 6
    summary = comparison.summary  # type: ignore[attr-defined]
    assert (summary["best_min"] <= summary["best"]).all()
    assert (summary["best"] <= summary["best_max"]).all()
    assert "[" in comparison.curve_table().iloc[-1, 0]  # type: ignore[attr-defined]


def test_budget_grid_fits_the_budget() -> None:
    from ipytune.search.samplers.budget import budget_grid
    from ipytune.search.space import ChoiceParam, FloatParam, IntParam

    params = [FloatParam("lr", 1e-4, 1e-1, log=True), IntParam("depth", 1, 3), ChoiceParam("k", ("a", "b"))]
    values = budget_grid(params, 40)
    assert values[1] == [1, 2, 3]  # a small int range is taken whole
    assert values[2] == ["a", "b"]
    assert len(values[0]) * 3 * 2 <= 40
    assert values[0][0] == pytest.approx(1e-4)
    assert values[0][-1] == pytest.approx(1e-1)
    assert values[0][1] / values[0][0] == pytest.approx(values[0][2] / values[0][1])  # log-spaced


def test_grid_refuses_a_conditional_space_before_anything_runs(ip: object) -> None:
    run(ip, "calls = []")
    cell = "a = tune.int(0, 3)\nif a > 1:\n    b = tune.int(0, 3)\ncalls.append(a)\na"
    with pytest.raises(UsageError, match="fixed search space"):
        run(ip, f"%%tune --compare random,grid --trials 4 --storage memory --quiet\n{cell}")
    assert ip.user_ns["calls"] == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--compare random,annealing", "--compare"),
        ("--compare random,random", "twice"),
        ("--repeats 3", "--repeats goes with --compare"),
    ],
)
def test_bad_compare_options(ip: object, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run(ip, f"%%tune {line} --storage memory\nx = tune.int(1, 3)\nx")
