"""What a search is asked to do: its vocabularies and its settings, validated once, where they are made.

Every entry point (``%%tune``, ``%automl``, ``ipytune.automl``, the honest features)
builds a :class:`SearchSettings`; a bad value fails there, as one line that names the
flag and the fix. Nothing heavy is imported: this module loads with ``%load_ext``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from IPython.core.error import UsageError

Method = Literal["grid", "random", "tpe", "gp"]
METHODS: tuple[Method, ...] = get_args(Method)
STATIC_METHODS: tuple[Method, ...] = ("grid", "gp")  # these need the whole space before the first trial

Pruner = Literal["median", "hyperband", "halving", "none"]
PRUNERS: tuple[Pruner, ...] = get_args(Pruner)

Direction = Literal["maximize", "minimize"]

StopReason = Literal["completed", "timeout", "interrupted", "grid exhausted", "error", "stopped"]
# The reasons after which a caller running several searches (--compare, --nested, %automl) stops too.
STOPPED_BY_USER: tuple[StopReason, ...] = ("interrupted", "stopped")

DEFAULT_TRIALS = 20

# What a trial may carry in its user attributes (written by the trial, read by results and tracking).
FAIL_REASON = "fail_reason"
CV_SCORES = "cv_scores"
CV_STD = "cv_std"
SEEDS = "seeds"
SEED_VALUES = "seed_values"
SEED_STD = "seed_std"
# Stored on the study: the method it was created with (a resume must use the same).
METHOD_ATTR = "ipytune:method"


def check_method(method: str, flag: str = "--method") -> Method:
    if method not in METHODS:
        raise UsageError(f"{flag} {method!r} is not one of {', '.join(METHODS)}.")
    return method


def check_cv(cv: int) -> None:
    if cv < 2:
        raise UsageError(f"--cv {cv}: cross-validation needs at least 2 folds.")


@dataclass(frozen=True)
class Scoring:
    """How an estimator returned by the cell is scored (``--data``, ``--cv``, ``--scoring``)."""

    data: tuple[str, str] | None = None
    cv: int = 5
    scoring: str | None = None

    def __post_init__(self) -> None:
        check_cv(self.cv)

    def check_data(self, namespace: dict[str, Any]) -> None:
        missing = [n for n in self.data or () if n not in namespace]
        if missing:
            raise UsageError(f"--data names {', '.join(missing)}, which the notebook has not defined yet.")


@dataclass(frozen=True)
class SearchSettings:
    """One search: which method, how long, in which direction, where its study lives, how trials are scored."""

    method: Method = "tpe"
    n_trials: int | None = None
    timeout: float | None = None
    direction: Direction = "maximize"
    seed: int | None = None
    study_name: str | None = None
    storage: str | None = field(default=None, repr=False)  # a URL may hold a password: never shown
    catch: bool = False
    scoring: Scoring = field(default_factory=Scoring)
    prune: Pruner = "none"
    seeds: tuple[int, ...] | None = None  # --seeds: every trial runs once per seed
    deterministic: bool = False  # with a seed: also PyTorch's determinism switches

    def __post_init__(self) -> None:
        check_method(self.method)
        if self.n_trials is not None and self.n_trials < 1:
            raise UsageError(f"--trials {self.n_trials}: run at least 1 trial.")
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError(f"--timeout {self.timeout:g}: give a positive number of seconds.")
        if self.prune not in PRUNERS:
            raise UsageError(f"--prune {self.prune!r} is not one of {', '.join(PRUNERS)}.")
        if self.direction not in get_args(Direction):
            raise UsageError(f"direction {self.direction!r}: use --maximize or --minimize.")

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def run_seeds(self) -> tuple[int, ...]:
        """The seeds every trial runs under: --seeds, else --seed alone, else none (RNGs left as they are)."""
        if self.seeds:
            return self.seeds
        return () if self.seed is None else (self.seed,)
