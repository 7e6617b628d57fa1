"""%%tune cells that cannot be an objective: one line before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bad_inputs.harness import Case, check_refused

FLAGS = "%%tune --method random --trials 3 --storage memory"

CASES = [
    Case(f"{FLAGS}\nran.append(1)\nscore = tune.int(1, 3) * 2", "the cell's last line must be an expression").param(
        "ends-with-an-assignment"
    ),
    Case(f"{FLAGS}\nran.append(1)\nx = tune.int(1, 3)\nprint(x)\nscore = x", "must be an expression").param(
        "ends-with-score-assigned"
    ),
    Case(f"{FLAGS}\nran.append(1)\nfor i in range(tune.int(1, 3)):\n    pass", "must be an expression").param(
        "ends-with-a-loop"
    ),
    Case(f"{FLAGS}\nran.append(1)\nimport math", "must be an expression").param("ends-with-an-import"),
    Case(f"{FLAGS}\nran.append(1)\ndef f():\n    return tune.int(1, 3)", "must be an expression").param(
        "ends-with-a-def"
    ),
    Case(f"{FLAGS}\nran.append(1)\nx = tune.int(1, 3)\ndel x", "must be an expression").param("ends-with-del"),
    Case(f"{FLAGS}\nran.append(1)\nx = tune.int(1, 3)\nassert x", "must be an expression").param("ends-with-assert"),
    Case(f"{FLAGS}\n", "the cell body is empty").param("empty-cell"),
    Case(f"{FLAGS}\n# tune.int(1, 3)\n", "must be an expression").param("only-a-comment"),
    Case(f"{FLAGS}\nran.append(1)\nx = tune.int(1, 3\nx", "the cell does not parse").param("unclosed-bracket"),
    Case(f"{FLAGS}\nran.append(1)\nif x = tune.int(1, 3):\n    x", "the cell does not parse").param("if-assign"),
    Case(f"{FLAGS}\nran.append(1)\n  x = tune.int(1, 3)\nx", "the cell does not parse").param("bad-indent"),
    Case(f"{FLAGS}\nran.append(1)\nreturn tune.int(1, 3)", "must be an expression").param("return-outside"),
    Case(f"{FLAGS}\nran.append(1)\nx = tune.int(1, 3)\nx +", "the cell does not parse").param("dangling-operator"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_cell_without_an_objective_is_one_line_and_nothing_runs(ip: Any, trackio_dir: Any, case: Case) -> None:
    check_refused(ip, case)
