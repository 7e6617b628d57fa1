"""What ``%automl`` checks of ``X`` and ``y`` before any search: shapes, missing values, encodings, the task."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

TASKS = ("classification", "regression")
MAX_CLASSES = 20  # an integer target with more distinct values than this is taken as a quantity


def detect_task(y: Any) -> str:
    """classification for labels and small sets of integers, regression for quantities."""
    import numpy as np
    from sklearn.utils.multiclass import type_of_target

    try:
        kind = type_of_target(y)
    except ValueError as error:
        raise UsageError(f"y cannot be used as a target: {error}") from None
    if kind == "continuous":
        return "regression"
    if kind in ("binary", "multiclass"):
        values = np.asarray(y)
        numeric = values.dtype.kind in "iuf"
        if numeric and len(np.unique(values)) > MAX_CLASSES:
            return "regression"
        return "classification"
    raise UsageError(f"y is a {kind} target; %automl handles one column of class labels or numbers: pass a 1-d y.")


def check_data(X: Any, y: Any, task: str | None, cv: int) -> str:
    """Validate ``X``/``y`` for ``task`` (detected when None) and return the task."""
    import numpy as np
    import pandas as pd

    if task is not None and task not in TASKS:
        raise UsageError(f"--task {task!r} is not one of {', '.join(TASKS)}.")
    rows = X.shape[0] if hasattr(X, "shape") else len(X)  # sparse matrices have no len()
    if rows < cv:
        raise UsageError(
            f"X has {rows} rows, fewer than --cv {cv} folds: %automl needs at least one row per fold "
            f"(and many more to learn anything)."
        )
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise UsageError(f"y has shape {values.shape}: %automl needs one target column.")
    if rows != len(values):
        raise UsageError(f"X has {rows} rows but y has {len(values)}: pass features and target of the same rows.")
    target = pd.Series(values)
    if target.isna().any():
        raise UsageError(f"y has {int(target.isna().sum())} missing values: drop those rows or fill them first.")
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame: name the columns to encode
        text = [str(c) for c in X.columns if X[c].dtype.kind not in "biuf"]
    elif hasattr(X, "dtype") and X.dtype.kind not in "biuf":
        text = [f"an array of dtype {X.dtype}"]
    elif not hasattr(X, "dtype"):
        kind = np.asarray(X).dtype.kind
        text = [] if kind in "biuf" else [f"values of dtype {np.asarray(X).dtype}"]
    else:
        text = []
    if text:
        raise UsageError(
            f"X has non-numeric columns ({', '.join(text[:5])}): encode them first "
            f"(e.g. a OneHotEncoder in a Pipeline, or pd.get_dummies)."
        )
    numeric_target = target.dtype.kind in "biuf"
    detected = detect_task(target.to_numpy())
    if task == "regression" and not numeric_target:
        example = target.iloc[0]
        raise UsageError(
            f"--task regression needs a numeric target, but y holds labels (e.g. {example!r}): "
            f"use --task classification, or encode y as numbers."
        )
    if task == "classification" and detected == "regression" and target.dtype.kind == "f":
        raise UsageError(
            f"--task classification, but y looks continuous ({target.nunique()} distinct values): "
            f"use --task regression, or bin y into classes."
        )
    task = task or detected
    if task == "classification":
        counts = target.value_counts()
        if counts.min() < cv:
            raise UsageError(
                f"class {counts.idxmin()!r} has {counts.min()} rows, fewer than --cv {cv} folds: "
                f"lower --cv or collect more rows of that class."
            )
    return task
