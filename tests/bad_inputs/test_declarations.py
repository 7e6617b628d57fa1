"""tune.int / tune.float / tune.choice misused in a %%tune cell: one line naming the parameter, before any trial."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bad_inputs.harness import Case, check_refused, tune_cell


def declared(declaration: str, method: str = "random") -> str:
    return tune_cell(f"--method {method} --trials 3 --storage memory", f"v = {declaration}\nv")


CASES = [
    Case(declared("tune.int(5, 1)"), "tune.int 'v'").param("int-low-above-high"),
    Case(declared("tune.int(1.5, 3)"), "low=1.5 is not an integer").param("int-fractional-low"),
    Case(declared("tune.int('1', 3)"), "low='1' is not an integer").param("int-text-low"),
    Case(declared("tune.int(1, None)"), "high=None is not an integer").param("int-no-high"),
    Case(declared("tune.int(True, 3)"), "low=True is not an integer").param("int-bool-low"),
    Case(declared("tune.int(1, 10, step=0)"), "step=0 must be at least 1").param("int-step-zero"),
    Case(declared("tune.int(1, 10, step=-2)"), "step=-2").param("int-step-negative"),
    Case(declared("tune.int(1, 10, step=2, log=True)"), "log=True works with step=1 only").param("int-log-step"),
    Case(declared("tune.int(0, 10, log=True)"), "tune.int 'v'").param("int-log-from-zero"),
    Case(declared("tune.int(1)"), "tune.int(...) on line").param("int-one-bound"),
    Case(declared("tune.int()"), "tune.int(...) on line").param("int-no-bounds"),
    Case(declared("tune.int(1, 3, 1, False, 7)"), "tune.int(...) on line").param("int-too-many-arguments"),
    Case(declared("tune.int(1, 3, low=2)"), "tune.int(...) on line").param("int-low-twice"),
    Case(declared("tune.int(1, 3, size=2)"), "tune.int(...) on line").param("int-unknown-keyword"),
    Case(declared("tune.float(1.0, 0.0)"), "tune.float 'v'").param("float-low-above-high"),
    Case(declared("tune.float(0, 1, log=True)"), "tune.float 'v'").param("float-log-from-zero"),
    Case(declared("tune.float(-1, 1, log=True)"), "tune.float 'v'").param("float-log-negative"),
    Case(declared("tune.float(0, 1, step=-0.1)"), "step=-0.1 must be a positive number").param("float-step-negative"),
    Case(declared("tune.float(0, 1, step=0)"), "step=0 must be a positive number").param("float-step-zero"),
    Case(declared("tune.float('a', 1)"), "low='a' is not a number").param("float-text-low"),
    Case(declared("tune.float(0, float('nan'))"), "tune.float 'v'").param("float-nan-high"),
    Case(declared("tune.float(0, float('inf'))"), "tune.float 'v'").param("float-infinite-high"),
    Case(declared("tune.float([0, 1])"), "tune.float(...) on line").param("float-a-list"),
    Case(declared("tune.choice([])"), "tune.choice 'v'").param("choice-empty"),
    Case(declared("tune.choice(5)"), "tune.choice 'v'").param("choice-a-number"),
    Case(declared("tune.choice()"), "tune.choice(...) on line").param("choice-nothing"),
    Case(declared("tune.choice('a', 'b')"), "tune.choice(...) on line").param("choice-unpacked"),
    Case(declared("tune.choice([1, 1])"), "tune.choice 'v'").param("choice-repeated"),
    Case(declared("tune.int(1, 3, name=3)"), "name=3): a name is a string").param("name-a-number"),
    Case(declared("tune.int(1, 3, name='')"), "has no name").param("name-empty"),
    Case(tune_cell("--storage memory", "print(tune.int(1, 3))\n1"), "has no name to infer").param("no-name"),
    Case(tune_cell("--storage memory", "a, b = tune.int(1, 3), 2\na"), "has no name to infer").param("name-in-a-tuple"),
    Case(
        tune_cell("--storage memory", "a = tune.int(1, 3)\na = tune.float(0, 1)\na"), "parameter 'a' is declared twice"
    ).param("declared-twice"),
    Case(
        tune_cell("--storage memory", "p = {'lr': tune.float(0, 1), 'depth': tune.int(1, 3, name='lr')}\n1"),
        "parameter 'lr' is declared twice",
    ).param("dict-key-and-name-clash"),
    Case(tune_cell("--storage memory", "v = tune.uniform(0, 1)\nv"), "tune.uniform").param("optuna-name-uniform"),
    Case(tune_cell("--storage memory", "v = tune.categorical(['a'])\n1"), "tune.categorical").param(
        "optuna-name-categorical"
    ),
    Case(tune_cell("--storage memory", "v = tune.randint(1, 9)\nv"), "tune.randint").param("numpy-name-randint"),
    Case(tune_cell("--storage memory", "v = tune.Int(1, 9)\nv"), "tune.Int").param("capitalised-int"),
    Case(declared("tune.float(0, 1)", "grid"), "a grid needs a finite set of values").param("grid-continuous-float"),
    Case(declared("tune.float(1e-3, 1, log=True)", "grid"), "a grid needs a finite set of values").param(
        "grid-log-float"
    ),
    Case(
        tune_cell("--method grid --storage memory", "v = 1\nif v:\n    v = tune.int(1, 3)\nv"),
        "--method grid needs a fixed search space",
    ).param("grid-conditional"),
    Case(tune_cell("--method grid --storage memory", "v = 3\nv"), "--method grid found no tune.int").param(
        "grid-nothing-declared"
    ),
    Case(tune_cell("--method gp --storage memory", "v = 3\nv"), "--method gp found no tune.int").param(
        "gp-nothing-declared"
    ),
    Case(
        tune_cell("--method gp --storage memory", "top = 9\nv = tune.int(1, top)\nv"),
        "--method gp needs the search space before the cell runs",
    ).param("gp-bound-from-the-cell"),
    Case(
        tune_cell("--method gp --storage memory", "for i in range(2):\n    v = tune.int(1, 3)\nv"),
        "--method gp needs a fixed search space",
    ).param("gp-declared-in-a-loop"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_declaration_is_one_line_and_nothing_runs(ip: Any, trackio_dir: Any, case: Case) -> None:
    check_refused(ip, case)
