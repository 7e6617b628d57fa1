"""GP Bayesian optimisation as an Optuna sampler, backed by the bayesian-optimization package.

The package's ``BayesianOptimization`` is used in its suggest/register mode:
before each trial, every finished trial not yet seen is registered, then
``suggest()`` proposes the next point. ``bayes_opt`` maximises, so a minimised
study's values are registered negated. The GP explorer reads the sampler's
``optimizer`` (its GP and acquisition function), ``axes``, ``bounds`` and
``acquisition``, and builds its own optimizers with :func:`make_optimizer`.

How ipytune's parameters map onto the package's parameter kinds:
- float: a float bound; ``log=True`` optimises log(value);
- int with step 1: an int bound; int or float with a step: an int index into the steps;
- int with ``log=True``: log(value) as a float, rounded back;
- choice: a categorical over the option indices; a one-option choice is a constant.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from ipytune.search.space import ChoiceParam, FloatParam, IntParam, Param

if TYPE_CHECKING:
    from bayes_opt import BayesianOptimization

__all__ = ["ACQUISITIONS", "Acquisition", "Axis", "BayesOptSampler", "make_optimizer"]

Acquisition = Literal["ucb", "ei"]
ACQUISITIONS: tuple[Acquisition, ...] = get_args(Acquisition)


def make_optimizer(
    pbounds: Mapping[str, Any], acquisition_function: Any = None, random_state: int | None = None
) -> BayesianOptimization:
    """bayes_opt's optimizer in suggest/register mode, as ipytune uses it everywhere.

    No objective (``f=None``): points are registered by the caller. Duplicate points
    are allowed (a study may run the same point twice), nothing is printed, and
    ``acquisition_function=None`` is bayes_opt's default UCB.
    """
    from bayes_opt import BayesianOptimization

    with warnings.catch_warnings():
        # bayes_opt flags int/categorical bounds as experimental; mapping them is this module's job
        warnings.filterwarnings("ignore", message="Non-float parameters are experimental")
        return BayesianOptimization(
            f=None,
            pbounds=dict(pbounds),
            acquisition_function=acquisition_function,
            random_state=random_state,
            verbose=0,
            allow_duplicate_points=True,
        )


class Axis:
    """One parameter as bayes_opt sees it: its bound, and the maps to and from it.

    ``values`` is set when bayes_opt sees an index into them (choices and stepped
    ranges); ``constant`` when there is only one value, which bayes_opt never sees.
    """

    def __init__(self, param: Param) -> None:
        self.param = param
        self.values: list[Any] | None = None
        self.log = False
        self.bound: Any
        if isinstance(param, ChoiceParam):
            self.values = list(param.labels)
            self.bound = tuple(range(len(self.values)))
        elif param.step is not None and not (isinstance(param, IntParam) and param.step == 1):
            self.values = param.grid_values()
            self.bound = (0, len(self.values) - 1, int)
        elif param.log:
            self.log = True
            self.bound = (math.log(param.low), math.log(param.high))
        elif isinstance(param, IntParam):
            self.bound = (param.low, param.high, int)
        else:
            self.bound = (param.low, param.high)
        if self.values is not None:
            self.constant: Any = self.values[0] if len(self.values) == 1 else None
        else:
            assert not isinstance(param, ChoiceParam)
            self.constant = param.low if param.low == param.high else None

    def to_param(self, x: Any) -> Any:
        p = self.param
        if self.values is not None:
            return self.values[int(x)]
        assert not isinstance(p, ChoiceParam)
        if self.log:
            value = math.exp(float(x))
            if isinstance(p, IntParam):
                return min(max(round(value), p.low), p.high)
            return min(max(value, p.low), p.high)
        if isinstance(p, IntParam):
            return int(x)
        return float(x)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` (as Optuna stores it) lies in this space: a resumed study may hold trials
        run before the cell's declaration changed."""
        p = self.param
        if self.values is not None and not isinstance(p, FloatParam):  # choices, stepped ints: one of the values
            return bool(value in self.values)
        assert not isinstance(p, ChoiceParam)
        return bool(p.low <= value <= p.high)  # a stepped float is mapped to its nearest step

    def to_bayes(self, value: Any) -> Any:
        values = self.values
        if values is not None:
            if isinstance(self.param, FloatParam):  # stored floats may differ in the last digits
                return min(range(len(values)), key=lambda i: abs(values[i] - value))
            return values.index(value)
        if self.log:
            return math.log(value)
        return value


