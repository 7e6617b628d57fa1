"""result.plot(kind) draws Optuna's plots for every method; the summary names what mattered."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.display import display
from IPython.utils.capture import capture_output

from ipytune.search.analysis import IMPORTANCE_MIN_TRIALS, PLOTS
from tests.conftest import run

CELL = (
    "x = tune.float(0.0, 1.0, step=0.25)\n"
    "depth = tune.int(1, 4)\n"
    "kind = tune.choice(['a', 'b'])\n"
    "x * 10 + depth * 0.1 + (kind == 'a')"
)


@pytest.fixture(scope="module")
def searches():
    """One small search per method, run once for every plot kind (a shell of its own, no tracking)."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("reload_ext", "ipytune")
    found = {
        method: run(ip, f"%%tune --method {method} --trials 8 --seed 0 --storage memory --no-track --quiet\n{CELL}")
        for method in ("grid", "random", "gp", "tpe")
    }
    yield found
    ip.reset(new_session=False)


@pytest.mark.parametrize("kind", list(PLOTS))
@pytest.mark.parametrize("method", ["grid", "random", "gp", "tpe"])
def test_every_plot_kind_is_a_figure_for_every_method(searches, method, kind):
    import plotly.graph_objects as go

    result = searches[method]
    figure = result.plot(kind)
    assert isinstance(figure, go.Figure)
    assert figure.data, f"{kind} of a {method} search drew nothing"
    with capture_output() as shown:  # as the notebook displays it (a figure displays itself)
        display(figure)
    (output,) = shown.outputs
    assert "<div" in output.data["text/html"]  # exported HTML shows it too, plotly.js from its CDN
    assert "cdn.plot.ly" in output.data["text/html"]


def test_plot_can_be_limited_to_parameters(searches):
    figure = searches["tpe"].plot("contour", params=["x", "depth"])
    assert {figure.layout.xaxis.title.text, figure.layout.yaxis.title.text} == {"x", "depth"}


def test_bad_plots_are_one_line(searches):
    result = searches["random"]
    with pytest.raises(UsageError, match="choose one of history, importance, contour, slice, parallel"):
        result.plot("histogram")
    with pytest.raises(UsageError, match=r"the study's parameters are depth, kind, x"):
        result.plot("slice", params=["lr"])
    with pytest.raises(UsageError, match="needs two parameters or more"):
        result.plot("contour", params=["x"])


def test_the_summary_names_the_parameters_that_mattered_after_enough_trials(ip):
    few = run(ip, f"%%tune --method random --trials 8 --seed 1 --storage memory --no-track --quiet\n{CELL}")
    assert few.importance is None
    assert "parameter importance" not in few.to_text()

    many = run(
        ip,
        f"%%tune --method random --trials {IMPORTANCE_MIN_TRIALS} --seed 1 --storage memory --no-track --quiet\n{CELL}",
    )
    assert next(iter(many.importance)) == "x"  # x moves the objective by 10, depth by 0.3, kind by 1
    assert sum(many.importance.values()) == pytest.approx(1.0)
    assert "what mattered most (parameter importance): x 0." in many.to_text()
    assert "what mattered most" in many._repr_html_()
