"""Search-space declarations: name inference from the cell's AST and early validation."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.space import ChoiceParam, FloatParam, IntParam


def space_of(cell: str, method: str = "tpe", namespace: dict | None = None) -> dict:
    program = parse_cell(cell)
    params = program.static_space(namespace or {}, method, require=method in ("grid", "gp"))
    return {p.name: p for p in params}


def test_name_from_keyword_argument():
    space = space_of("f = dict\nf(max_depth=tune.int(3, 30), criterion=tune.choice(['gini', 'entropy']))")
    assert space["max_depth"] == IntParam("max_depth", 3, 30)
    assert space["criterion"] == ChoiceParam("criterion", ("gini", "entropy"))


def test_name_from_assignment_annotation_attribute_and_subscript():
    cell = (
        "lr = tune.float(1e-4, 1e-1, log=True)\n"
        "momentum: float = tune.float(0.0, 0.99)\n"
        "class C: pass\n"
        "c = C()\n"
        "c.width = tune.int(8, 64, step=8)\n"
        "d = {}\n"
        "d['depth'] = tune.int(1, 4)\n"
        "lr"
    )
    space = space_of(cell)
    assert space["lr"] == FloatParam("lr", 1e-4, 1e-1, log=True)
    assert space["momentum"] == FloatParam("momentum", 0.0, 0.99)
    assert space["width"] == IntParam("width", 8, 64, step=8)
    assert set(space) == {"lr", "momentum", "width", "depth"}


def test_name_from_dict_key_and_explicit_name_overrides():
    space = space_of("p = {'alpha': tune.float(0, 1), 'beta': tune.int(1, 5, name='b')}\np")
    assert set(space) == {"alpha", "b"}


def test_name_that_cannot_be_inferred_is_a_clear_error():
    with pytest.raises(UsageError, match=r"tune.int\(...\) on line 1 has no name .* name='...'"):
        parse_cell("print(tune.int(1, 5))\n1")


def test_two_declarations_with_one_name():
    with pytest.raises(UsageError, match="'n' is declared twice"):
        parse_cell("n = tune.int(1, 5)\nm = tune.int(1, 9, name='n')\nn")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("a = tune.int(10, 3)\na", r"tune.int 'a': low=10 is greater than high=3"),
        ("a = tune.float(0.0, 1.0, log=True)\na", r"tune.float 'a': log=True needs low > 0"),
        ("a = tune.int(0, 10, log=True)\na", r"tune.int 'a': log=True needs low > 0"),
        ("a = tune.choice([])\na", r"tune.choice 'a': the list of options is empty"),
        ("a = tune.choice('abc')\na", r"tune.choice 'a': options must be a list"),
        ("a = tune.int(1.5, 3)\na", r"tune.int 'a': low=1.5 is not an integer"),
        ("a = tune.float(0, 1, step=-1)\na", r"tune.float 'a': step=-1 must be a positive number"),
    ],
)
def test_bad_declarations_fail_before_any_trial_naming_the_parameter(cell, message):
    with pytest.raises(UsageError, match=message):
        space_of(cell)


def test_grid_needs_a_finite_float():
    with pytest.raises(UsageError, match=r"'lr' is continuous .* step=\.\.\."):
        FloatParam("lr", 0.0, 1.0).grid_values()
    assert FloatParam("lr", 0.0, 1.0, step=0.25).grid_values() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_conditional_declarations_are_marked_and_refused_by_static_methods():
    cell = "kind = tune.choice(['svm', 'tree'])\nif kind == 'svm':\n    c = tune.float(0.1, 10)\nkind"
    program = parse_cell(cell)
    assert [d.name for d in program.conditional] == ["c"]
    assert set(space_of(cell, "tpe")) == {"kind", "c"}  # still validated early
    with pytest.raises(UsageError, match=r"--method grid needs a fixed search space.*'c'|\(c\)"):
        space_of(cell, "grid")


def test_static_methods_need_arguments_known_before_the_cell_runs():
    cell = "n = 10\nk = tune.int(1, n)\nk"
    assert space_of(cell, "tpe") == {}  # define-by-run: checked when the trial runs
    with pytest.raises(UsageError, match=r"--method gp needs the search space before the cell runs.*NameError"):
        space_of(cell, "gp")
    assert space_of(cell, "gp", namespace={"n": 10})["k"] == IntParam("k", 1, 10)


def test_last_line_must_be_an_expression():
    with pytest.raises(UsageError, match="last line must be an expression"):
        parse_cell("x = tune.int(1, 3)")


def test_syntax_error_is_one_line():
    with pytest.raises(UsageError, match=r"does not parse: .*line 1"):
        parse_cell("x = = 1\nx")


def test_declarations_outside_a_search_say_where_values_are():
    with pytest.raises(UsageError, match=r"only inside a %%tune cell.*tune.last.best_params"):
        tune.int(1, 3, name="n")


def test_objects_as_choices_are_stored_by_label():
    class Model:
        pass

    param = ChoiceParam("model", (Model, None, 3))
    assert not param.plain
    assert param.labels == ("Model", "None", "3")
    assert param.from_label("Model") is Model
