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
    names = ["sgd-0.001", "sgd-0.01", "sgd-0.1", "adam-0.001", "adam-0.01", "adam-0.1"]
    assert pc.labels == names
    assert pc.runs == widget.table["id"].tolist()  # runs are told apart by id
    assert pc.groups == ["sgd"] * 3 + ["adam"] * 3
    columns = [c["name"] for c in pc.columns]
    assert columns == ["log10(lr)", "optimizer", "objective"]  # lr spans decades: a log axis
    assert pc.columns[0]["values"] == pytest.approx([-3, -2, -1] * 2)
    assert pc.columns[1]["labels"] == ["sgd", "adam"]
    assert pc.filtered == pc.runs  # nothing brushed yet
    # selecting rows (what a click does in the table) redraws the curves of those runs, one mark each
    pc.selected = [pc.runs[5], pc.runs[0]]
    curves, best_panel = widget.curves.panels
    assert [line["name"] for line in curves["lines"]] == ["sgd-0.001", "adam-0.1"]
    assert [len(line["y"]) for line in curves["lines"]] == [4, 4]
    assert curves["title"] == "loss: 2 runs"
    assert widget.selected_runs["name"].tolist() == ["sgd-0.001", "adam-0.1"]
    # the metric menu (what the front-end sets) redraws the first panel
    widget.curves.metric = "objective"
    assert widget.curves.panels[0]["title"] == "objective: 2 runs"
    # best so far per group, in run order
    best = {line["name"]: line for line in best_panel["lines"]}
    assert list(best) == ["sgd", "adam"]
    objective = widget.table["objective"].tolist()
    assert best["sgd"]["y"][-1] == pytest.approx(max(objective[:3]), rel=1e-5)
    assert best["adam"]["y"][-1] == pytest.approx(max(objective[3:]), rel=1e-5)
    assert best["sgd"]["x"] == [0, 1, 2]
    assert "6 runs" in repr(widget)


def test_no_curve_is_dropped_and_no_value_is_nan_padding(trackio_dir: Path) -> None:
    import numpy as np
    import trackio

    from ipytune.tracking import _trackio

    _trackio.use(trackio_dir)
    for k in range(15):  # more runs than the old silent cap of 12, of different lengths
        trackio.init(project="many", name=f"run-{k}", config={"k": k})
        for step in range(2 + k % 3):
            trackio.log({"loss": 1.0 / (1 + k + step)}, step=step)
        trackio.finish()
    widget = compare_runs("many", metric="loss")
    lines = widget.curves.panels[0]["lines"]
    assert len(lines) == 15
    assert widget.curves.panels[0]["title"] == "loss: 15 runs"
    assert all(np.isfinite(line["x"]).all() and np.isfinite(line["y"]).all() for line in lines)


def test_a_notebook_run_twice_is_told_apart_by_id(trackio_dir: Path) -> None:
    import trackio

    from ipytune.tracking import _trackio

    _trackio.use(trackio_dir)
    for _ in range(2):  # the same cell executed twice: same names, new runs
        for lr in (0.1, 0.2):
            trackio.init(project="again", name=f"lr{lr}", config={"lr": lr})
            trackio.log({"loss": lr}, step=0)
            trackio.log({"loss": lr / 2}, step=1)
            trackio.finish()
    widget = compare_runs("again", metric="loss")
    pc = widget.parcoords
    assert len(pc.runs) == len(set(pc.runs)) == 4
    assert pc.labels == ["lr0.1 #1", "lr0.2 #1", "lr0.1 #2", "lr0.2 #2"]  # repeated names are numbered
    pc.selected = [pc.runs[0]]  # one click selects one run, not every run of that name
    assert len(widget.selected_runs) == 1
    assert len(widget.curves.panels[0]["lines"]) == 1
    # the same run read twice (a table concatenated by hand) is one row
    doubled = RunComparison(pd_concat(widget.table, widget.table), widget.history)
    assert doubled.parcoords.runs == pc.runs


def pd_concat(*tables: object) -> object:
    import pandas as pd

    return pd.concat(tables, ignore_index=True)


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
    # a trial logs one number: the curves are the objective against trial, one line per search
    panel = widget.curves.panels[0]
    assert [line["x"] for line in panel["lines"]] == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert panel["title"] == "objective per trial: 8 runs"
    assert panel["xlabel"] == "trial"


def test_the_comparison_carries_colab_s_widget_manager_metadata(project: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Colab anywidget adds the custom widget manager's URL to its reprs; the VBox must too."""
    import sys
    import types

    from IPython.core.formatters import DisplayFormatter

    widget = compare_runs(project)
    show = DisplayFormatter().format  # what IPython's display() sends: (data, metadata)
    data, metadata = show(widget)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
    assert metadata == {}  # outside Colab: nothing added
    # Colab's google.colab.output as anywidget reads it (its private _widgets._installed_url)
    url = "https://ssl.gstatic.com/colaboratory-static/widgets/colab-cdn-widget-manager/2b70e893a8ba7c0f/manager.min.js"
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: None  # type: ignore[attr-defined]
    output._widgets = types.SimpleNamespace(_installed_url=url)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    data, metadata = show(widget)
    from anywidget._util import get_repr_metadata

    # anywidget's own metadata in the same "Colab" (with ipywidgets 7, Colab's, anywidget's widgets display
    # themselves through _ipython_display_, so format() of one returns no metadata to compare with)
    assert metadata == get_repr_metadata()
    assert metadata["application/vnd.jupyter.widget-view+json"]["colab"]["custom_widget_manager"]["url"] == url
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
