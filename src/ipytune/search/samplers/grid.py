"""Grid search as an Optuna sampler whose cost per trial does not grow with the grid.

Optuna's own ``GridSampler`` scans every trial of the study on each ask, so a
large grid slows down as it fills (quadratic overall). Here each grid point
has an integer id; a seeded permutation fixes the visiting order, ids already
taken are read from the study once, and each trial takes the next free id in
O(1). The id is stored on the trial (``system_attrs``). The permutation is computed
a block at a time (:class:`~.order.SeededOrder`) and the values are ranges, so nothing
of the grid's size is built: 10^12 points start as fast as 10.

Ids count the parameters sorted by name, not in declaration order. The grid's definition
is stored on the study (``GRID_ATTR``) when it is first read; a resumed study whose cell
declares another grid is one line, before any trial, asking for a new ``--study``. The
points old trials hold are read from their parameter values, not from their stored ids.

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

import json
import math
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from IPython.core.error import UsageError
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ipytune.search._optuna import set_trial_system_attr, trial_id
from ipytune.search.recovery import owner_of
from ipytune.search.samplers.order import SeededOrder
from ipytune.search.space import FloatParam, IntParam, Param

# A trial's point, as an id of the grid with its parameters sorted by name (ids of earlier
# versions, "ipytune:grid_id", counted in declaration order: they are not read).
GRID_ID = "ipytune:grid_point"
# Stored on the study: the grid's definition, so that a resume can tell whether the cell still declares it.
GRID_ATTR = "ipytune:grid"
# A lower trial still without a point after this long is taken for dead (killed while choosing).
CHOOSING_WAIT_S = 10.0


# -- one parameter's values, without a list of them ---------------------------------------------------
class Values(Protocol):
    """A parameter's grid values: how many, the i-th, and where a value is (ValueError: not there)."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def index(self, value: Any) -> int: ...


class Steps:
    """``tune.float(low, high, step=...)``'s grid values, as ``FloatParam.grid_values`` gives them, lazily."""

    def __init__(self, low: float, step: float, count: int) -> None:
        self.low, self.step, self.count = low, step, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> float:
        if not 0 <= index < self.count:
            raise IndexError(index)
        return round(self.low + index * self.step, 12)

    def __iter__(self) -> Iterator[float]:
        return (self[i] for i in range(self.count))

    def index(self, value: Any) -> int:
        near = round((float(value) - self.low) / self.step)
        for i in (near, near - 1, near + 1):
            if 0 <= i < self.count and self[i] == value:
                return i
        raise ValueError(f"{value!r} is not a grid value")


class Listed:
    """Explicit values (choices, a budget grid's levels), found by a dict."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = list(values)
        try:
            self._where: dict[Any, int] | None = {v: i for i, v in enumerate(self.values)}
        except TypeError:  # unhashable values: found by a scan
            self._where = None

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> Any:
        return self.values[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def index(self, value: Any) -> int:
        if self._where is None:
            return self.values.index(value)
        try:
            return self._where[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a grid value") from None


class Ints:
    """``tune.int``'s grid values: a ``range`` whose ``index`` takes only integers (``range`` scans others)."""

    def __init__(self, low: int, high: int, step: int) -> None:
        self.range = range(low, high + 1, step)
        self.count = (high - low) // step + 1  # len() stops at 2^63

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> int:
        return self.range[index]

    def __iter__(self) -> Iterator[int]:
        return iter(self.range)

    def index(self, value: Any) -> int:
        if isinstance(value, (bool, float)) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not an integer")
        return self.range.index(value)


def grid_values(param: Param) -> Values:
    """``param.grid_values()``, lazily for numbers (a range of a million integers is not a list)."""
    if isinstance(param, IntParam):
        return Ints(param.low, param.high, param.step)
    if isinstance(param, FloatParam) and param.step is not None:
        return Steps(param.low, param.step, math.floor((param.high - param.low) / param.step + 1e-9) + 1)
    return Listed(param.grid_values())  # a choice; a continuous float raises its one-line error here