class BayesOptSampler(BaseSampler):
    """An Optuna sampler that asks ``bayes_opt.BayesianOptimization`` for every point."""

    def __init__(
        self,
        params: Sequence[Param],
        seed: int | None = None,
        n_startup_trials: int = 5,
        acquisition: Acquisition = "ucb",
    ) -> None:
        from bayes_opt import acquisition as acq

        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition={acquisition!r} is not one of {', '.join(ACQUISITIONS)}.")
        self._acquisition: Acquisition = acquisition
        self._axis_by_name = {p.name: Axis(p) for p in params}
        self._search_space = {p.name: p.distribution() for p in params}
        acquisition_function = acq.ExpectedImprovement(xi=0.01) if acquisition == "ei" else None  # None: UCB
        self.optimizer = make_optimizer(self.bounds, acquisition_function, random_state=seed)
        self.n_startup_trials = n_startup_trials
        self._registered: set[int] = set()
        self._fallback = RandomSampler(seed=seed)

    @property
    def axes(self) -> dict[str, Axis]:
        """Every parameter's :class:`Axis`, constants included (``axis.constant is not None``:
        bayes_opt never sees that parameter, and ``bounds`` leaves it out)."""
        return dict(self._axis_by_name)

    @property
    def acquisition(self) -> Acquisition:
        """The acquisition function the optimizer was built with: ``"ucb"`` or ``"ei"``."""
        return self._acquisition

    @property
    def bounds(self) -> dict[str, Any]:
        """The bayes_opt bounds of each non-constant parameter (for the GP explorer)."""
        return {name: axis.bound for name, axis in self._axis_by_name.items() if axis.constant is None}

    def to_bayes(self, params: dict[str, Any]) -> dict[str, Any]:
        """Map a trial's parameters into bayes_opt's space."""
        return {n: a.to_bayes(params[n]) for n, a in self._axis_by_name.items() if a.constant is None}

    def to_params(self, point: dict[str, Any]) -> dict[str, Any]:
        """Map a bayes_opt point back to ipytune's parameter values (as stored by Optuna)."""
        return {
            name: axis.constant if axis.constant is not None else axis.to_param(point[name])
            for name, axis in self._axis_by_name.items()
        }

    def sync(self, study: Study) -> None:
        """Register every finished trial the optimizer has not seen yet, if it lies in this sampler's space."""
        _check_single_objective(study)
        sign = 1.0 if study.directions[0] == StudyDirection.MAXIMIZE else -1.0
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if trial.number in self._registered or not self.in_space(trial.params):
                continue
            self._registered.add(trial.number)
            assert trial.value is not None
            with contextlib.redirect_stdout(io.StringIO()):  # bayes_opt prints a line per duplicate point
                self.optimizer.register(params=self.to_bayes(trial.params), target=sign * trial.value)

    def in_space(self, params: dict[str, Any]) -> bool:
        """Whether a trial's parameters lie in this sampler's space (a resumed study's older trials may not)."""
        return all(name in params and axis.contains(params[name]) for name, axis in self._axis_by_name.items())

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return dict(self._search_space)  # a copy: wrappers such as PartialFixedSampler delete from it

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        self.sync(study)
        params = self.to_params(self._next_point())
        return {name: value for name, value in params.items() if name in search_space}

    def _next_point(self) -> dict[str, Any]:
        """bayes_opt's next point: random until ``n_startup_trials`` are registered, then its suggestion."""
        if not self.optimizer.space.keys:  # every parameter is a constant
            return {}
        if len(self._registered) < self.n_startup_trials:
            return dict(self.optimizer.random_sample(1)[0])
        try:
            return dict(self.optimizer.suggest())
        except Exception as error:  # a GP that cannot be fitted should not end the search
            warnings.warn(f"GP suggestion failed ({error}); trying a random point.", RuntimeWarning, stacklevel=3)
            return dict(self.optimizer.random_sample(1)[0])

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        _check_single_objective(study)
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)


def _check_single_objective(study: Study) -> None:
    if len(study.directions) != 1:
        raise ValueError(f"BayesOptSampler optimises one objective; this study has {len(study.directions)}.")
