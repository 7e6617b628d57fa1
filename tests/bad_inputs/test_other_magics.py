"""%automl, %seed_everything, %%repro, %trackio_show, %compare_runs and tune.* outside a search, misused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bad_inputs.harness import SECRET, Case, check_refused

IRIS = "from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)"
REPRO = "%%repro --runs 2"


def automl(flags: str, says: str, setup: str = IRIS) -> Case:
    return Case(f"%automl --trials 1 --no-track --quiet --storage memory {flags}", says, setup)


AUTOML = [
    Case("%automl --trials 1", "%automl needs --data X y").param("automl-no-data"),
    Case("%automl X y", "unrecognized arguments: X y", IRIS).param("automl-names-without-flag"),
    automl("--data X y", "--data names X, y", "").param("automl-undefined"),
    automl("--data X y --task clustering", "invalid choice: 'clustering'").param("automl-task"),
    automl("--data X y --families forest,svm9", "svm9").param("automl-unknown-family"),
    automl("--data X y --families ,", "--families").param("automl-families-empty"),
    automl("--data X y --families linear,linear", "linear").param("automl-family-twice"),
    automl("--data X y --trials 0", "--trials 0").param("automl-trials-zero"),
    automl("--data X y --timeout 0", "--timeout 0").param("automl-timeout-zero"),
    automl("--data X y --timeout -3", "--timeout -3").param("automl-timeout-negative"),
    automl("--data X y --cv 1", "--cv 1").param("automl-cv-1"),
    automl("--data X y --nested 1", "--nested 1").param("automl-nested-1"),
    automl("--data X y --seed -1", "--seed -1").param("automl-seed-negative"),
    automl("--data X y --method annealing", "invalid choice: 'annealing'").param("automl-method"),
    automl("--data X y --tolerance -0.1", "--tolerance -0.1").param("automl-tolerance-negative"),
    automl("--data X y --scoring nonsense", "--scoring 'nonsense'").param("automl-scoring"),
    automl("--data X y", "X has 0 rows", "import numpy as np\nX, y = np.zeros((0, 3)), np.zeros(0)").param(
        "automl-empty"
    ),
    automl("--data X y", "X has 150 rows but y has 149", f"{IRIS}\ny = y[:-1]").param("automl-lengths-differ"),
    automl("--data X y --cv 5", "fewer than --cv 5", "import numpy as np\nX, y = np.zeros((3, 3)), np.arange(3)").param(
        "automl-fewer-rows-than-folds"
    ),
    automl("--data X y --project '!!!'", "--project").param("automl-project"),
    automl("--data X y --storage nosuch://x", "--storage").param("automl-storage"),
    automl(f"--data X y --storage postgresql://me:{SECRET}@127.0.0.1:1/db", "--storage").param(
        "automl-storage-password"
    ),
    automl("--data X y --nested 200", "--nested 200").param("automl-nested-more-folds-than-rows"),
    automl("--data X y --trials 'two", "No closing quotation").param("automl-unclosed-quote"),
]

SEEDING = [
    Case("%seed_everything -1", "seed -1 is out of range").param("seed-negative"),
    Case("%seed_everything abc", "seed 'abc' is not an integer").param("seed-word"),
    Case("%seed_everything 4294967296", "is out of range").param("seed-too-big"),
    Case("%seed_everything 1.5", "seed '1.5' is not an integer").param("seed-fraction"),
    Case("%seed_everything 1 2", "unrecognized arguments: 2").param("seed-two"),
    Case("%seed_everything --bogus", "unrecognized arguments: --bogus").param("seed-unknown-flag"),
    Case("%seed_everything 'forty", "No closing quotation").param("seed-unclosed-quote"),
    Case(f"{REPRO.replace('2', '1')}\nran.append(1)\n1", "--runs 1: comparing needs at least 2").param("repro-one-run"),
    Case("%%repro --runs 0\nran.append(1)\n1", "--runs 0").param("repro-zero-runs"),
    Case("%%repro --runs x\nran.append(1)\n1", "invalid int value: 'x'").param("repro-runs-word"),
    Case(f"{REPRO} --atol -1\nran.append(1)\n1", "--atol -1: give a tolerance of 0 or more").param("repro-atol"),
    Case(f"{REPRO} --seed abc\nran.append(1)\n1", "--seed 'abc' is not an integer").param("repro-seed-word"),
    Case(f"{REPRO} --seed -5\nran.append(1)\n1", "--seed -5 is out of range").param("repro-seed-negative"),
    Case(f"{REPRO}\nran.append(1)\nloss = 1", "%%repro compares the cell's last expression").param(
        "repro-no-expression"
    ),
    Case(f"{REPRO}\nran.append(1)\nloss = (1", "the cell does not parse").param("repro-syntax-error"),
]

TRACKING = [
    Case("%trackio_show --port 99999", "--port 99999").param("show-port-too-big"),
    Case("%trackio_show --port 80", "--port 80").param("show-port-privileged"),
    Case("%trackio_show --port -1", "--port -1").param("show-port-negative"),
    Case("%trackio_show --port web", "invalid int value: 'web'").param("show-port-word"),
    Case("%trackio_show --public", "unrecognized arguments: --public").param("show-public"),
    # "needs a project name" in a fresh session, "no trackio project" after a search tracked elsewhere
    Case("%compare_runs", "project").param("compare-no-project"),
    Case("%compare_runs a b", "unrecognized arguments: b").param("compare-two-projects"),
    Case("%compare_runs --sort", "--sort: expected one argument").param("compare-sort-no-column"),
    Case("%compare_runs nosuch", "no trackio project 'nosuch'").param("compare-unknown-project"),
    Case("%compare_runs --tags", "--tags: expected one argument").param("compare-tags-no-value"),
]

OUTSIDE = [
    Case("ran.append(tune.int(1, 3))", "tune.int(...) has a value only inside a %%tune cell").param("int-outside"),
    Case("x = tune.int(1, 3)", "has a value only inside a %%tune cell").param("int-assigned-outside"),
    Case("ran.append(tune.float(0, 1, name='lr'))", "tune.float('lr') has a value only inside").param("float-outside"),
    Case("ran.append(tune.choice(['a'], name='c'))", "has a value only inside").param("choice-outside"),
    Case("tune.report('high', 0)\nran.append(1)", "tune.report(value, step) takes a number").param("report-text"),
    Case("tune.report(0.5, 'one')\nran.append(1)", "an integer step").param("report-text-step"),
    Case("tune.report(0.5, 1.5)\nran.append(1)", "an integer step").param("report-fractional-step"),
    Case("tune.log('accuracy')\nran.append(1)", "tune.log").param("log-not-a-dict"),
    Case("tune.log({'acc': 1}, step='one')\nran.append(1)", "step is a whole number").param("log-text-step"),
    Case("tune.log({1: 0.5})\nran.append(1)", "tune.log").param("log-number-key"),
    Case("with tune.track(project=''):\n    ran.append(1)", "needs a project name").param("track-empty-project"),
    Case("with tune.track(config='lr=0.1'):\n    ran.append(1)", "takes a dict, not str").param("track-text-config"),
    Case("tune.log({'acc': 1}, step=-1)\nran.append(1)", "step is a whole number").param("log-negative-step"),
    Case("with tune.track(project='p', tags=[1]):\n    ran.append(1)", "tags are strings").param("track-number-tag"),
    Case("with tune.track(project='p', notes=3):\n    ran.append(1)", "takes a string, not int").param(
        "track-number-notes"
    ),
    Case("tune.log_artifact('missing.bin')\nran.append(1)", "no such file or folder").param("artifact-missing-file"),
    Case("tune.log_artifact(1, name='')\nran.append(1)", "a name is a non-empty string").param("artifact-empty-name"),
    Case("tune.log_image({'a': 1})\nran.append(1)", "tune.log_image takes an array").param("image-a-dict"),
    Case("tune.log_image('missing.png')\nran.append(1)", "no such file").param("image-missing-file"),
    Case("tune.log_image([[0.5]], name='_x')\nran.append(1)", "tune.log_image(..., name='_x')").param(
        "image-private-name"
    ),
    Case("__import__('ipytune').load_model('nosuch')\nran.append(1)", "has no saved model").param("load-no-model"),
]


@pytest.mark.parametrize("case", AUTOML + SEEDING + TRACKING + OUTSIDE)
def test_other_magics_and_tune_outside_a_search_misused_are_one_line(ip: Any, trackio_dir: Any, case: Case) -> None:
    check_refused(ip, case)
