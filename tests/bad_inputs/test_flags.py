"""%%tune flags a confused user might type: each one line, before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bad_inputs.harness import Case, check_refused, tune_cell

DATA = "X, y = [[0.0], [1.0]] * 10, [0, 1] * 10"
ESTIMATOR = "from sklearn.tree import DecisionTreeClassifier\nDecisionTreeClassifier(max_depth=tune.int(1, 3))"

CASES = [
    Case(tune_cell("--trials 0"), "--trials 0: run at least 1 trial").param("trials-zero"),
    Case(tune_cell("--trials -5"), "--trials -5").param("trials-negative"),
    Case(tune_cell("--trials ten"), "invalid int value: 'ten'").param("trials-word"),
    Case(tune_cell("--trials 2.5"), "invalid int value: '2.5'").param("trials-fraction"),
    Case(tune_cell("--trials"), "--trials: expected one argument").param("trials-no-value"),
    Case(tune_cell("--timeout 0"), "--timeout 0: give a positive number").param("timeout-zero"),
    Case(tune_cell("--timeout -1"), "--timeout -1").param("timeout-negative"),
    Case(tune_cell("--timeout soon"), "invalid float value: 'soon'").param("timeout-word"),
    Case(tune_cell("--timeout 10s"), "invalid float value: '10s'").param("timeout-unit"),
    Case(tune_cell("--method annealing"), "invalid choice: 'annealing'").param("method-unknown"),
    Case(tune_cell("--method GRID"), "invalid choice: 'GRID'").param("method-upper-case"),
    Case(tune_cell("--method bayes"), "invalid choice: 'bayes'").param("method-bayes"),
    Case(tune_cell("--method"), "--method: expected one argument").param("method-no-value"),
    Case(tune_cell("--prune always"), "invalid choice: 'always'").param("prune-unknown"),
    Case(tune_cell("--seed -1"), "--seed -1 is out of range").param("seed-negative"),
    Case(tune_cell("--seed 4294967296"), "--seed 4294967296 is out of range").param("seed-too-big"),
    Case(tune_cell("--seed abc"), "invalid int value: 'abc'").param("seed-word"),
    Case(tune_cell("--seeds 1,x"), "'x' is not a seed").param("seeds-word"),
    Case(tune_cell("--seeds 1,,2"), "an empty item is not a seed").param("seeds-empty-item"),
    Case(tune_cell("--seeds 7,7"), "lists seed 7 twice").param("seeds-twice"),
    Case(tune_cell("--seeds -3"), "'-3' is not a seed").param("seeds-negative"),
    Case(tune_cell("--deterministic"), "--deterministic goes with --seed").param("deterministic-alone"),
    Case(tune_cell("--cv 1 --data X y", ESTIMATOR), "--cv 1: cross-validation needs at least 2", DATA).param("cv-1"),
    Case(tune_cell("--cv 0"), "--cv 0").param("cv-zero"),
    Case(tune_cell("--cv -3"), "--cv -3").param("cv-negative"),
    Case(tune_cell("--cv five"), "invalid int value: 'five'").param("cv-word"),
    Case(tune_cell("--data X", ESTIMATOR), "--data: expected 2 arguments", DATA).param("data-one-name"),
    Case(tune_cell("--data X y z", ESTIMATOR), "unrecognized arguments: z", DATA).param("data-three-names"),
    Case(tune_cell("--data X,y", ESTIMATOR), "--data: expected 2 arguments", DATA).param("data-comma"),
    Case(tune_cell("--data 1X y", ESTIMATOR), "--data '1X': give the names of two variables", DATA).param(
        "data-not-a-name"
    ),
    Case(tune_cell("--data X[0] y", ESTIMATOR), "--data 'X[0]'", DATA).param("data-expression"),
    Case(tune_cell("--nested 1 --data X y", ESTIMATOR), "--nested 1: the outer loop needs at least 2", DATA).param(
        "nested-1"
    ),
    Case(tune_cell("--nested 3", ESTIMATOR), "--nested needs --data X y", DATA).param("nested-without-data"),
    Case(
        tune_cell("--nested 3 --compare random,tpe --data X y", ESTIMATOR),
        "--nested and --compare do not combine",
        DATA,
    ).param("nested-with-compare"),
    Case(tune_cell("--tags ,"), "--tags ',': give at least one tag").param("tags-empty"),
    Case(tune_cell("--tags"), "--tags: expected one argument").param("tags-no-value"),
    Case(tune_cell('--notes ""'), "--notes needs some text").param("notes-empty"),
    Case(tune_cell("--compare annealing"), "--compare 'annealing': give methods from").param("compare-unknown"),
    Case(tune_cell("--compare random,random"), "names a method twice").param("compare-twice"),
    Case(tune_cell("--compare ,"), "--compare ','").param("compare-empty"),
    Case(tune_cell("--compare random;tpe"), "--compare 'random;tpe'").param("compare-semicolon"),
    Case(tune_cell("--compare random,tpe --repeats 0"), "--repeats 0: run at least 1").param("repeats-zero"),
    Case(tune_cell("--repeats 3"), "--repeats goes with --compare").param("repeats-without-compare"),
    Case(tune_cell("--n-jobs 0"), "--n-jobs 0: give a number of workers").param("n-jobs-zero"),
    Case(tune_cell("--threads"), "--threads goes with --n-jobs").param("threads-without-n-jobs"),
    Case(tune_cell("--n-jobs 2 --storage memory"), "memory").param("n-jobs-with-memory"),
    Case(tune_cell("--n-jobs 2 --compare random,tpe"), "--n-jobs does not combine with --compare").param(
        "n-jobs-with-compare"
    ),
    Case(tune_cell("--cluster tcp://127.0.0.1:1 --n-jobs 2"), "--cluster and --n-jobs do not combine").param(
        "cluster-with-n-jobs"
    ),
    Case(tune_cell("--cluster tcp://127.0.0.1:1 --compare random,tpe"), "--cluster runs one search").param(
        "cluster-with-compare"
    ),
    Case(tune_cell("--cluster tcp://127.0.0.1:1 --storage memory"), "--cluster").param("cluster-with-memory"),
    Case(tune_cell("--cluster tcp://127.0.0.1:1"), "--cluster").param("cluster-with-default-journal"),
    Case(tune_cell("--maximize --minimize"), "--maximize and --minimize together").param("both-directions"),
    Case(tune_cell("--minimize --trials 2 --maximize"), "--maximize and --minimize together").param(
        "both-directions-apart"
    ),
    Case(tune_cell("--minimise"), "unrecognized arguments: --minimise").param("british-minimise"),
    Case(tune_cell("--project '!!!'"), "give a name with letters, digits").param("project-punctuation"),
    Case(tune_cell("--project registry-models"), "not starting with 'registry-'").param("project-registry"),
    Case(tune_cell("--metric-name state"), "--metric-name 'state': choose another name").param("metric-reserved"),
    Case(tune_cell("--metric-name _loss"), "--metric-name '_loss'").param("metric-underscore"),
    Case(tune_cell("--bogus"), "unrecognized arguments: --bogus").param("unknown-flag"),
    Case(tune_cell("20"), "unrecognized arguments: 20").param("bare-number"),
    Case(tune_cell("-n 20"), "unrecognized arguments: -n 20").param("short-flag"),
    Case(tune_cell("--trials 5 trials"), "unrecognized arguments: trials").param("trailing-word"),
    Case(tune_cell("--study 'unclosed"), "No closing quotation").param("unclosed-quote"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_flag_is_one_line_and_nothing_runs(ip: Any, trackio_dir: Any, case: Case) -> None:
    check_refused(ip, case)


def test_a_bad_config_default_is_refused_before_anything_runs(ip: Any, trackio_dir: Any) -> None:
    ip.run_line_magic("config", "TuneMagics.default_method = 'annealing'")
    try:
        check_refused(ip, Case(tune_cell(""), "%config TuneMagics.default_method 'annealing' is not one of"))
    finally:
        ip.run_line_magic("config", "TuneMagics.default_method = 'tpe'")
