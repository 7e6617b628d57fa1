"""Errors of ipytune's own cross-validation (``--data``, ``--cv``, ``--scoring``) are one line in the user's terms.

What scikit-learn would raise in every trial is checked before the first one, as the ``--data``
names are (issue 10, item 6); an estimator that raises inside a trial is shown as its own error
with the trial's parameters, never as ipytune's and scikit-learn's frames.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from tests.conftest import run

SETUP = """
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.tree import DecisionTreeClassifier

calls = []  # every run of a cell and every fit appends here

class Picky(RegressorMixin, BaseEstimator):
    def __init__(self, k=1):
        self.k = k
    def fit(self, X, y):
        calls.append(('fit', self.k))
        if self.k == 3:
            raise ValueError(f'k={self.k} is not allowed')
        self.mean_ = float(np.mean(y))
        return self
    def predict(self, X):
        return np.full(len(X), self.mean_)

class Counting(DecisionTreeClassifier):
    def fit(self, X, y, **kwargs):
        calls.append(('fit', self.max_depth))
        return super().fit(X, y, **kwargs)

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 3))
y = X[:, 0] + rng.normal(size=30) * 0.1
labels = np.array(['a', 'b', 'c'] * 10)
X10, few = np.zeros((10, 2)), np.array(['a', 'b'] * 5)
X20, digits = rng.normal(size=(20, 2)), np.arange(20) % 10
"""
LINE = "%%tune --method random --trials 3 --seed 0 --storage memory --quiet"


@pytest.fixture
def nb(ip: Any) -> Any:
    run(ip, SETUP)
    return ip


def one_line(ip: Any, capsys: pytest.CaptureFixture[str], cell: str) -> str:
    """Run ``cell``; it must fail with a UsageError that is all that is shown, on one line."""
    capsys.readouterr()
    outcome = ip.run_cell(cell)
    error = outcome.error_in_exec
    assert isinstance(error, UsageError), error
    message = str(error)
    assert "\n" not in message
    shown = capsys.readouterr()
    assert "Traceback" not in shown.out + shown.err
    assert [line for line in (shown.out + shown.err).splitlines() if line.strip()] == [f"UsageError: {message}"]
    return message


# -- checked before the first trial: nothing runs -------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "estimator", "message"),
    [
        (
            "--data X y --scoring nonsense",
            "Picky(k=tune.int(1, 5))",
            "--scoring 'nonsense' is not a scikit-learn scorer: e.g. 'accuracy'",
        ),
        (
            "--data X y --scoring neg_mean_squard_error",
            "Picky(k=tune.int(1, 5))",
            "did you mean 'neg_mean_squared_error'",
        ),
        (
            "--data X y --cv 31",
            "Picky(k=tune.int(1, 5))",
            "--cv 31: X has 30 rows, fewer than 31 folds: pass --cv 30 or fewer.",
        ),
        ("--data X short", "Picky(k=tune.int(1, 5))", "--data X short: X has 30 rows but short has 20: pass features"),
        (
            "--data X10 few --cv 6",
            "Counting(max_depth=tune.int(1, 5))",
            "--cv 6: every class of few has fewer than 6 rows (the largest has 5), and a classifier's folds are "
            "stratified (each holds rows of every class): pass --cv 5 or fewer.",
        ),
        ("--data nothing y", "Picky(k=tune.int(1, 5))", "--data: nothing is a int, not rows of samples"),
    ],
)
def test_what_fails_every_trial_is_one_line_before_the_first(nb, capsys, options, estimator, message):
    nb.user_ns.update(short=nb.user_ns["y"][:20], nothing=3)
    shown = one_line(nb, capsys, f"{LINE} {options}\ncalls.append('cell')\n{estimator}")
    assert message in shown
    assert nb.user_ns["calls"] == []  # not one trial ran


def test_a_regressor_on_integer_targets_is_not_taken_for_a_classifier(nb):
    """Integer targets with few rows per value: only a classifier's folds are stratified (checked in the trial)."""
    result = run(nb, f"{LINE} --data X20 digits --cv 3 --no-refit\nPicky(k=tune.choice([1, 2]))")
    assert result.best_trial is not None