def describe(values: Values) -> dict[str, Any]:
    """What ``values`` are, in a form a study stores (JSON) and compares."""
    if isinstance(values, Ints):
        r = values.range
        return {"int": [r.start, r[-1], r.step]}
    if isinstance(values, Steps):
        return {"float": [values.low, values.step, values.count]}
    return {"values": list(values)}


def show(definition: list[dict[str, Any]]) -> str:
    """A grid's definition as the cell declares it: ``a=1..4, b in ['x', 'y']``."""
    parts = []
    for axis in definition:
        name = axis.get("name")
        if "int" in axis:
            low, last, step = axis["int"]
            parts.append(f"{name}={low}..{last}" + ("" if step == 1 else f" step {step}"))
        elif "float" in axis:
            low, step, count = axis["float"]
            parts.append(f"{name}={low:g}..{round(low + (count - 1) * step, 12):g} step {step:g}")
        else:
            values = list(axis.get("values", []))
            shown = ", ".join(repr(v) for v in values[:5])
            more = f", ...] ({len(values)} values)" if len(values) > 5 else "]"
            parts.append(f"{name} in [{shown}{more}")
    return ", ".join(parts)


def _count(values: Values) -> int:
    """How many values (``len`` cannot say past 2^63)."""
    return values.count if isinstance(values, (Ints, Steps)) else len(values)


def _indexable(values: Values) -> Any:
    """What ``values[i]`` reads fastest: the range or list behind them, else themselves."""
    if isinstance(values, Ints):
        return values.range
    return values.values if isinstance(values, Listed) else values


def _plain(value: Any) -> Any:
    """As JSON would give it back (tuples become lists): a stored definition and a new one compare equal."""
    return json.loads(json.dumps(value))


