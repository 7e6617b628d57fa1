"""Behaviours that no test failed for when they were broken (issue 10): each test here was seen failing
with its behaviour broken by hand (tests/README.md lists the breakages)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import get_scorer
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from tests.conftest import run

QUIET = "--storage memory --quiet --no-track"


def test_gp_minimizes_when_asked(ip):
    result = run(ip, f"%%tune --method gp --minimize --trials 10 --seed 0 {QUIET}\nx = tune.float(-5, 5)\n(x - 1) ** 2")
    guided = [t.value for t in result.study.trials[5:]]  # after the 5 random startup points: the GP's own choices
    assert sorted(guided)[len(guided) // 2] < 1.0  # most of them near x = 1 (maximising would go to x = -5: 36)
    assert abs(result.best_params["x"] - 1) < 0.5


IRIS = "from sklearn.datasets import load_iris\nfrom sklearn.tree import DecisionTreeClassifier\nX, y = load_iris(return_X_y=True)"
TREE = "DecisionTreeClassifier(max_depth=tune.int(1, 4), random_state=0)"


def test_scoring_scores_every_trial_of_tune(ip):
    run(ip, IRIS)
    result = run(
        ip, f"%%tune --method random --trials 3 --seed 0 --data X y --cv 3 --scoring neg_log_loss {QUIET}\n{TREE}"
    )
    X, y = ip.user_ns["X"], ip.user_ns["y"]
    for trial in result.study.trials:
        tree = DecisionTreeClassifier(max_depth=trial.params["max_depth"], random_state=0)
        assert trial.value == pytest.approx(cross_val_score(tree, X, y, cv=3, scoring="neg_log_loss").mean())
        assert trial.value < 0  # a log loss, not an accuracy


def test_scoring_scores_the_inner_searches_and_the_outer_folds_of_nested(ip):
    run(ip, IRIS)
    result = run(ip, f"%%tune --nested 3 --trials 2 --seed 0 --data X y --cv 3 --scoring neg_log_loss {QUIET}\n{TREE}")
    X, y = ip.user_ns["X"], ip.user_ns["y"]
    scorer = get_scorer("neg_log_loss")
    for fold in result.folds:
        assert fold.outer_score == pytest.approx(scorer(fold.estimator, X[fold.test_index], y[fold.test_index]))
        assert all(t.value < 0 for t in fold.search.study.trials)
    assert result.scoring == "neg_log_loss"


def _imbalanced(rows=90):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 3))
    y = (rng.random(rows) < 0.25).astype(int)
    return X, y


def test_scoring_scores_the_floor_and_every_family_of_automl():
    from ipytune import automl

    X, y = _imbalanced()
    result = automl(X, y, families=["logistic", "knn"], trials=2, cv=3, scoring="neg_log_loss", storage="memory")
    assert result.scoring == "neg_log_loss"
    floor = cross_val_score(__import__("sklearn.dummy").dummy.DummyClassifier(), X, y, cv=3, scoring="neg_log_loss")
    assert result.floor == pytest.approx(floor.mean())
    for search in result.searches.values():
        assert all(t.value < 0 for t in search.study.trials if t.value is not None)


SHUFFLED = """\
import numpy as np, pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
data = load_breast_cancer(as_frame=True)
X, y = data.data.iloc[:150], data.target.iloc[:150]
order = np.random.default_rng(0).permutation(150)
X, y = X.iloc[order], y.iloc[order]  # an index that is not 0..n-1: rows must be taken by position
X.index = y.index = [f"r{i}" for i in order]
seen = []
"""


def test_pandas_data_in_nested_is_split_by_position_and_scored_on_the_held_out_rows(ip):
    run(ip, SHUFFLED)
    cell = "seen.append(frozenset(X.index))\nLogisticRegression(C=tune.float(1e-2, 10.0, log=True), max_iter=3000)"
    result = run(ip, f"%%tune --nested 3 --trials 2 --seed 0 --data X y --cv 3 {QUIET}\n{cell}")
    X, y = ip.user_ns["X"], ip.user_ns["y"]
    trains = [set(X.index[fold.train_index]) for fold in result.folds]
    assert all(rows in trains for rows in ip.user_ns["seen"])  # every trial saw one fold's training rows
    assert all(train in ip.user_ns["seen"] for train in trains)
    for fold in result.folds:
        expected = fold.estimator.score(X.iloc[fold.test_index], y.iloc[fold.test_index])
        assert fold.outer_score == pytest.approx(expected)


def test_pandas_data_in_automl_with_nested_keeps_each_outer_fold_out_of_its_searches(monkeypatch):
    """A spy on what each whole family search gets (the real one runs): the first run sees every row,
    each outer fold's run only its training rows, and the held-out parts of the folds cover every row once."""
    from ipytune import automl
    from ipytune.honest import automl as automl_module

    X, y = _imbalanced(120)
    X = pd.DataFrame(X, columns=["a", "b", "c"], index=[f"r{i}" for i in range(120)][::-1])
    y = pd.Series(y, index=X.index)
    runs = []
    real = automl_module._FamilySearches.__call__

    def spy(self, X_part, y_part, prefix):
        assert list(X_part.index) == list(y_part.index)  # features and targets of the same rows
        runs.append(set(X_part.index))
        return real(self, X_part, y_part, prefix)

    monkeypatch.setattr(automl_module._FamilySearches, "__call__", spy)
    result = automl(X, y, families=["logistic"], trials=2, cv=3, nested=3, storage="memory")
    everything, *folds = runs
    assert everything == set(X.index)
    assert len(folds) == 3
    held_out = [everything - rows for rows in folds]
    assert all(held_out)
    assert sorted(len(h) for h in held_out) == [40, 40, 40]
    assert set().union(*held_out) == everything
    assert len(result.nested.outer_scores) == 3
    assert result.best_estimator.predict(X.iloc[:5]).shape == (5,)


def test_the_automl_timeout_is_shared_by_the_families_not_given_to_each():
    from ipytune import automl

    X, y = _imbalanced(100)
    result = automl(X, y, families=["logistic", "knn"], timeout=3.0, cv=3, storage="memory")
    trials = [t for s in result.searches.values() for t in s.study.trials if t.datetime_complete]
    assert {len(s.study.trials) > 0 for s in result.searches.values()} == {True}
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    assert (last - first).total_seconds() < 3.0 + 1.5  # each given 3 s would take about 6


def test_two_declarations_in_one_dict_take_their_keys_as_names(ip):
    result = run(
        ip,
        f"%%tune --method random --trials 3 --seed 0 {QUIET}\n"
        "p = {'lr': tune.float(0.1, 1.0), 'depth': tune.int(1, 4)}\np['lr'] * p['depth']",
    )
    assert set(result.best_params) == {"lr", "depth"}
    for trial in result.study.trials:
        assert trial.value == pytest.approx(trial.params["lr"] * trial.params["depth"])
