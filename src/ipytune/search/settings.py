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
        if self.scoring is not None and self.data is None:  # it would be ignored: the cell's number is the score
            raise UsageError(
                f"--scoring {self.scoring} goes with --data X y: it scores the estimator a cell returns, "
                f"by cross-validation on X and y (a cell that returns a number is its own score)."
            )

    def check_data(self, namespace: dict[str, Any]) -> None:
        """What can be checked before the first trial: the names, the scorer, the rows against the folds.

        Each problem is one line saying what to do; scikit-learn would raise it in every trial.
        """
        missing = [n for n in self.data or () if n not in namespace]
        if missing:
            raise UsageError(f"--data names {', '.join(missing)}, which the notebook has not defined yet.")
        if self.scoring is not None:
            check_scorer(self.scoring)
        if self.data is None:
            return
        x_name, y_name = self.data
        X, y = namespace[x_name], namespace[y_name]
        rows = count_rows(X, x_name)
        if y is not None:  # y=None: an unsupervised estimator, scored on X alone
            targets = count_rows(y, y_name)
            if targets != rows:
                raise UsageError(
                    f"--data {x_name} {y_name}: {x_name} has {rows} rows but {y_name} has {targets}: "
                    f"pass features and targets of the same samples, one row each."
                )
        if rows < self.cv:
            fix = f"pass --cv {rows} or fewer" if rows >= 2 else "cross-validation needs at least 2 rows"
            raise UsageError(f"--cv {self.cv}: {x_name} has {rows} rows, fewer than {self.cv} folds: {fix}.")
        if y is not None and _labels(y):  # text or booleans: only a classifier fits them, on stratified folds
            problem = class_fold_problem(y, self.cv, y_name)
            if problem:
                raise UsageError(problem)


def check_scorer(name: str) -> None:
    """``--scoring`` must be one of scikit-learn's scorer names."""
    import difflib

    from sklearn.metrics import get_scorer_names

    names = get_scorer_names()
    if name in names:
        return
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, close))}?" if close else "e.g. 'accuracy', 'f1', 'roc_auc', 'r2'"
    raise UsageError(
        f"--scoring {name!r} is not a scikit-learn scorer: {hint} (all of them: sklearn.metrics.get_scorer_names())."
    )


def count_rows(data: Any, name: str) -> int:
    """The number of samples in ``data``, as scikit-learn counts them (``shape[0]``, else ``len``)."""
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(data)
    except TypeError:
        raise UsageError(
            f"--data: {name} is a {type(data).__name__}, not rows of samples: "
            f"pass an array, a DataFrame or a list with one row per sample."
        ) from None


def class_fold_problem(y: Any, cv: int, name: str = "y") -> str | None:
    """Why a classifier's stratified ``cv`` folds cannot split ``y`` (every class has fewer rows), or None."""
    import numpy as np
    from sklearn.utils.multiclass import type_of_target

    try:
        labels = np.asarray(y)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels.ravel()
        if labels.ndim != 1 or type_of_target(labels) not in ("binary", "multiclass"):
            return None  # scikit-learn's folds are then not stratified
        largest = int(np.unique(labels, return_counts=True)[1].max())
    except (TypeError, ValueError):  # labels that do not sort: scikit-learn says what is wrong
        return None
    if largest >= cv:
        return None
    fix = f"pass --cv {largest} or fewer" if largest >= 2 else "give each class at least 2 rows"
    return (
        f"--cv {cv}: every class of {name} has fewer than {cv} rows (the largest has {largest}), "
        f"and a classifier's folds are stratified (each holds rows of every class): {fix}."
    )


def _labels(y: Any) -> bool:
    """True when ``y`` holds class labels a regressor cannot take: text or booleans."""
    import numpy as np

    try:
        values = np.asarray(y)
    except (TypeError, ValueError):
        return False
    if values.dtype.kind in "USb":
        return True
    return values.dtype.kind == "O" and all(isinstance(v, (str, bool)) for v in values.ravel()[:100])


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
