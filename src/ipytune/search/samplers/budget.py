"""A grid that fits a trial budget, for comparing grid search with the other methods on equal terms.

Grid search needs a finite grid of about the budget's size: continuous and wide
parameters are coarsened to a few evenly spaced levels (log-spaced for
``log=True``) so that the whole grid fits the budget where it can.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ipytune.search.samplers.grid import FastGridSampler
from ipytune.search.space import ChoiceParam, FloatParam, IntParam, Param


def budget_grid(params: Sequence[Param], budget: int) -> list[list[Any]]:
    """Values per parameter so that the full grid has at most ``budget`` points where it can.

    Choices keep all their options; numeric parameters start at 2 levels (1 when
    they have a single value) and gain levels one at a time, round-robin, while
    the grid still fits. When even the smallest grid is larger than the budget,
    the search runs ``budget`` of its points.
    """
    fixed = [p for p in params if isinstance(p, ChoiceParam)]
    numeric = [p for p in params if not isinstance(p, ChoiceParam)]
    cap = {p.name: _max_levels(p) for p in numeric}
    levels = {p.name: int(min(2, cap[p.name])) for p in numeric}
    size = math.prod(len(p.labels) for p in fixed) * math.prod(levels.values())
    grown = True
    while grown:
        grown = False
        for p in numeric:
            n = levels[p.name]
            if n < cap[p.name] and size // n * (n + 1) <= budget:
                size = size // n * (n + 1)
                levels[p.name] = n + 1
                grown = True
    return [list(p.labels) if isinstance(p, ChoiceParam) else _levels(p, levels[p.name]) for p in params]


def budget_grid_sampler(params: Sequence[Param], budget: int, seed: int | None) -> tuple[FastGridSampler, str]:
    """A :class:`FastGridSampler` over :func:`budget_grid`'s values, and a note saying which grid it is."""
    values = budget_grid(params, budget)
    sampler = FastGridSampler(params, seed=seed, values=values)
    shape = "×".join(str(len(v)) for v in values)
    ran = "the whole grid" if sampler.size <= budget else f"{budget} of its points, in random order"
    return sampler, f"grid {shape} = {sampler.size} points for a budget of {budget}: {ran}"


def _max_levels(param: IntParam | FloatParam) -> int | float:
    if isinstance(param, IntParam):
        return (param.high - param.low) // param.step + 1
    if param.step is not None:
        return math.floor((param.high - param.low) / param.step + 1e-9) + 1
    return 1 if param.low == param.high else math.inf


def _levels(param: IntParam | FloatParam, n: int) -> list[Any]:
    """``n`` evenly spaced values of ``param`` (geometric for log), snapped to its step and bounds."""
    import numpy as np

    if n == 1:
        return [param.low]
    raw = np.geomspace(param.low, param.high, n) if param.log else np.linspace(param.low, param.high, n)
    step = param.step
    values: list[Any] = []
    for v in raw:
        if step is not None:
            v = param.low + step * round((v - param.low) / step)
        v = min(max(v, param.low), param.high)
        v = round(float(v)) if isinstance(param, IntParam) else round(float(v), 12)
        if v not in values:
            values.append(v)
    return values