def test_a_classifier_whose_folds_cannot_be_stratified_is_one_line_before_any_fit(nb, capsys):
    message = one_line(nb, capsys, f"{LINE} --data X20 digits --cv 3\nCounting(max_depth=tune.int(1, 5))")
    assert message.startswith("--cv 3: every class of digits has fewer than 3 rows (the largest has 2)")
    assert [c for c in nb.user_ns["calls"] if c[0] == "fit"] == []


# -- raised in a trial: the estimator's own error and the parameters that caused it ----------------------
def test_a_classifier_on_continuous_targets_is_the_estimators_own_error(nb, capsys):
    """Continuous targets are not split by class (scikit-learn's folds are then plain K-fold)."""
    message = one_line(nb, capsys, f"{LINE} --data X y --cv 11\nCounting(max_depth=tune.int(1, 5))")
    assert "Counting.fit raised ValueError: Unknown label type: continuous" in message
    assert "every class" not in message


def test_an_estimator_that_fails_every_fit_is_its_own_error_and_the_parameters(nb, capsys):
    message = one_line(nb, capsys, f"{LINE} --data X labels\nDecisionTreeClassifier(max_depth=tune.int(-5, -1))")
    assert message.startswith("trial 0 with max_depth=-")
    assert (
        "DecisionTreeClassifier raised InvalidParameterError: The 'max_depth' parameter of DecisionTreeClassifier "
        "must be an int in the range [1, inf) or None. Got -"
    ) in message  # the estimator's words, not cross_val_score's
    assert (
        "no trial has fitted yet: fix the estimator or --data X labels (--catch only helps if other values fit)"
        in message
    )
    assert "Add --catch" not in message
    assert "All the" not in message  # scikit-learn's "All the 5 fits failed" and its tracebacks


def test_an_estimator_that_fails_for_some_values_stops_with_them_and_suggests_catch(nb, capsys):
    message = one_line(
        nb,
        capsys,
        "%%tune --method grid --seed 0 --study picky --storage memory --quiet --data X y\nPicky(k=tune.int(1, 5))",
    )
    fitted = sum(1 for c in nb.user_ns["calls"] if c[0] == "fit" and c[1] != 3) // 5
    assert message.startswith("trial ")
    assert " with k=3: Picky.fit raised ValueError: k=3 is not allowed (in fit, " in message  # the user's own code
    assert f"; {fitted} trials fitted with other values (kept in study 'picky'): add --catch to record" in message
    assert fitted >= 1


def test_with_catch_a_failing_fit_is_a_failed_trial_with_the_estimators_error(nb):
    result = run(
        nb,
        "%%tune --method grid --seed 0 --catch --storage memory --quiet --no-refit --data X y\nPicky(k=tune.int(1, 5))",
    )
    failed = result.trials[result.trials["state"] == "FAIL"]
    assert failed["k"].tolist() == [3]
    assert failed["fail_reason"].iloc[0].startswith("Picky.fit raised ValueError: k=3 is not allowed (in fit, ")
    assert (result.trials["state"] == "COMPLETE").sum() == 4


# -- a user's cell error: --catch is suggested only where it can help ------------------------------------
@pytest.mark.parametrize(("fails_at", "advice"), [(1, "No trial has finished: fix the cell"), (3, "Add --catch")])
def test_the_catch_advice_depends_on_whether_any_trial_finished(nb, fails_at, advice):
    cell = (
        f"{LINE}\nx = tune.int(1, 100)\ncalls.append(x)\nif len(calls) == {fails_at}:\n    raise ValueError('bad')\nx"
    )
    outcome = nb.run_cell(cell)
    assert isinstance(outcome.error_in_exec, UsageError)
    assert advice in str(outcome.error_in_exec)
    assert ("Add --catch" in str(outcome.error_in_exec)) == (fails_at > 1)
