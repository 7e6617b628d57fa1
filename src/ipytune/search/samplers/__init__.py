"""The samplers a search can run, as Optuna samplers: ipytune's fast grid and bayes_opt GP, Optuna's own.

:func:`make_sampler` and :func:`make_pruner` turn ``--method`` and ``--prune`` into
Optuna objects; every entry point builds its samplers here.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from IPython.core.error import UsageError
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler

from ipytune.search.samplers.budget import budget_grid, budget_grid_sampler
from ipytune.search.samplers.gp import Axis, BayesOptSampler, make_optimizer
from ipytune.search.samplers.grid import FastGridSampler
from ipytune.search.settings import METHODS, PRUNERS, Method, Pruner
from ipytune.search.space import Param

__all__ = [
    "Axis",
    "BayesOptSampler",
    "FastGridSampler",
    "budget_grid",
    "budget_grid_sampler",
    "make_optimizer",
    "make_pruner",
    "make_sampler",
]


def make_sampler(method: Method, params: Sequence[Param], seed: int | None) -> BaseSampler:
    """The sampler for ``--method``; grid and gp search ``params``, random and tpe whatever the trials suggest."""
    if method == "grid":
        return FastGridSampler(params, seed=seed)
    if method == "gp":
        return BayesOptSampler(params, seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise UsageError(f"--method {method!r} is not one of {', '.join(METHODS)}.")


def make_pruner(name: Pruner) -> BasePruner:
    """Optuna's pruner for ``--prune``; any sampler works with any of them, grid and gp included."""
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"--prune {name!r} is not one of {', '.join(PRUNERS)}.")
