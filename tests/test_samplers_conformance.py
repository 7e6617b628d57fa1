"""Optuna's sampler conformance suite (``optuna.testing.pytest_samplers``) on ipytune's samplers.

ipytune's samplers search a static space that ``%%tune`` reads from the cell before
the first trial. So each test here builds its sampler for the space that the suite's
test declares (its parametrized distributions, or what its objective suggests), as
``%%tune`` would from a cell making the same calls; a parameter outside that space
falls back to Optuna's ``RandomSampler``, as it does in ipytune.

What runs:

- ``FastGridSampler``: ``BasicSamplerTestCase`` wherever the space is finite, and
  ``MultiObjectiveSamplerTestCase`` (the grid never reads objective values).
- ``BayesOptSampler``: ``BasicSamplerTestCase``, ``RelativeSamplerTestCase`` and
  ``SingleOnlySamplerTestCase``. Its ``n_startup_trials`` leaves two or three GP
  suggestions to each of the suite's longer studies (``GP_STARTUP``): each costs bayes_opt
  0.1-0.6 s, and all of them made the file take 90 s.

What does not apply, skipped with the reason (``-ra`` lists them):

- grid, every test whose space has a continuous float (``test_nan_objective_value``,
  ``test_partial_fixed_sampling``, ``test_sample_single_distribution`` (``FloatDistribution(1, 1)``),
  ``test_conditional_parameter_objective``, ``test_dynamic_range_objective``, and the
  float-valued cases of ``test_single_parameter_objective`` and
  ``test_combination_of_different_distributions_objective``): it has no grid, and
  ``%%tune --method grid`` refuses it with the message the skip shows;
- grid, ``RelativeSamplerTestCase``: the suite calls ``sample_relative`` on trials it
  creates straight in the storage, while a grid point is assigned in ``before_trial``
  (which ``study.ask`` calls and the suite's shortcut skips), so there is no point to
  return; half of its distributions are continuous as well;
- grid, ``SingleOnlySamplerTestCase``: the grid works with any number of objectives;
- gp, ``MultiObjectiveSamplerTestCase``: bayes_opt maximises one target, so the GP
  sampler refuses a multi-objective study (``SingleOnlySamplerTestCase`` checks that).

Run time: about 20 s on two cores, most of it the GP's suggestions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna
import pytest
from IPython.core.error import UsageError
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler
from optuna.testing.pytest_samplers import (
    BasicSamplerTestCase,
    MultiObjectiveSamplerTestCase,
    RelativeSamplerTestCase,
    SingleOnlySamplerTestCase,
)
from optuna.trial import TrialState

from ipytune.search.samplers import BayesOptSampler, FastGridSampler, make_pruner, make_sampler
from ipytune.search.settings import METHODS
from ipytune.search.space import ChoiceParam, FloatParam, IntParam, Param, SpaceError

# The spaces the suite's tests declare in their objectives (see optuna/testing/pytest_samplers.py).
SUITE_SPACES: dict[str, list[Param]] = {
    "test_nan_objective_value": [FloatParam("x", 0.1, 0.2)],
    "test_partial_fixed_sampling": [FloatParam("x", -1, 1), IntParam("y", -1, 1), FloatParam("z", -1, 1)],
    "test_sample_single_distribution": [
        ChoiceParam("a", (1,)),
        IntParam("b", 1, 1),
        IntParam("c", 1, 1, log=True),
        FloatParam("d", 1.0, 1.0),
        FloatParam("e", 1.0, 1.0, log=True),
        FloatParam("f", 1.0, 1.0, step=1.0),
    ],
    "test_conditional_parameter_objective": [
        ChoiceParam("x", (True, False)),
        FloatParam("y", 0, 1),
        FloatParam("z", 0, 1),
    ],
    "test_dynamic_range_objective": [FloatParam("x", 0, 10), IntParam("y", 0, 10)],  # its first range
    "test_sample_relative_categorical": [ChoiceParam("x", (1, 10, 100)), ChoiceParam("y", (-1, -10, -100))],
    "test_sample_relative_mixed": [ChoiceParam("y", (-1, -10, -100))],  # and x, parametrized
    "test_trial_relative_params": [FloatParam("x", -10, 10), FloatParam("y", -10, 10)],
}
# bayes_opt's suggestions cost 0.1-0.6 s each: random points first, so each study gets two or three.
GP_STARTUP = 8
GP_STARTUP_BY_TEST = {"test_dynamic_range_objective": 17}  # 20 trials
# Tests that only call sample_independent directly: any space will do, these names are not the suite's.
OTHER_SPACE: list[Param] = [IntParam("n", 0, 3), ChoiceParam("kind", ("a", "b"))]


class _Declarations:
    """Stands in for a trial to read which parameter one of the suite's ``suggest_method`` lambdas declares."""

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> Any:
        return FloatParam(name, low, high, step=step, log=log)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> Any:
        return IntParam(name, low, high, step=step, log=log)

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return ChoiceParam(name, tuple(choices))


