"""Edges of one trial and of the settings' checks that the mutation pass found untested (tests/README.md)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.engine import Search
from ipytune.search.settings import FAIL_REASON, SearchSettings, check_scorer


def fail_reason(objective: str) -> str:
    settings = SearchSettings(method="random", n_trials=1, storage="memory", catch=True)
    result = Search(parse_cell(f"x = tune.int(1, 3)\n{objective}"), {"tune": tune}, settings).run()
    reason: str = result.study.trials[0].user_attrs[FAIL_REASON]
    return reason


def test_a_returned_value_is_shown_whole_up_to_60_characters_then_cut():
    whole = "a" * 58  # its repr, quotes included, is 60 characters
    assert fail_reason(repr(whole)) == f"the cell returned a str ({whole!r}), not a number"
    long = "a" * 59  # 61 characters
    assert fail_reason(repr(long)) == f"the cell returned a str ({repr(long)[:57]}...), not a number"


def test_a_misspelt_scorer_is_answered_with_the_three_closest_names():
    with pytest.raises(UsageError) as refused:
        check_scorer("precison")
    assert str(refused.value) == (
        "--scoring 'precison' is not a scikit-learn scorer: did you mean 'precision' or 'precision_micro' or "
        "'precision_macro'? (all of them: sklearn.metrics.get_scorer_names())."
    )


@pytest.mark.torch
def test_the_refit_of_a_seeded_search_seeds_without_switching_on_determinism(ip):
    """--seed seeds each trial and the refit; PyTorch's determinism switches stay as they were (--deterministic
    asks for them), so a refit does not make the notebook's later CUDA/cuDNN work slower or raise."""
    torch = pytest.importorskip("torch")
    assert not torch.are_deterministic_algorithms_enabled()
    ip.run_cell("%%tune --method random --trials 2 --seed 3 --storage memory --quiet --no-track\nx = tune.int(1, 3)\nx")
    try:
        assert ip.user_ns["x"] in (1, 2, 3)  # the refit ran
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


def test_with_several_seeds_only_the_first_seeds_run_reports_and_prunes(recwarn):
    """Optuna keeps one value per step: the later seeds' runs draw their values through the same trial
    but their reports are dropped, and they are never pruned (their score is part of the mean)."""
    import random

    cell = "import random\nx = tune.float(0, 1)\nv = random.random()\nfor step in range(3):\n    tune.report(v + step, step)\nv"
    settings = SearchSettings(method="random", n_trials=3, storage="memory", seeds=(1, 2), prune="median")
    result = Search(parse_cell(cell), {"tune": tune}, settings).run()
    first, second = random.Random(1).random(), random.Random(2).random()
    for trial in result.study.trials:
        assert trial.state.name == "COMPLETE"
        assert trial.intermediate_values == {0: first, 1: first + 1, 2: first + 2}
        assert trial.value == pytest.approx((first + second) / 2)
    assert not [w for w in recwarn if "already reported" in str(w.message)]
