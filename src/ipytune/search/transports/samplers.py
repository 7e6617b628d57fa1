"""Each worker's own sampler: the search's method, seeded for that worker, aware of the others.

- random, tpe: worker ``i`` is seeded with :func:`derive_seed` (``--seed`` and ``i``): a
  seeded sampler copied to every worker would suggest the same points in each. TPE uses
  Optuna's ``constant_liar``: the other workers' running trials count as bad ones, so
  workers drawing at once do not pile onto one region.
- grid: every worker shares the seeded order and claims points through the study
  (:class:`~ipytune.search.samplers.FastGridSampler`'s parallel rule), so no point runs
  twice and none is skipped however many workers or processes join.
- gp: :class:`PendingAwareGP`: before each suggestion the GP is fitted to the finished
  trials *and* the study's running ones, these at a pessimistic constant lie (bayes_opt's
  ``ConstantLiar``), so a worker does not suggest what another is evaluating. Each worker
  reads the pending points from the shared storage; bayes_opt's own liar only knows the
  points its optimizer suggested, which in a worker is none of the others'. Suggesting in
  the kernel and handing points out would need a second channel to every worker, make the
  kernel the bottleneck, and leave out processes that join the study from elsewhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ipytune.search.samplers import BayesOptSampler, FastGridSampler, make_optimizer
from ipytune.search.samplers.gp import Acquisition
from ipytune.search.settings import Method
from ipytune.search.space import Param


def derive_seed(seed: int | None, worker: int) -> int | None:
    """Worker ``worker``'s sampler seed: ``seed`` itself for the first (one worker repeats the
    in-process search), a distinct one derived from both for the others; None stays None."""
    if seed is None or worker == 0:
        return seed
    return (seed * 1_000_003 + worker) % 2**32


def worker_sampler(
    method: Method,
    params: Sequence[Param],
    seed: int | None,
    worker: int,
    run: str,
    grid_values: Sequence[Sequence[Any]] | None = None,
    acquisition: Acquisition = "ucb",
) -> BaseSampler:
    """The sampler worker ``worker`` of parallel search ``run`` draws its trials from."""
    own = derive_seed(seed, worker)
    if method == "grid":
        return FastGridSampler(params, seed=seed, values=grid_values, run=run)  # one shared order
    if method == "gp":
        return PendingAwareGP(params, seed=own, acquisition=acquisition)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=own)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # constant_liar
        return optuna.samplers.TPESampler(seed=own, constant_liar=True)


class PendingAwareGP(BayesOptSampler):
    """The GP sampler for one of several workers: its suggestions avoid the trials still running."""

    def __init__(self, params: Sequence[Param], seed: int | None = None, acquisition: Acquisition = "ucb") -> None:
        from bayes_opt import acquisition as acq

        super().__init__(params, seed=seed, acquisition=acquisition)
        base = acq.ExpectedImprovement(xi=0.01) if acquisition == "ei" else acq.UpperConfidenceBound(kappa=2.576)
        # "min" in bayes_opt's maximising terms: a running point is assumed as bad as the worst seen
        self._liar = acq.ConstantLiar(base, strategy="min")
        self.optimizer = make_optimizer(self.bounds, self._liar, random_state=seed)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        self._liar.dummies = self.pending(study, trial)
        return super().sample_relative(study, trial, search_space)

    def pending(self, study: Study, trial: FrozenTrial) -> list[Any]:
        """The points of the study's other running trials, in bayes_opt's space."""
        space = self.optimizer.space
        return [
            space.params_to_array(self.to_bayes(t.params))
            for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if t.number != trial.number and self.in_space(t.params)
        ]