def param_of(name: str, distribution: BaseDistribution) -> Param:
    if isinstance(distribution, FloatDistribution):
        return FloatParam(name, distribution.low, distribution.high, step=distribution.step, log=distribution.log)
    if isinstance(distribution, IntDistribution):
        return IntParam(name, distribution.low, distribution.high, step=distribution.step, log=distribution.log)
    assert isinstance(distribution, CategoricalDistribution)
    return ChoiceParam(name, tuple(distribution.choices))


def declared_space(request: pytest.FixtureRequest) -> list[Param]:
    """The space the running suite test declares: what ``%%tune`` would read from its cell."""
    item: Any = request.node
    given = item.callspec.params if hasattr(item, "callspec") else {}
    space: list[Param] = []
    for name in ("x", "y"):
        if f"{name}_distribution" in given:
            space.append(param_of(name, given[f"{name}_distribution"]))
        if f"suggest_method_{name}" in given:
            space.append(given[f"suggest_method_{name}"](_Declarations()))
    space += SUITE_SPACES.get(item.originalname, [])
    return space or OTHER_SPACE


def grid_space(request: pytest.FixtureRequest) -> list[Param]:
    space = declared_space(request)
    try:
        for param in space:
            param.grid_values()
    except SpaceError as error:
        pytest.skip(f"does not apply to grid search: {error}")
    return space


# -- FastGridSampler --------------------------------------------------------------------------------
class TestFastGridSampler(BasicSamplerTestCase, MultiObjectiveSamplerTestCase):
    @pytest.fixture
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        space = grid_space(request)
        return lambda: FastGridSampler(space, seed=0)


@pytest.mark.skip(
    reason="grid points are assigned in before_trial, which the suite's direct sample_relative calls skip"
)
class TestFastGridSamplerRelative(RelativeSamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], BaseSampler]:
        return lambda: FastGridSampler(OTHER_SPACE)


@pytest.mark.skip(reason="the grid never reads objective values: it works with any number of objectives")
class TestFastGridSamplerSingleOnly(SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], BaseSampler]:
        return lambda: FastGridSampler(OTHER_SPACE)


# -- BayesOptSampler --------------------------------------------------------------------------------
class TestBayesOptSampler(BasicSamplerTestCase, RelativeSamplerTestCase, SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        space = declared_space(request)
        startup = GP_STARTUP_BY_TEST.get(request.node.originalname, GP_STARTUP)
        return lambda: BayesOptSampler(space, seed=0, n_startup_trials=startup)


@pytest.mark.skip(reason="bayes_opt maximises one target: the GP sampler refuses a multi-objective study")
class TestBayesOptSamplerMultiObjective(MultiObjectiveSamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], BaseSampler]:
        return lambda: BayesOptSampler(OTHER_SPACE)


# -- every --method through make_sampler, every --prune through make_pruner ------------------------
CELL = [IntParam("n", 1, 3), FloatParam("lr", 0.1, 0.3, step=0.1), ChoiceParam("kind", ("a", "b"))]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_searches_the_cells_space(method: Any) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make_sampler(method, CELL, seed=0))

    def objective(trial: optuna.Trial) -> float:
        n, lr, kind = (p.suggest(trial) for p in CELL)
        return n * lr + len(kind)

    study.optimize(objective, n_trials=6)

    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 6
    for trial in study.trials:
        for param in CELL:
            assert any(trial.params[param.name] == pytest.approx(v) for v in param.grid_values())


def test_an_unknown_method_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^--method 'annealing' is not one of grid, random, tpe, gp\.$"):
        make_sampler("annealing", CELL, seed=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "pruner"),
    [
        ("median", optuna.pruners.MedianPruner),
        ("hyperband", optuna.pruners.HyperbandPruner),
        ("halving", optuna.pruners.SuccessiveHalvingPruner),
        ("none", optuna.pruners.NopPruner),
    ],
)
def test_every_prune_name_is_its_optuna_pruner(name: Any, pruner: type) -> None:
    assert type(make_pruner(name)) is pruner


def test_an_unknown_pruner_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^--prune 'asha' is not one of median, hyperband, halving, none\.$"):
        make_pruner("asha")  # type: ignore[arg-type]


# -- beyond the suite ------------------------------------------------------------------------------
def test_a_resumed_gp_study_skips_trials_outside_the_edited_space() -> None:
    """Regression: a trial run before the cell's declaration changed crashed the sampler (``5 is not in list``)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    before = [IntParam("n", 0, 9), FloatParam("x", 0, 2)]
    study = optuna.create_study(study_name="s", storage=storage, sampler=BayesOptSampler(before, seed=0))
    study.optimize(lambda t: float(sum(p.suggest(t) for p in before)), n_trials=8)
    after = [IntParam("n", 0, 8, step=2), FloatParam("x", 0, 1)]
    sampler = BayesOptSampler(after, seed=0, n_startup_trials=2)
    study = optuna.create_study(study_name="s", storage=storage, sampler=sampler, load_if_exists=True)

    study.optimize(lambda t: float(sum(p.suggest(t) for p in after)), n_trials=3)

    inside = [t.number for t in study.trials if t.params["n"] % 2 == 0 and t.params["x"] <= 1]
    assert [t.state for t in study.trials[8:]] == [TrialState.COMPLETE] * 3
    assert len(sampler.optimizer.space) == len(inside) - 1  # the last trial finished after the last sync
