"""GP Bayesian optimisation as an Optuna sampler, backed by the bayesian-optimization package.

The package's ``BayesianOptimization`` is used in its suggest/register mode:
before each trial, every finished trial not yet seen is registered, then
``suggest()`` proposes the next point. ``bayes_opt`` maximises, so a minimised
study's values are registered negated. The optimizer (its GP and acquisition
function) stays reachable as ``sampler.optimizer`` for the GP explorer.

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
from collections.abc import Sequence
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from ipytune.search.space import ChoiceParam, FloatParam, IntParam, Param


class _Axis:
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
        acquisition: str = "ucb",
    ) -> None:
        from bayes_opt import BayesianOptimization
        from bayes_opt import acquisition as acq

        self._axes = {p.name: _Axis(p) for p in params}
        self._search_space = {p.name: p.distribution() for p in params}
        bounds = {name: axis.bound for name, axis in self._axes.items() if axis.constant is None}
        acquisition_function = {"ucb": None, "ei": acq.ExpectedImprovement(xi=0.01)}[acquisition]
        with warnings.catch_warnings():
            # bayes_opt flags int/categorical bounds as experimental; mapping them is this module's job
            warnings.filterwarnings("ignore", message="Non-float parameters are experimental")
            self.optimizer = BayesianOptimization(
                f=None,
                pbounds=bounds,
                acquisition_function=acquisition_function,
                random_state=seed,
                verbose=0,
                allow_duplicate_points=True,
            )
        self.n_startup_trials = n_startup_trials
        self._registered: set[int] = set()
        self._fallback = RandomSampler(seed=seed)

    @property
    def bounds(self) -> dict[str, Any]:
        """The bayes_opt bounds of each non-constant parameter (for the GP explorer)."""
        return {name: axis.bound for name, axis in self._axes.items() if axis.constant is None}

    def to_bayes(self, params: dict[str, Any]) -> dict[str, Any]:
        """Map a trial's parameters into bayes_opt's space."""
        return {n: a.to_bayes(params[n]) for n, a in self._axes.items() if a.constant is None}

    def to_params(self, point: dict[str, Any]) -> dict[str, Any]:
        """Map a bayes_opt point back to ipytune's parameter values (as stored by Optuna)."""
        return {
            name: axis.constant if axis.constant is not None else axis.to_param(point[name])
            for name, axis in self._axes.items()
        }

    def sync(self, study: Study) -> None:
        """Register every finished trial the optimizer has not seen yet."""
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if trial.number in self._registered or not set(self._axes) <= set(trial.params):
                continue
            self._registered.add(trial.number)
            assert trial.value is not None
            with contextlib.redirect_stdout(io.StringIO()):  # bayes_opt prints a line per duplicate point
                self.optimizer.register(params=self.to_bayes(trial.params), target=sign * trial.value)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._search_space

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        self.sync(study)
        if not self.optimizer.space.keys:
            return self.to_params({})
        if len(self._registered) < self.n_startup_trials:
            point = self.optimizer.random_sample(1)[0]
        else:
            try:
                point = self.optimizer.suggest()
            except Exception as error:  # a GP that cannot be fitted should not end the search
                warnings.warn(f"GP suggestion failed ({error}); trying a random point.", RuntimeWarning, stacklevel=2)
                point = self.optimizer.random_sample(1)[0]
        return self.to_params(point)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)
