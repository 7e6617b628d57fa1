"""--nested K: an outer K-fold loop around the whole search; outer test rows never reach it."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError

from tests.conftest import run

SETUP = """\
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
X, y = load_breast_cancer(return_X_y=True)
X, y = X[:240], y[:240]
row_id = np.arange(len(X))
X = np.column_stack([row_id, X])  # column 0 says which rows a trial saw
seen = []
"""

CELL = """\
seen.append(frozenset(X[:, 0].astype(int).tolist()))
make_pipeline(StandardScaler(), LogisticRegression(C=tune.float(1e-3, 10.0, log=True), max_iter=300))
"""


def test_outer_test_rows_never_reach_the_search(ip: object) -> None:
    run(ip, SETUP)
    result = run(ip, f"%%tune --nested 3 --data X y --cv 3 --trials 4 --seed 0 --storage memory --quiet\n{CELL}")
    seen = ip.user_ns["seen"]  # type: ignore[attr-defined]
    folds = result.folds  # type: ignore[attr-defined]
    assert len(folds) == 3
    assert len(seen) == 3 * (4 + 1)  # every trial and each fold's refit ran the cell
    for fold in folds:
        train, test = set(fold.train_index.tolist()), set(fold.test_index.tolist())
        assert not train & test
        assert len(train | test) == 240
        runs = [s for s in seen if s == train]
        assert len(runs) == 5, "the fold's trials and refit saw exactly its training rows"
    for rows in seen:
        assert any(rows == set(f.train_index.tolist()) for f in folds)
        assert all(not rows & set(f.test_index.tolist()) for f in folds if rows == set(f.train_index.tolist()))
    # the notebook's X is untouched
    assert ip.user_ns["X"].shape[0] == 240  # type: ignore[attr-defined]


def test_outer_scores_are_scored_on_the_held_out_rows(ip: object) -> None:
    run(ip, SETUP)
    result = run(ip, f"%%tune --nested 3 --data X y --cv 3 --trials 3 --seed 1 --storage memory --quiet\n{CELL}")
    X, y = ip.user_ns["X"], ip.user_ns["y"]  # type: ignore[attr-defined]
    for fold in result.folds:  # type: ignore[attr-defined]
        expected = fold.estimator.score(X[fold.test_index], y[fold.test_index])
        assert fold.outer_score == pytest.approx(expected)
        assert fold.search.study.study_name.endswith(f"-fold{fold.index}")
        assert len(fold.search.study.trials) == 3
    scores = result.outer_scores  # type: ignore[attr-defined]
    assert result.mean == pytest.approx(np.mean(scores))  # type: ignore[attr-defined]
    assert result.std == pytest.approx(np.std(scores))  # type: ignore[attr-defined]
    assert result.gap == pytest.approx(result.inner_mean - result.mean)  # type: ignore[attr-defined]
    assert result.stratified  # type: ignore[attr-defined]
    prefixes = {f.search.study.study_name.rsplit("-fold", 1)[0] for f in result.folds}  # type: ignore[attr-defined]
    assert len(prefixes) == 1  # one group of studies
    text = str(result)
    assert "gap" in text
    assert "optimism" in text
    assert ip.user_ns["tune"].last is result  # type: ignore[attr-defined]
    assert "<table" in result._repr_html_()  # type: ignore[attr-defined]


def test_regression_target_uses_plain_kfold(ip: object) -> None:
    run(
        ip,
        "from sklearn.datasets import make_regression\nfrom sklearn.linear_model import Ridge\n"
        "X, y = make_regression(n_samples=90, n_features=4, noise=5.0, random_state=0)",
    )
    result = run(
        ip,
        "%%tune --nested 3 --data X y --cv 3 --trials 3 --storage memory --quiet\n"
        "Ridge(alpha=tune.float(0.01, 10.0, log=True))",
    )
    assert not result.stratified  # type: ignore[attr-defined]
    assert len(result.outer_scores) == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("--nested 3", "LogisticRegression(C=tune.float(0.1, 1.0))", "--nested needs --data"),
        ("--nested 1 --data X y", "LogisticRegression(C=tune.float(0.1, 1.0))", "at least 2"),
        ("--nested 3 --data X y", "c = tune.float(0.1, 1.0)\nc", "unfitted scikit-learn estimator"),
        ("--nested 3 --data X yy", "LogisticRegression(C=tune.float(0.1, 1.0))", "yy"),
    ],
)
def test_bad_nested_use_is_one_usage_error(ip: object, line: str, cell: str, message: str) -> None:
    run(ip, SETUP)
    with pytest.raises(UsageError, match=message):
        run(ip, f"%%tune {line} --trials 2 --storage memory --quiet\n{cell}")


def test_every_inner_search_is_tracked_in_one_project(ip: object, trackio_dir: object) -> None:
    import ipytune

    run(ip, SETUP)
    run(ip, f"%%tune --nested 2 --data X y --cv 3 --trials 2 --study honest --storage memory --quiet\n{CELL}")
    table = ipytune.runs("honest")
    assert len(table) == 2 * 2
    assert sorted(set(table["group"])) == ["honest-fold1", "honest-fold2"]
