"""The model families of ``%automl``: each one a ``%%tune`` cell that ends with an unfitted estimator.

A cell reads ``X``, ``y``, ``SEED``, ``MAX_NEIGHBORS`` (the smallest CV training part
bounds k of a nearest-neighbour model) and ``SPARSE`` (scaling must not centre a sparse
matrix) from the namespace the search gives it. The ``simple`` family of each task is the
interpretable baseline the recommendation compares against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from IPython.core.error import UsageError


@dataclass(frozen=True)
class Family:
    """A model family: its search space as a ``%%tune`` cell that ends with an unfitted estimator."""

    name: str
    label: str
    source: str
    simple: bool = False  # the interpretable baseline the recommendation compares against


_SCALED = "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"


def _trees(estimator: str) -> str:
    """A random forest or extra-trees cell (the same space for classifiers and regressors)."""
    return (
        f"from sklearn.ensemble import {estimator}\n"
        f"{estimator}(\n"
        "    n_estimators=tune.int(50, 300, step=50), max_depth=tune.int(2, 20),\n"
        "    min_samples_leaf=tune.int(1, 10), max_features=tune.float(0.1, 1.0), random_state=SEED)\n"
    )


def _boosting(estimator: str) -> str:
    return (
        f"from sklearn.ensemble import {estimator}\n"
        f"{estimator}(\n"
        "    n_estimators=tune.int(50, 300, step=50), learning_rate=tune.float(0.01, 0.3, log=True),\n"
        "    max_depth=tune.int(1, 5), subsample=tune.float(0.5, 1.0), random_state=SEED)\n"
    )


CLASSIFIERS = (
    Family(
        "logistic",
        "LogisticRegression",
        _SCALED + "from sklearn.linear_model import LogisticRegression\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), LogisticRegression(C=tune.float(1e-3, 1e3, log=True), max_iter=2000))\n",
        simple=True,
    ),
    Family(
        "knn",
        "KNeighborsClassifier",
        _SCALED + "from sklearn.neighbors import KNeighborsClassifier\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), KNeighborsClassifier(\n"
        "    n_neighbors=tune.int(1, MAX_NEIGHBORS), weights=tune.choice(['uniform', 'distance'])))\n",
    ),
    Family(
        "svm",
        "SVC (RBF)",
        _SCALED + "from sklearn.svm import SVC\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), SVC(C=tune.float(1e-2, 1e3, log=True), gamma=tune.float(1e-4, 1.0, log=True)))\n",
    ),
    Family(
        "random_forest",
        "RandomForestClassifier",
        _trees("RandomForestClassifier"),
    ),
    Family(
        "gradient_boosting",
        "GradientBoostingClassifier",
        _boosting("GradientBoostingClassifier"),
    ),
    Family(
        "extra_trees",
        "ExtraTreesClassifier",
        _trees("ExtraTreesClassifier"),
    ),
)

REGRESSORS = (
    Family(
        "linear",
        "Ridge (linear)",
        _SCALED + "from sklearn.linear_model import Ridge\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), Ridge(alpha=tune.float(1e-3, 1e3, log=True)))\n",
        simple=True,
    ),
    Family(
        "knn",
        "KNeighborsRegressor",
        _SCALED + "from sklearn.neighbors import KNeighborsRegressor\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), KNeighborsRegressor(\n"
        "    n_neighbors=tune.int(1, MAX_NEIGHBORS), weights=tune.choice(['uniform', 'distance'])))\n",
    ),
    Family(
        "svm",
        "SVR (RBF)",
        _SCALED + "from sklearn.compose import TransformedTargetRegressor\nfrom sklearn.svm import SVR\n"
        "TransformedTargetRegressor(\n"
        "    make_pipeline(StandardScaler(with_mean=not SPARSE), SVR(C=tune.float(1e-2, 1e3, log=True),\n"
        "                  gamma=tune.float(1e-4, 1.0, log=True), epsilon=tune.float(0.01, 1.0, log=True))),\n"
        "    transformer=StandardScaler())\n",
    ),
    Family(
        "random_forest",
        "RandomForestRegressor",
        _trees("RandomForestRegressor"),
    ),
    Family(
        "gradient_boosting",
        "GradientBoostingRegressor",
        _boosting("GradientBoostingRegressor"),
    ),
    Family(
        "extra_trees",
        "ExtraTreesRegressor",
        _trees("ExtraTreesRegressor"),
    ),
)

FAMILIES = {"classification": CLASSIFIERS, "regression": REGRESSORS}


def choose_families(task: str, names: Sequence[str] | None) -> list[Family]:
    available = {f.name: f for f in FAMILIES[task]}
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(
            f"unknown {task} famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
            f"choose from {', '.join(available)}."
        )
    return [available[n] for n in names]
