"""%automl / ipytune.automl: a tuned search per family, a leaderboard over a dummy floor, a recommendation."""

from __future__ import annotations

import time

import numpy as np
import pytest
from IPython.core.error import UsageError

from tests.conftest import run

SETUP = """\
from sklearn.datasets import load_breast_cancer
X, y = load_breast_cancer(return_X_y=True)
X, y = X[:150], y[:150]
"""


def test_leaderboard_has_every_family_over_the_dummy_floor(ip: object) -> None:
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    run(ip, SETUP)
    result = run(ip, "%automl --data X y --trials 2 --cv 3 --seed 0 --storage memory --quiet")
    board = result.leaderboard  # type: ignore[attr-defined]
    assert board["family"].tolist()[0] == "dummy"
    assert board["model"][0].startswith("DummyClassifier")
    assert set(board["family"][1:]) == {"logistic", "knn", "svm", "random_forest", "gradient_boosting", "extra_trees"}
    assert (board["trials"][1:] == 2).all()
    assert board["best CV"][1:].is_monotonic_decreasing
    assert (board["best CV"][1:] > board["best CV"][0]).all()  # every tuned model beats predicting the majority
    assert result.task == "classification"  # type: ignore[attr-defined]
    winner = result.winner  # type: ignore[attr-defined]
    assert winner == board["family"][1]
    # the winner's leaderboard score is its cross-validated score, reproducible from the returned pipeline
    X, y = ip.user_ns["X"], ip.user_ns["y"]  # type: ignore[attr-defined]
    estimator = result.best_estimator  # type: ignore[attr-defined]
    rescored = cross_val_score(clone(estimator), X, y, cv=3).mean()
    assert rescored == pytest.approx(board["best CV"][1])
    assert estimator.predict(X[:5]).shape == (5,)  # refitted on all the data
    text = str(result)
    assert "recommendation:" in text
    assert "DummyClassifier" in text
    assert "<table" in result._repr_html_()  # type: ignore[attr-defined]
    # every family is its own study, named under one prefix
    names = {s.study.study_name for s in result.searches.values()}  # type: ignore[attr-defined]
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1


def _xor(n: int = 160) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_recommendation_fires_when_logistic_is_within_tolerance() -> None:
    from ipytune import automl

    X, y = _xor()
    generous = automl(X, y, families=["logistic", "knn"], trials=3, cv=3, tolerance=1.0, storage="memory")
    assert generous.winner == "knn"
    assert generous.recommended == "logistic"
    assert generous.recommendation.startswith("recommend LogisticRegression")
    strict = automl(X, y, families=["logistic", "knn"], trials=3, cv=3, tolerance=0.01, storage="memory")
    assert strict.recommended == "knn"  # on XOR a linear model is far behind: the complexity pays
    assert "more than the tolerance of 0.01" in strict.recommendation
    refitted = strict.refit("logistic")  # the simple model is still at hand, fitted on all the data
    assert refitted.predict(X[:3]).shape == (3,)


def test_regression_is_detected() -> None:
    from sklearn.datasets import make_regression

    from ipytune import automl

    X, y = make_regression(n_samples=80, n_features=5, noise=10.0, random_state=0)
    result = automl(X, y, families=["linear", "knn"], trials=2, cv=3, storage="memory")
    assert result.task == "regression"
    assert result.scoring == "r2"
    assert result.leaderboard["model"][0].startswith("DummyRegressor")
    assert result.winner == "linear"
    assert "Ridge" in result.recommendation


def test_nested_estimates_the_whole_procedure() -> None:
    from ipytune import automl

    X, y = _xor(120)
    result = automl(X, y, families=["logistic", "knn"], trials=2, cv=3, nested=2, storage="memory")
    nested = result.nested
    assert len(nested.outer_scores) == 2
    assert set(nested.winners) <= {"logistic", "knn"}
    assert "outer" in str(result)


def test_timeout_is_shared_by_the_families() -> None:
    from ipytune import automl

    X, y = _xor(100)
    started = time.monotonic()
    result = automl(X, y, families=["logistic", "knn"], timeout=2.0, cv=3, storage="memory")
    assert time.monotonic() - started < 20
    assert all(len(s.study.trials) >= 1 for s in result.searches.values())


@pytest.mark.parametrize(
    ("setup", "line", "message"),
    [
        ("", "%automl --trials 1", "needs --data X y"),
        ("", "%automl --data X y --families logistic,boosted_stumps --trials 1", "unknown classification family"),
        ("y = np.array(['cat', 'dog'] * 50)", "%automl --data X y --task regression --trials 1", "numeric target"),
        ("y = np.linspace(0, 1, 100)", "%automl --data X y --task classification --trials 1", "looks continuous"),
        ("y = np.r_[np.nan, np.ones(99)]", "%automl --data X y --trials 1", "missing values"),
        ("X = pd.DataFrame({'a': ['x'] * 100})", "%automl --data X y --trials 1", "non-numeric columns"),
        ("y = y[:50]", "%automl --data X y --trials 1", "same rows"),
        ("", "%automl --data X yy --trials 1", "yy"),
    ],
)
def test_bad_input_is_one_usage_error(ip: object, setup: str, line: str, message: str) -> None:
    run(
        ip,
        "import numpy as np, pandas as pd\nX = np.random.default_rng(0).normal(size=(100, 3))\ny = np.arange(100) % 2",
    )
    if setup:
        run(ip, setup)
    with pytest.raises(UsageError, match=message):
        run(ip, line + " --storage memory --quiet")


def test_every_family_is_tracked_in_one_project(ip: object, trackio_dir: object) -> None:
    import ipytune

    run(ip, SETUP)
    run(ip, "%automl --data X y --families logistic,knn --trials 2 --cv 3 --study zoo --storage memory --quiet")
    table = ipytune.runs("zoo")
    assert len(table) == 4
    assert sorted(set(table["group"])) == ["zoo-knn", "zoo-logistic"]
    empty = run(
        ip, "%automl --data X y --families logistic --trials 1 --cv 3 --study quiet --no-track --storage memory --quiet"
    )
    assert empty.winner == "logistic"  # type: ignore[attr-defined]
    assert "quiet" not in ipytune.tracking.runs.projects()


def test_grid_method_searches_a_grid_of_about_the_budget() -> None:
    from ipytune import automl

    X, y = _xor(90)
    result = automl(X, y, families=["logistic", "knn"], method="grid", trials=4, cv=3, storage="memory")
    assert all(len(s.study.trials) <= 4 for s in result.searches.values())
    assert any("grid" in note and "budget of 4" in note for note in result.notes)
