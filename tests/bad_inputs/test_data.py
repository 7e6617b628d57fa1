"""--data, --cv and --scoring that cannot work with the notebook's data: one line, before any trial."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bad_inputs.harness import Case, check_refused, tune_cell

IRIS = "from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)"
TREE = "from sklearn.tree import DecisionTreeClassifier\nDecisionTreeClassifier(max_depth=tune.int(1, 3))"


def scored(flags: str, setup: str = IRIS, says: str = "") -> Case:
    return Case(tune_cell(f"--method random --trials 2 --storage memory --no-track {flags}", TREE), says, setup)


CASES = [
    scored("--data X y", "", "--data names X, y, which the notebook has not defined yet").param("data-undefined"),
    scored("--data X target", IRIS, "--data names target").param("target-undefined"),
    scored("--data X y", f"{IRIS}\ny = y[:-1]", "X has 150 rows but y has 149").param("lengths-differ"),
    scored(
        "--data X y", "import pandas as pd\nX, y = pd.DataFrame({'a': range(10)}), pd.Series(range(9))", "has 9"
    ).param("pandas-lengths-differ"),
    scored("--data X y --cv 10", "X, y = [[0.0]] * 5, [0, 1, 0, 1, 0]", "--cv 10: X has 5 rows").param(
        "fewer-rows-than-folds"
    ),
    scored("--data X y", "X, y = [[0.0]], [1]", "cross-validation needs at least 2 rows").param("one-row"),
    scored("--data X y", "import numpy as np\nX, y = np.zeros((0, 3)), np.zeros(0)", "X has 0 rows").param("no-rows"),
    scored("--data X y", "X, y = 5, [0, 1]", "--data: X is a int, not rows of samples").param("x-a-number"),
    scored("--data X y", "X, y = None, [0, 1]", "X is a NoneType").param("x-none"),
    scored("--data X y", "X, y = [[0.0]] * 4, 'abab'", "").param("y-a-string"),
    scored(
        "--data X y --cv 5", "X, y = [[0.0]] * 6, ['a', 'b', 'c', 'd', 'e', 'e']", "every class of y has fewer than 5"
    ).param("classes-smaller-than-folds"),
    scored("--data X y --scoring accurracy", IRIS, "did you mean 'accuracy'").param("scoring-typo"),
    scored("--data X y --scoring Accuracy", IRIS, "--scoring 'Accuracy' is not a scikit-learn scorer").param(
        "scoring-capitalised"
    ),
    scored("--data X y --scoring mse", IRIS, "--scoring 'mse' is not a scikit-learn scorer").param("scoring-mse"),
    scored("--scoring accuracy", IRIS, "--scoring accuracy goes with --data X y").param("scoring-without-data"),
    scored("--data X y --nested 3 --scoring nonsense", IRIS, "--scoring 'nonsense'").param("nested-scoring"),
    scored("--data X y --cv 2 --nested 5", "X, y = [[0.0]] * 4, [0, 1, 0, 1]", "--nested 5").param(
        "nested-more-folds-than-rows"
    ),
    scored("--data X y --compare random,tpe --scoring nonsense", IRIS, "--scoring 'nonsense'").param("compare-scoring"),
]


@pytest.mark.parametrize("case", CASES)
def test_data_that_cannot_be_scored_is_one_line_and_nothing_runs(ip: Any, trackio_dir: Any, case: Case) -> None:
    check_refused(ip, case)
