"""Outer folds for an honest estimate (``--nested``, ``%automl --nested``): which rows each outer fold holds out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

GAP_MEANING = (
    "The gap is the optimism of picking the best of many noisy CV scores: the outer mean, measured on "
    "data no trial saw, is the estimate to report."
)


def take(data: Any, index: np.ndarray) -> Any:
    """Rows ``index`` of a DataFrame/Series, array, sparse matrix or list."""
    import numpy as np

    if hasattr(data, "iloc"):
        return data.iloc[index]
    if hasattr(data, "shape"):
        return data[index]
    return np.asarray(data)[index]


def outer_splitter(y: Any, folds: int, seed: int | None, classes: bool = True) -> tuple[Any, bool]:
    """Stratified folds for a class target (when every class has ``folds`` members), plain K-fold otherwise.

    ``classes=False`` says the target is a quantity even if it looks like labels.
    """
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.utils.multiclass import type_of_target

    random_state = 0 if seed is None else seed
    try:
        kind = type_of_target(y)
    except ValueError:
        kind = "unknown"
    if classes and kind in ("binary", "multiclass"):
        _, counts = np.unique(np.asarray(y), return_counts=True)
        if counts.min() >= folds:
            return StratifiedKFold(folds, shuffle=True, random_state=random_state), True
    return KFold(folds, shuffle=True, random_state=random_state), False
