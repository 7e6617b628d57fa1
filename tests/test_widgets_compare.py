"""Run comparison over a real trackio project."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from ipytune.widgets.compare import RunComparison, compare_runs
from tests.conftest import run


@pytest.fixture
def project(trackio_dir: Path) -> str:
    import trackio

    from ipytune.tracking import _trackio

    _trackio.use(trackio_dir)  # trackio read TRACKIO_DIR once, at import: follow this test's folder
    for optimizer, speed in [("sgd", 1.0), ("adam", 3.0)]:
        for lr in [0.001, 0.01, 0.1]:
            trackio.init(
                project="cmp", name=f"{optimizer}-{lr}", group=optimizer, config={"lr": lr, "optimizer": optimizer}
            )
            for step in range(4):
                loss = math.exp(-speed * lr * 10 * step) + lr
                trackio.log({"loss": loss, "objective": 1 - loss}, step=step)
            trackio.finish()
    return "cmp"


def test_table_axes_curves_and_best_so_far(project: str) -> None:
    widget = compare_runs(project, metric="loss")
    pc = widget.parcoords
    assert pc.runs == ["sgd-0.001", "sgd-0.01", "sgd-0.1", "adam-0.001", "adam-0.01", "adam-0.1"]
    assert pc.groups == ["sgd"] * 3 + ["adam"] * 3
    names = [c["name"] for c in pc.columns]
    assert names == ["log10(lr)", "optimizer", "objective"]  # lr spans decades: a log axis
    assert pc.columns[0]["values"] == pytest.approx([-3, -2, -1] * 2)
    assert pc.columns[1]["labels"] == ["sgd", "adam"]
    assert pc.filtered == pc.runs  # nothing brushed yet
    # selecting rows (what a click does in the table) redraws the curves of those runs
    pc.selected = ["adam-0.1", "sgd-0.001"]
    line = widget.curves.marks[0]
    assert list(line.labels) == ["adam-0.1", "sgd-0.001"]
    assert line.y.shape == (2, 4)
    assert widget.curves.title == "loss: 2 runs"
    # best so far per group, in run order
    best = widget.best.marks[0]
    assert list(best.labels) == ["sgd", "adam"]
    objective = widget.table["objective"].tolist()
    assert best.y[0][-1] == pytest.approx(max(objective[:3]))
    assert best.y[1][-1] == pytest.approx(max(objective[3:]))
    assert "6 runs" in repr(widget)


def test_brushed_filter_and_selection_round_trip(project: str) -> None:
    pc = compare_runs(project).parcoords
    pc.brushes = {"objective": [0.5, 1.0]}
    state = pc.get_state()
    copy = type(pc)()
    copy.set_state(state)
    assert copy.brushes == {"objective": [0.5, 1.0]}
    assert copy.columns == pc.columns


def test_bad_names_say_what_to_do(project: str) -> None:
    with pytest.raises(ValueError, match="was not logged"):
        compare_runs(project, metric="accuracy")
    with pytest.raises(ValueError, match="is not a column"):
        compare_runs(project, objective="nope")
    with pytest.raises(UsageError, match="no trackio project"):
        compare_runs("no-such-project")


def test_runs_of_ipytune_searches(ip: object, trackio_dir: Path) -> None:
    cell = "x = tune.float(-1, 1)\n-x * x"
    run(ip, f"%%tune --method random --trials 4 --seed 0 --quiet --storage memory --project s --minimize\n{cell}")
    run(ip, f"%%tune --method tpe --trials 4 --seed 0 --quiet --storage memory --project s --minimize\n{cell}")
    widget = compare_runs("s")
    assert isinstance(widget, RunComparison)
    assert widget.objective == "objective"
    assert widget.maximize is False  # read from the search's config
    assert [c["name"] for c in widget.parcoords.columns] == ["x", "objective"]
    assert len(set(widget.parcoords.groups)) == 2
