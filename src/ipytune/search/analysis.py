"""What a finished search says beyond its best trial: Optuna's plots, which parameters mattered,
the model worth keeping and how the best configuration errs.

Optuna's own ``optuna.visualization`` (plotly) and ``optuna.importance`` do the work; this module
chooses, names and guards them. Loaded only when a result is plotted or summarised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:  # the cell's module is not imported: it leads back to the result, which imports this one
    import optuna

    from ipytune.search.settings import Scoring

# result.plot(kind) -> the optuna.visualization function that draws it
PLOTS = {
    "history": "plot_optimization_history",
    "importance": "plot_param_importances",
    "contour": "plot_contour",
    "slice": "plot_slice",
    "parallel": "plot_parallel_coordinate",
}
IMPORTANCE_MIN_TRIALS = 20  # below this, importances are mostly noise: the summary leaves them out


def plot(study: optuna.Study, kind: str, params: list[str] | None = None) -> Any:
    """The plotly figure of ``kind`` for ``study``; ``params`` limits it to some parameters."""
    from optuna.trial import TrialState

    if kind not in PLOTS:
        raise UsageError(f"plot({kind!r}): choose one of {', '.join(PLOTS)}.")
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise UsageError(f"plot({kind!r}): no trial of study {study.study_name!r} has completed yet.")
    names = sorted({name for trial in complete for name in trial.params})
    unknown = [p for p in params or [] if p not in names]
    if unknown:
        raise UsageError(f"plot({kind!r}, params={unknown!r}): the study's parameters are {', '.join(names)}.")
    if kind == "contour" and len(params or names) < 2:
        raise UsageError("plot('contour') needs two parameters or more; use plot('slice') for one.")
    if kind == "importance" and len(complete) < 2:
        raise UsageError("plot('importance') needs at least two complete trials.")
    import optuna.visualization as visualization

    draw = getattr(visualization, PLOTS[kind])
    figure = draw(study) if kind == "history" else draw(study, params=params)
    _everywhere(figure)
    return figure


def _everywhere(figure: Any) -> None:
    """Show ``figure`` in exported HTML too: plotly's Jupyter default sends only its own mimetype,
    which JupyterLab, VS Code and Colab draw and nbconvert's HTML drops; add HTML that loads
    plotly.js from its CDN beside it. (A figure displays itself through ``_ipython_display_``.)"""
    own = figure._repr_mimebundle_

    def bundle(include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = own(include, exclude, **kwargs) or {}
        if "text/html" not in data:
            data = {**data, "text/html": figure.to_html(full_html=False, include_plotlyjs="cdn")}
        return data

    def display() -> None:
        from IPython.display import display as show

        show(bundle(), raw=True)  # type: ignore[no-untyped-call]

    figure._repr_mimebundle_ = bundle
    figure._ipython_display_ = display


def importance(study: optuna.Study) -> tuple[dict[str, float], int] | None:
    """Optuna's parameter importances (its default evaluator) and the complete trials they rest on;
    None under ``IMPORTANCE_MIN_TRIALS`` complete trials, with one parameter, or when Optuna cannot."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < IMPORTANCE_MIN_TRIALS or len({p for t in complete for p in t.params}) < 2:
        return None
    import optuna.importance

    try:
        return dict(optuna.importance.get_param_importances(study)), len(complete)
    except Exception:  # a conditional space with no parameter common to all trials, a constant objective...
        return None


# -- after the refit: the model to save, and its confusion matrix -----------------------------------------
def fitted_model(program: Any, namespace: dict[str, Any], refitted: Any) -> tuple[Any, str | None]:
    """The model the refit left: the returned estimator (fitted on --data), else a fitted estimator or
    PyTorch module the cell (a ``CellProgram``) names, ``model`` first. With none, the name of an
    estimator the cell left unfitted (scored by ``cross_val_score``, which fits copies), if any."""
    from ipytune.tracking.artifacts import is_estimator, is_model

    if is_model(refitted):
        return refitted, None
    names = sorted(dict.fromkeys((*program.body.co_names, *program.objective.co_names)), key=lambda n: n != "model")
    found = [namespace[n] for n in names if is_model(namespace.get(n))]
    if found:
        return found[0], None
    return None, next((n for n in names if is_estimator(namespace.get(n))), None)


def confusion(model: Any, namespace: dict[str, Any], scoring: Scoring) -> tuple[Any, list[Any], str] | None:
    """The best configuration's confusion matrix on out-of-fold predictions (the search's folds, so it
    shows errors on unseen rows, not on the rows the model was fitted on); None unless a classifier
    was scored on --data."""
    if scoring.data is None:
        return None
    from sklearn.base import clone, is_classifier

    if not is_classifier(model):
        return None
    import numpy as np
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import cross_val_predict

    X, y = (namespace[name] for name in scoring.data)
    predicted = cross_val_predict(clone(model), X, y, cv=scoring.cv)
    labels = list(np.unique(np.asarray(y)))
    matrix = confusion_matrix(y, predicted, labels=labels)
    return matrix, labels, f"out-of-fold predictions, {scoring.cv}-fold CV on {' '.join(scoring.data)}"
