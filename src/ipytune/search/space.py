"""Search-space parameters: what one ``tune.int/float/choice`` call declares.

A spec is validated when it is made, so a bad declaration fails before any
trial runs and names the parameter. Specs know how to become an Optuna
distribution, a list of grid values, and how to draw from an Optuna trial.
Nothing heavy is imported at module level: this module loads with ``%load_ext``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution


# A declaration that cannot be used. IPython prints exactly `UsageError` as one
# line (it tests the type with `is`), so this is an alias, not a subclass.
SpaceError = UsageError


# Values Optuna can store as categorical choices as they are.
_PLAIN_TYPES = (type(None), bool, int, float, str)


@dataclass(frozen=True)
class IntParam:
    name: str
    low: int
    high: int
    step: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        for bound in ("low", "high", "step"):
            value = getattr(self, bound)
            if isinstance(value, bool) or (not isinstance(value, int) and not _is_integral(value)):
                raise SpaceError(f"tune.int {self.name!r}: {bound}={value!r} is not an integer.")
            object.__setattr__(self, bound, int(value))
        _check_range("tune.int", self.name, self.low, self.high, self.log)
        if self.step < 1:
            raise SpaceError(f"tune.int {self.name!r}: step={self.step} must be at least 1.")
        if self.log and self.step != 1:
            raise SpaceError(f"tune.int {self.name!r}: log=True works with step=1 only.")

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import IntDistribution

        return IntDistribution(self.low, self.high, log=self.log, step=self.step)

    def grid_values(self) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))

    def suggest(self, trial: Any) -> int:
        return int(trial.suggest_int(self.name, self.low, self.high, step=self.step, log=self.log))


@dataclass(frozen=True)
class FloatParam:
    name: str
    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __post_init__(self) -> None:
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if isinstance(value, bool) or not _is_real(value):
                raise SpaceError(f"tune.float {self.name!r}: {bound}={value!r} is not a number.")
            object.__setattr__(self, bound, float(value))
        _check_range("tune.float", self.name, self.low, self.high, self.log)
        if self.step is not None:
            if not _is_real(self.step) or self.step <= 0:
                raise SpaceError(f"tune.float {self.name!r}: step={self.step!r} must be a positive number.")
            if self.log:
                raise SpaceError(f"tune.float {self.name!r}: log=True cannot be combined with step.")
            object.__setattr__(self, "step", float(self.step))

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def grid_values(self) -> list[Any]:
        if self.step is None:
            raise SpaceError(
                f"tune.float {self.name!r} is continuous and a grid needs a finite set of values: "
                f"write tune.float({self.low:g}, {self.high:g}, step=...) or "
                f"tune.choice([...]) for grid search, or use --method random/tpe/gp."
            )
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [round(self.low + i * self.step, 12) for i in range(count)]

    def suggest(self, trial: Any) -> float:
        return float(trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log))


@dataclass(frozen=True)
class ChoiceParam:
    name: str
    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence):
            raise SpaceError(f"tune.choice {self.name!r}: options must be a list, e.g. tune.choice(['a', 'b']).")
        object.__setattr__(self, "options", tuple(self.options))
        if not self.options:
            raise SpaceError(f"tune.choice {self.name!r}: the list of options is empty.")
        if len(set(self.labels)) != len(self.labels):
            raise SpaceError(f"tune.choice {self.name!r}: options {list(self.labels)} repeat a value.")

    @property
    def plain(self) -> bool:
        """True when Optuna can store the options themselves (None, bool, int, float, str)."""
        return all(type(option) in _PLAIN_TYPES for option in self.options)

    @property
    def labels(self) -> tuple[Any, ...]:
        """What is stored in the study: the options, or their reprs for other objects."""
        if self.plain:
            return self.options
        return tuple(_label(option) for option in self.options)

    def from_label(self, label: Any) -> Any:
        return self.options[self.labels.index(label)]

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(self.labels)

    def grid_values(self) -> list[Any]:
        return list(self.labels)

    def suggest(self, trial: Any) -> Any:
        return self.from_label(trial.suggest_categorical(self.name, self.labels))


Param = IntParam | FloatParam | ChoiceParam


def _label(option: Any) -> str:
    if isinstance(option, type):
        return option.__name__
    return repr(option)


def _is_real(value: Any) -> bool:
    if isinstance(value, (str, bytes)):  # float('1') would take a quoted number: a typo, not a bound
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _is_integral(value: Any) -> bool:
    return _is_real(value) and float(value) == int(value) and not isinstance(value, float)


def _check_range(kind: str, name: str, low: float, high: float, log: bool) -> None:
    if low > high:
        raise SpaceError(f"{kind} {name!r}: low={low} is greater than high={high}.")
    if log and low <= 0:
        raise SpaceError(f"{kind} {name!r}: log=True needs low > 0 (got low={low}).")
