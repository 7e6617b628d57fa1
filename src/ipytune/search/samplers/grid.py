"""Grid search as an Optuna sampler whose cost per trial does not grow with the grid.

Optuna's own ``GridSampler`` scans every trial of the study on each ask, so a
large grid slows down as it fills (quadratic overall). Here each grid point
has an integer id; a seeded permutation fixes the visiting order, ids already
taken are read from the study once, and each trial takes the next free id in
O(1). The id is stored on the trial (``system_attrs``) so a resumed study
skips the points it has already run.

Several processes may run the same grid study at once (``--n-jobs`` workers, two
kernels with the same ``--study``): no point is run twice and none is skipped. A
trial's point depends only on the trials numbered below it: it is the first id, in
the seeded order, that none of them holds. Trial numbers are handed out by the
storage one at a time, so a trial first waits for the lower trials that are still
choosing their point (RUNNING, no id yet, started a moment ago), then reads their ids.
A point chosen this way never changes, so two trials can never both keep one. (Claim,
re-read, "the lowest number keeps it" is not enough: a lower trial that claims *after*
a higher one has re-read and kept the point would keep it too.) A sampler that created
every trial below its next one knows them already: alone on a study, it reads the
study once, on its first trial. A failed point is free again for later executions,
but not within one (``run``: the parallel search whose workers share that rule).

The values of each parameter are its grid values unless given: ``--compare``
runs a coarser grid that fits its budget (see :mod:`.budget`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ipytune.search._optuna import set_trial_system_attr, trial_id
from ipytune.search.recovery import owner_of
from ipytune.search.space import Param

GRID_ID = "ipytune:grid_id"
# A lower trial still without a point after this long is taken for dead (killed while choosing).
CHOOSING_WAIT_S = 10.0


class FastGridSampler(BaseSampler):
    """Visits every combination of ``params``' grid values once, in an order fixed by ``seed``.

    ``values`` (one list per parameter, in order) replaces the parameters' own grid values;
    each value must be one the parameter's distribution contains. ``run`` names the parallel
    search this sampler is a worker of: a point failed by any of its workers stays taken for
    all of them (see the module docstring).
    """

    def __init__(
        self,
        params: Sequence[Param],
        seed: int | None = None,
        values: Sequence[Sequence[Any]] | None = None,
        run: str | None = None,
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
        self._known = 0  # every trial numbered below this one is accounted for in _taken
        self.run = run
        self._assigned: dict[int, int] = {}  # trial id -> grid id
        self._search_space = {p.name: p.distribution() for p in self._params}
        self._fallback = RandomSampler(seed=seed)
        self.exhausted = False

    @property
    def values(self) -> list[list[Any]]:
        """The grid values of each parameter, in order (a worker's sampler is built from them)."""
        return [list(v) for v in self._values]

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
            self._taken = {held for t in study.get_trials(deepcopy=False) if (held := self._held(t)) is not None}
        return self._taken

    def _held(self, trial: FrozenTrial) -> int | None:
        """The point ``trial`` holds, if any: a failed trial holds none, unless it failed in this run."""
        grid_id = trial.system_attrs.get(GRID_ID)
        if grid_id is None:
            return None
        if trial.state == TrialState.FAIL and (self.run is None or owner_of(trial).get("run") != self.run):
            return None
        return int(grid_id)

    def _catch_up(self, study: Study, below: int) -> set[int]:
        """Account for the trials numbered from ``_known`` to ``below``, once each has chosen its point."""
        taken = self._taken if self._taken is not None else set()
        pause = 0.001
        while True:
            choosing = False
            now = datetime.now()
            for t in study.get_trials(deepcopy=False):
                if not self._known <= t.number < below:
                    continue
                held = self._held(t)
                if held is not None:
                    taken.add(held)
                elif (
                    t.state == TrialState.RUNNING
                    and GRID_ID not in t.system_attrs
                    and t.datetime_start is not None
                    and (now - t.datetime_start).total_seconds() < CHOOSING_WAIT_S
                ):
                    choosing = True  # another process's trial, still choosing its point
            if not choosing:
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        self._taken = taken
        self._known = below
        return taken

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if self._taken is None or trial.number != self._known:
            self._catch_up(study, trial.number)  # trials this sampler did not create came first
        taken = self._taken_ids(study)
        self._known = trial.number + 1
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