class FastGridSampler(BaseSampler):
    """Visits every combination of ``params``' grid values once, in an order fixed by ``seed``.

    ``values`` (one sequence per parameter, in order) replaces the parameters' own grid values;
    each value must be one the parameter's distribution contains. ``run`` names the parallel
    search this sampler is a worker of: a point failed by any of its workers stays taken for
    all of them (see the module docstring); the kernel that started the workers has checked
    the study's grid already.
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
            self._values: list[Values] = [grid_values(p) for p in self._params]
        else:
            self._values = [v if isinstance(v, (Ints, Steps, Listed)) else Listed(v) for v in values]
            if len(self._values) != len(self._params) or not all(_count(v) for v in self._values):
                raise ValueError(
                    f"FastGridSampler: values must give a non-empty list for each of the {len(self._params)} "
                    f"parameters, in order; got {len(self._values)} lists."
                )
        # ids count the parameters sorted by name: the declarations' order does not change a point's id
        self._axes = sorted(zip((p.name for p in self._params), self._values, strict=True), key=lambda a: a[0])
        self.size = math.prod(_count(v) for _, v in self._axes)
        # per axis: name, values as fast to index as they come (a range, a list), count
        self._digits = [(name, _indexable(values), _count(values)) for name, values in self._axes]
        self._order = SeededOrder(self.size, seed)
        self._position = 0  # next index into _order to consider
        self._taken: set[int] | None = None  # grid ids already run in this study
        self._known = 0  # every trial numbered below this one is accounted for in _taken
        self._checked = False  # the study's grid is this one (GRID_ATTR)
        self.run = run
        self._assigned: dict[int, int] = {}  # trial id -> grid id
        self._search_space = {p.name: p.distribution() for p in self._params}
        self._fallback = RandomSampler(seed=seed)
        self.exhausted = False

    @property
    def values(self) -> list[Values]:
        """The grid values of each parameter, in order (a worker's sampler is built from them)."""
        return list(self._values)

    @property
    def definition(self) -> list[dict[str, Any]]:
        """The grid, as stored on its study: each parameter's name and values, sorted by name."""
        definition: list[dict[str, Any]] = _plain([{"name": n, **describe(v)} for n, v in self._axes])
        return definition

    def remaining(self, study: Study) -> int:
        return self.size - len(self._taken_ids(study))

    def point(self, grid_id: int) -> dict[str, Any]:
        """The parameter values of one grid id (mixed-radix decoding, parameters sorted by name)."""
        params = {}
        for name, values, count in self._digits:
            grid_id, index = divmod(grid_id, count)
            params[name] = values[index]
        return params

    def grid_id(self, params: dict[str, Any]) -> int | None:
        """The id of the point ``params`` hold, or None when they hold no point of this grid."""
        grid_id, stride = 0, 1
        for name, values in self._axes:
            if name not in params:
                return None
            try:
                grid_id += values.index(params[name]) * stride
            except ValueError:
                return None
            stride *= _count(values)
        return grid_id

    # -- the study's grid ------------------------------------------------------------------------------
    def check_study(self, study: Study, trials: Sequence[FrozenTrial]) -> None:
        """Store this grid on a new study; on a resumed one, make sure the cell still declares its grid.

        The same parameters and values in another declaration order are the same grid. Another
        grid is one line before any trial runs: its ids and its trials' points mean other points.
        ``trials`` are the study's (a study of an earlier version, with no grid stored, is read from them).
        """
        if self._checked:
            return
        self._checked = True
        if self.run is not None:  # a worker: the kernel that started it checked the study
            return
        mine = self.definition
        stored = study.user_attrs.get(GRID_ATTR)
        if stored is not None:
            if _plain(stored) != mine:
                self._changed(study, f"was a grid over {show(_plain(stored))}")
            return
        names = {name for name, _ in self._axes}
        for t in trials:
            if t.state == TrialState.COMPLETE and (set(t.params) != names or self.grid_id(t.params) is None):
                ran = ", ".join(f"{k}={v!r}" for k, v in sorted(t.params.items()))
                self._changed(study, f"ran trial {t.number} at {ran}, a point outside this grid")
        study.set_user_attr(GRID_ATTR, mine)

    def _changed(self, study: Study, before: str) -> None:
        raise UsageError(
            f"study {study.study_name!r} {before}; the cell now declares {show(self.definition)}: "
            f"pass a new --study (or declare the grid as it was, to resume it)."
        )

    # -- which points are taken ---------------------------------------------------------------------------
    def _taken_ids(self, study: Study) -> set[int]:
        if self._taken is None:
            trials = study.get_trials(deepcopy=False)
            self.check_study(study, trials)
            self._taken = {held for t in trials if (held := self._held(t)) is not None}
        return self._taken

    def _held(self, trial: FrozenTrial) -> int | None:
        """The point ``trial`` holds, if any: a failed trial holds none, unless it failed in this run.

        Read from its values; a trial that has not drawn them all yet holds the id it stored.
        """
        if trial.state == TrialState.FAIL and (self.run is None or owner_of(trial).get("run") != self.run):
            return None
        held = self.grid_id(trial.params)
        if held is not None:
            return held
        grid_id = trial.system_attrs.get(GRID_ID)
        return None if grid_id is None else int(grid_id)

    def _catch_up(self, study: Study, below: int) -> set[int]:
        """Account for the trials numbered from ``_known`` to ``below``, once each has chosen its point."""
        taken = self._taken if self._taken is not None else set()
        pause = 0.001
        while True:
            choosing = False
            now = datetime.now()
            trials = study.get_trials(deepcopy=False)
            self.check_study(study, trials)
            for t in trials:
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
        order, size = self._order, self.size
        while self._position < size and order[self._position] in taken:
            self._position += 1
        if self._position >= size:
            self.exhausted = True
            return  # nothing left: the search loop sees `exhausted` and stops
        grid_id = order[self._position]
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
