"""The ``tune`` object that ``%load_ext ipytune`` puts in the user namespace.

Inside a ``%%tune`` cell, ``tune.int/float/choice`` draw the current trial's
value; the cell's AST has already been rewritten so that every call carries
its inferred ``name=`` (see :mod:`ipytune.search.cell`). Outside a search they say
so instead of guessing a value.
"""

from __future__ import annotations

import builtins  # the methods `int` and `float` shadow the builtins in annotations
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ipytune._context import current_trial
from ipytune.search.space import ChoiceParam, FloatParam, IntParam, Param, SpaceError

if TYPE_CHECKING:
    from ipytune.search.result import TuneResult


class SpaceRecorder:
    """Stands in for a trial while the space is read before the first trial: declarations are recorded, not drawn."""

    def __init__(self) -> None:
        self.params: list[Param] = []


class Tune:
    """Declare hyperparameters in a ``%%tune`` cell: ``tune.int``, ``tune.float``, ``tune.choice``."""

    def __init__(self) -> None:
        self.last: TuneResult | None = None
        """The result of the most recent ``%%tune`` search in this session."""

    def __repr__(self) -> str:
        return "<ipytune.tune: tune.int / tune.float / tune.choice / tune.report; tune.last = last result>"

    # -- declarations -------------------------------------------------------------
    def int(
        self,
        low: builtins.int,
        high: builtins.int,
        step: builtins.int = 1,
        log: bool = False,
        *,
        name: str | None = None,
    ) -> Any:
        """An integer in ``[low, high]`` (both included), every ``step``, optionally log-scaled."""
        return self._draw(IntParam(self._require_name(name, "int"), low, high, step, log))

    def float(
        self,
        low: builtins.float,
        high: builtins.float,
        step: builtins.float | None = None,
        log: bool = False,
        *,
        name: str | None = None,
    ) -> Any:
        """A float in ``[low, high]``; ``step`` makes it discrete, ``log`` samples on a log scale."""
        return self._draw(FloatParam(self._require_name(name, "float"), low, high, step, log))

    def choice(self, options: Sequence[Any], *, name: str | None = None) -> Any:
        """One of ``options`` (any Python objects)."""
        return self._draw(ChoiceParam(self._require_name(name, "choice"), options))  # type: ignore[arg-type]

    # -- inside a trial -----------------------------------------------------------
    def report(self, value: builtins.float, step: builtins.int) -> None:
        """Report an intermediate ``value`` at ``step``; with a pruner on, an unpromising trial stops here."""
        number, step_number = _real(value), _integer(step)
        if number is None or step_number is None:
            raise SpaceError(
                f"tune.report(value, step) takes a number and an integer step, e.g. tune.report(loss, epoch); "
                f"got value={value!r}, step={step!r}."
            )
        trial = current_trial()
        if trial is None or isinstance(trial, SpaceRecorder) or not hasattr(trial, "should_prune"):
            return  # outside a search (or during refit) there is nothing to prune
        trial.report(number, step_number)
        if trial.should_prune():
            import optuna

            raise optuna.TrialPruned(f"pruned at step {step} (value {float(value):.6g})")

    # -- tracking -------------------------------------------------------------------
    def log(self, metrics: dict[str, Any], step: builtins.int | None = None) -> None:
        """Add ``metrics`` to the current trial's trackio run (outside a search: a run of its own)."""
        from ipytune.tracking.api import log

        if step is not None and (_integer(step) is None or step < 0):
            raise SpaceError(
                f"tune.log(metrics, step): step is a whole number from 0, e.g. tune.log({{'loss': loss}}, step=epoch); "
                f"got step={step!r}."
            )
        log(metrics, None if step is None else _integer(step))

    def log_artifact(self, value: Any, name: str | None = None) -> None:
        """Attach a file, a folder or an object (a model: skops, torch state dict, else pickle) to the current run."""
        from ipytune.tracking.api import log_artifact

        log_artifact(value, name)

    def log_image(
        self, image: Any, name: str = "image", step: builtins.int | None = None, caption: str | None = None
    ) -> None:
        """Add a picture (NumPy array, PIL image, matplotlib figure, file path) to the current run as ``name``."""
        from ipytune.tracking.api import log_image

        log_image(image, name, step, caption)

    def track(
        self,
        project: str = "ipytune",
        name: str | None = None,
        config: dict[str, Any] | None = None,
        group: str | None = None,
        tags: str | list[str] | None = None,
        notes: str | None = None,
    ) -> Any:
        """``with tune.track(project=..., name=..., config=..., tags=..., notes=...) as run:`` tracks an
        ordinary cell as one run."""
        from ipytune.tracking.api import track

        return track(project, name, config, group, tags, notes)

    # -- internals ----------------------------------------------------------------
    @staticmethod
    def _require_name(name: str | None, kind: str) -> str:
        if name is not None and not isinstance(name, str):
            raise SpaceError(f"tune.{kind}(..., name={name!r}): a name is a string, e.g. name='depth'.")
        if not name and current_trial() is None:  # typed in an ordinary cell: the name is not what is wrong
            raise SpaceError(
                f"tune.{kind}(...) has a value only inside a %%tune cell; "
                f"after a search, tune.last.best_params holds the best values."
            )
        if not name:
            raise SpaceError(
                f"tune.{kind}(...) has no name: pass it as a keyword argument, assign it to a "
                f"variable, use it as a dict value, or add name='...'."
            )
        return name

    def _draw(self, spec: Param) -> Any:
        trial = current_trial()
        if trial is None:
            raise SpaceError(
                f"tune.{_kind(spec)}({spec.name!r}) has a value only inside a %%tune cell; "
                f"after a search, tune.last.best_params holds the best values."
            )
        if isinstance(trial, SpaceRecorder):
            trial.params.append(spec)
            return spec
        return spec.suggest(trial)


def _real(value: Any) -> builtins.float | None:
    """``value`` as a float if it is a real number (NumPy scalars and 0-d tensors too), else None."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (builtins.int, builtins.float)):
        return None
    return builtins.float(value)


def _integer(value: Any) -> builtins.int | None:
    """``value`` as an int if it is an integer (NumPy integers too, not bools), else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _kind(spec: Param) -> str:
    return {IntParam: "int", FloatParam: "float", ChoiceParam: "choice"}[type(spec)]


tune = Tune()
