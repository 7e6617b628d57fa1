"""Grid search as an Optuna sampler whose cost per trial does not grow with the grid.

Optuna's own ``GridSampler`` scans every trial of the study on each ask, so a
large grid slows down as it fills (quadratic overall). Here each grid point
has an integer id; a seeded permutation fixes the visiting order, ids already
taken are read from the study once, and each trial takes the next free id in
O(1). The id is stored on the trial (``system_attrs``) so a resumed study
skips the points it has already run.

The values of each parameter are its grid values unless given: ``--compare``
runs a coarser grid that fits its budget (see :mod:`.budget`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ipytune.search._optuna import set_trial_system_attr, trial_id
from ipytune.search.space import Param

GRID_ID = "ipytune:grid_id"


class FastGridSampler(BaseSampler):
    """Visits every combination of ``params``' grid values once, in an order fixed by ``seed``.

    ``values`` (one list per parameter, in order) replaces the parameters' own grid values;
    each value must be one the parameter's distribution contains.
    """

    def __init__(
        self, params: Sequence[Param], seed: int | None = None, values: Sequence[Sequence[Any]] | None = None
    ) -> None:
        self._params = list(params)
        if values is None:
            self._values = [p.grid_values() for p in self._params]
        else:
            self._values = [list(v) for v in values]
            if len(self._values) != len(self._params) or not all(self._values):
                raise ValueError(
                    f"FastGridSampler: values must give a non-empty list for each of the {len(self._params)} "
                    f"parameters, in order; got {len(self._values)} lists."
                )
        self._radices = [len(v) for v in self._values]
        self.size = math.prod(self._radices)
        self._order = np.random.default_rng(seed).permutation(self.size)
        self._position = 0  # next index into _order to consider
        self._taken: set[int] | None = None  # grid ids already run in this study
        self._assigned: dict[int, int] = {}  # trial id -> grid id
        self._search_space = {p.name: p.distribution() for p in self._params}
        self._fallback = RandomSampler(seed=seed)
        self.exhausted = False

    def remaining(self, study: Study) -> int:
        return self.size - len(self._taken_ids(study))

    def point(self, grid_id: int) -> dict[str, Any]:
        """The parameter values of one grid id (mixed-radix decoding)."""
        params = {}
        for param, values, radix in zip(self._params, self._values, self._radices, strict=False):
            grid_id, index = divmod(grid_id, radix)
            params[param.name] = values[index]
        return params

    def _taken_ids(self, study: Study) -> set[int]:
        if self._taken is None:
            self._taken = {
                t.system_attrs[GRID_ID]
                for t in study.get_trials(deepcopy=False)
                if GRID_ID in t.system_attrs and t.state != TrialState.FAIL
            }
        return self._taken

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        taken = self._taken_ids(study)
        while self._position < self.size and int(self._order[self._position]) in taken:
            self._position += 1
        if self._position >= self.size:
            self.exhausted = True
            return  # nothing left: the search loop sees `exhausted` and stops
        grid_id = int(self._order[self._position])
        taken.add(grid_id)
        self._assigned[trial_id(trial)] = grid_id
        set_trial_system_attr(study, trial, GRID_ID, grid_id)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        # a copy: wrappers such as PartialFixedSampler delete from it
        return dict(self._search_space) if trial_id(trial) in self._assigned else {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        grid_id = self._assigned.get(trial_id(trial))
        if grid_id is None:
            return {}
        return {name: value for name, value in self.point(grid_id).items() if name in search_space}

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        # A failed point stays taken here: retrying it now would spend the whole budget
        # on a point that fails every time (--catch). A later execution reads the study
        # afresh, where failed points are not taken, and retries it once.
        self._assigned.pop(trial_id(trial), None)
