"""DIY AutoML (``ipytune.automl``): one tuned search per family, a leaderboard over a dummy floor, a recommendation.

A private module so that importing it never shadows the ``ipytune.automl`` function.

Each family is written as an ordinary ``%%tune`` cell (its ``source``), run by
ipytune's engine as its own study: the same space reading, cross-validation,
storage and observers as any search. All families are scored on the same CV
folds, so their scores compare. The leaderboard starts with the dummy floor
(what predicting the majority class / the mean scores), and when a simple
interpretable model (logistic or linear regression) is within ``tolerance``
of the best, the result says so and recommends it.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ipytune.search.storage import fresh_study_name

if TYPE_CHECKING:
    import pandas as pd

    from ipytune.search.result import TuneResult

TASKS = ("classification", "regression")
DEFAULT_TRIALS = 20
DEFAULT_TOLERANCE = 0.01
MAX_CLASSES = 20  # an integer target with more distinct values than this is taken as a quantity


@dataclass(frozen=True)
class Family:
    """A model family: its search space as a ``%%tune`` cell that ends with an unfitted estimator."""

    name: str
    label: str
    source: str
    simple: bool = False  # the interpretable baseline the recommendation compares against


_SCALED = "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"

CLASSIFIERS = (
    Family(
        "logistic",
        "LogisticRegression",
        _SCALED + "from sklearn.linear_model import LogisticRegression\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), LogisticRegression(C=tune.float(1e-3, 1e3, log=True), max_iter=2000))\n",
        simple=True,
    ),
    Family(
        "knn",
        "KNeighborsClassifier",
        _SCALED + "from sklearn.neighbors import KNeighborsClassifier\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), KNeighborsClassifier(\n"
        "    n_neighbors=tune.int(1, MAX_NEIGHBORS), weights=tune.choice(['uniform', 'distance'])))\n",
    ),
    Family(
        "svm",
        "SVC (RBF)",
        _SCALED + "from sklearn.svm import SVC\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), SVC(C=tune.float(1e-2, 1e3, log=True), gamma=tune.float(1e-4, 1.0, log=True)))\n",
    ),
    Family(
        "random_forest",
        "RandomForestClassifier",
        "from sklearn.ensemble import RandomForestClassifier\n"
        "RandomForestClassifier(\n"
        "    n_estimators=tune.int(50, 300, step=50), max_depth=tune.int(2, 20),\n"
        "    min_samples_leaf=tune.int(1, 10), max_features=tune.float(0.1, 1.0), random_state=SEED)\n",
    ),
    Family(
        "gradient_boosting",
        "GradientBoostingClassifier",
        "from sklearn.ensemble import GradientBoostingClassifier\n"
        "GradientBoostingClassifier(\n"
        "    n_estimators=tune.int(50, 300, step=50), learning_rate=tune.float(0.01, 0.3, log=True),\n"
        "    max_depth=tune.int(1, 5), subsample=tune.float(0.5, 1.0), random_state=SEED)\n",
    ),
    Family(
        "extra_trees",
        "ExtraTreesClassifier",
        "from sklearn.ensemble import ExtraTreesClassifier\n"
        "ExtraTreesClassifier(\n"
        "    n_estimators=tune.int(50, 300, step=50), max_depth=tune.int(2, 20),\n"
        "    min_samples_leaf=tune.int(1, 10), max_features=tune.float(0.1, 1.0), random_state=SEED)\n",
    ),
)

REGRESSORS = (
    Family(
        "linear",
        "Ridge (linear)",
        _SCALED + "from sklearn.linear_model import Ridge\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), Ridge(alpha=tune.float(1e-3, 1e3, log=True)))\n",
        simple=True,
    ),
    Family(
        "knn",
        "KNeighborsRegressor",
        _SCALED + "from sklearn.neighbors import KNeighborsRegressor\n"
        "make_pipeline(StandardScaler(with_mean=not SPARSE), KNeighborsRegressor(\n"
        "    n_neighbors=tune.int(1, MAX_NEIGHBORS), weights=tune.choice(['uniform', 'distance'])))\n",
    ),
    Family(
        "svm",
        "SVR (RBF)",
        _SCALED + "from sklearn.compose import TransformedTargetRegressor\nfrom sklearn.svm import SVR\n"
        "TransformedTargetRegressor(\n"
        "    make_pipeline(StandardScaler(with_mean=not SPARSE), SVR(C=tune.float(1e-2, 1e3, log=True),\n"
        "                  gamma=tune.float(1e-4, 1.0, log=True), epsilon=tune.float(0.01, 1.0, log=True))),\n"
        "    transformer=StandardScaler())\n",
    ),
    Family(
        "random_forest",
        "RandomForestRegressor",
        "from sklearn.ensemble import RandomForestRegressor\n"
        "RandomForestRegressor(\n"
        "    n_estimators=tune.int(50, 300, step=50), max_depth=tune.int(2, 20),\n"
        "    min_samples_leaf=tune.int(1, 10), max_features=tune.float(0.1, 1.0), random_state=SEED)\n",
    ),
    Family(
        "gradient_boosting",
        "GradientBoostingRegressor",
        "from sklearn.ensemble import GradientBoostingRegressor\n"
        "GradientBoostingRegressor(\n"
        "    n_estimators=tune.int(50, 300, step=50), learning_rate=tune.float(0.01, 0.3, log=True),\n"
        "    max_depth=tune.int(1, 5), subsample=tune.float(0.5, 1.0), random_state=SEED)\n",
    ),
    Family(
        "extra_trees",
        "ExtraTreesRegressor",
        "from sklearn.ensemble import ExtraTreesRegressor\n"
        "ExtraTreesRegressor(\n"
        "    n_estimators=tune.int(50, 300, step=50), max_depth=tune.int(2, 20),\n"
        "    min_samples_leaf=tune.int(1, 10), max_features=tune.float(0.1, 1.0), random_state=SEED)\n",
    ),
)

FAMILIES = {"classification": CLASSIFIERS, "regression": REGRESSORS}


# -- input checks ---------------------------------------------------------------
def detect_task(y: Any) -> str:
    """classification for labels and small sets of integers, regression for quantities."""
    import numpy as np
    from sklearn.utils.multiclass import type_of_target

    try:
        kind = type_of_target(y)
    except ValueError as error:
        raise UsageError(f"y cannot be used as a target: {error}") from None
    if kind == "continuous":
        return "regression"
    if kind in ("binary", "multiclass"):
        values = np.asarray(y)
        numeric = values.dtype.kind in "iuf"
        if numeric and len(np.unique(values)) > MAX_CLASSES:
            return "regression"
        return "classification"
    raise UsageError(f"y is a {kind} target; %automl handles one column of class labels or numbers: pass a 1-d y.")


def check_data(X: Any, y: Any, task: str | None, cv: int) -> str:
    """Validate ``X``/``y`` for ``task`` (detected when None) and return the task."""
    import numpy as np
    import pandas as pd

    if task is not None and task not in TASKS:
        raise UsageError(f"--task {task!r} is not one of {', '.join(TASKS)}.")
    rows = X.shape[0] if hasattr(X, "shape") else len(X)  # sparse matrices have no len()
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1:
        raise UsageError(f"y has shape {values.shape}: %automl needs one target column.")
    if rows != len(values):
        raise UsageError(f"X has {rows} rows but y has {len(values)}: pass features and target of the same rows.")
    target = pd.Series(values)
    if target.isna().any():
        raise UsageError(f"y has {int(target.isna().sum())} missing values: drop those rows or fill them first.")
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame: name the columns to encode
        text = [str(c) for c in X.columns if X[c].dtype.kind not in "biuf"]
    elif hasattr(X, "dtype") and X.dtype.kind not in "biuf":
        text = [f"an array of dtype {X.dtype}"]
    elif not hasattr(X, "dtype"):
        kind = np.asarray(X).dtype.kind
        text = [] if kind in "biuf" else [f"values of dtype {np.asarray(X).dtype}"]
    else:
        text = []
    if text:
        raise UsageError(
            f"X has non-numeric columns ({', '.join(text[:5])}): encode them first "
            f"(e.g. a OneHotEncoder in a Pipeline, or pd.get_dummies)."
        )
    numeric_target = target.dtype.kind in "biuf"
    detected = detect_task(target.to_numpy())
    if task == "regression" and not numeric_target:
        example = target.iloc[0]
        raise UsageError(
            f"--task regression needs a numeric target, but y holds labels (e.g. {example!r}): "
            f"use --task classification, or encode y as numbers."
        )
    if task == "classification" and detected == "regression" and target.dtype.kind == "f":
        raise UsageError(
            f"--task classification, but y looks continuous ({target.nunique()} distinct values): "
            f"use --task regression, or bin y into classes."
        )
    task = task or detected
    if task == "classification":
        counts = target.value_counts()
        if counts.min() < cv:
            raise UsageError(
                f"class {counts.idxmin()!r} has {counts.min()} rows, fewer than --cv {cv} folds: "
                f"lower --cv or collect more rows of that class."
            )
    return task


def choose_families(task: str, names: Sequence[str] | None) -> list[Family]:
    available = {f.name: f for f in FAMILIES[task]}
    if not names:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(
            f"unknown {task} famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
            f"choose from {', '.join(available)}."
        )
    return [available[n] for n in names]


# -- results --------------------------------------------------------------------
@dataclass
class FamilyRun:
    family: Family
    search: TuneResult
    seconds: float

    @property
    def best(self) -> float:
        value = self.search.best_value
        return math.nan if value is None else value

    @property
    def std(self) -> float:
        trial = self.search.best_trial
        return math.nan if trial is None else float(trial.user_attrs.get("cv_std", math.nan))


@dataclass
class AutoMLResult:
    """What ``%automl`` / ``ipytune.automl`` returns.

    ``leaderboard`` (DataFrame: dummy floor first, then families best first),
    ``winner`` (family name), ``best_estimator`` (the winner's best pipeline,
    refitted on all the data), ``recommendation`` (one sentence),
    ``recommended`` (the family it recommends), ``searches`` (family →
    ``TuneResult``), ``nested`` (outer-fold estimate of the whole procedure,
    with ``--nested``).
    """

    task: str
    scoring: str
    cv: int
    tolerance: float
    floor: float
    floor_std: float
    runs: list[FamilyRun] = field(default_factory=list)
    best_estimator: Any = None
    nested: Any = None
    notes: list[str] = field(default_factory=list)
    _programs: dict[str, Any] = field(default_factory=dict, repr=False)
    _namespace: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def searches(self) -> dict[str, TuneResult]:
        return {r.family.name: r.search for r in self.runs}

    @property
    def ranked(self) -> list[FamilyRun]:
        finished = [r for r in self.runs if not math.isnan(r.best)]
        return sorted(finished, key=lambda r: r.best, reverse=True)

    @property
    def winner(self) -> str | None:
        ranked = self.ranked
        return ranked[0].family.name if ranked else None

    @property
    def best_params(self) -> dict[str, Any]:
        return {} if self.winner is None else self.searches[self.winner].best_params

    @property
    def leaderboard(self) -> pd.DataFrame:
        import pandas as pd

        dummy = "DummyClassifier (prior)" if self.task == "classification" else "DummyRegressor (mean)"
        rows = [
            {
                "family": "dummy",
                "model": dummy,
                "trials": 1,
                "best CV": self.floor,
                "std": self.floor_std,
                "fit time (s)": math.nan,
                "best params": "",
            }
        ]
        for r in self.ranked + [r for r in self.runs if math.isnan(r.best)]:
            rows.append(
                {
                    "family": r.family.name,
                    "model": r.family.label,
                    "trials": len(r.search.study.trials),
                    "best CV": r.best,
                    "std": r.std,
                    "fit time (s)": r.seconds,
                    "best params": ", ".join(f"{k}={_short(v)}" for k, v in r.search.best_params.items()),
                }
            )
        return pd.DataFrame(rows)

    @property
    def recommended(self) -> str | None:
        """The simple family when it is within ``tolerance`` of the winner, else the winner."""
        ranked = self.ranked
        if not ranked:
            return None
        simple = next((r for r in ranked if r.family.simple), None)
        if simple is not None and ranked[0].best - simple.best <= self.tolerance:
            return simple.family.name
        return ranked[0].family.name

    @property
    def recommendation(self) -> str:
        ranked = self.ranked
        if not ranked:
            return "no family finished a trial: nothing to recommend."
        best = ranked[0]
        lead = f"{best.family.label} {best.best:.4f}"
        noise = best.std if not math.isnan(best.std) else DEFAULT_TOLERANCE
        if best.best - self.floor <= noise:
            return (
                f"no model beats the dummy floor ({self.floor:.4f}) by more than the spread of its CV scores "
                f"({noise:.4f}): the features may not predict this target; check the data before tuning further."
            )
        simple = next((r for r in ranked if r.family.simple), None)
        if simple is None:
            return f"{lead} is the best; no simple baseline (logistic/linear) was in the run to compare with."
        gap = best.best - simple.best
        if simple is best:
            return (
                f"{simple.family.label} is the best model here ({simple.best:.4f}): keep the simple, interpretable one."
            )
        if gap <= self.tolerance:
            return (
                f"recommend {simple.family.label} ({simple.best:.4f}): within {gap:.4f} of the best ({lead}), inside "
                f"the tolerance of {self.tolerance:g}; it is interpretable, fast and less prone to overfit."
            )
        return (
            f"{lead} beats {simple.family.label} ({simple.best:.4f}) by {gap:.4f}, more than the tolerance of "
            f"{self.tolerance:g}: the extra complexity pays here."
        )

    def refit(self, family: str) -> Any:
        """The best configuration of ``family``, fitted on all the data (e.g. the recommended one)."""
        from ipytune.search.trial import Scoring, refit

        search = self.searches.get(family)
        if search is None or search.best_trial is None:
            raise UsageError(f"{family!r} has no finished search here: choose from {', '.join(self.searches)}.")
        namespace = dict(self._namespace)
        return refit(self._programs[family], namespace, search.stored_best_params, Scoring(("X", "y"), self.cv))

    def headline(self) -> str:
        winner = self.winner
        best = "" if winner is None else f" · winner {winner} {self.ranked[0].best:.4f}"
        return f"automl · {self.task} · {self.scoring}, {self.cv}-fold CV · floor {self.floor:.4f}{best}"

    def _lines(self) -> list[str]:
        lines = [f"recommendation: {self.recommendation}"]
        if self.nested is not None:
            lines.append(self.nested.headline())
        return lines + self.notes

    def __repr__(self) -> str:
        table = self.leaderboard.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="")
        return "\n".join([self.headline(), table, *self._lines()])

    def _repr_html_(self) -> str:
        table = self.leaderboard.to_html(index=False, float_format="%.4f", na_rep="")
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self._lines())
        return f"<div class='ipytune-automl'><b>{html.escape(self.headline())}</b>{table}<ul>{items}</ul></div>"


@dataclass
class AutoMLNested:
    """The whole AutoML procedure, scored on outer folds it never saw."""

    k: int
    winners: list[str] = field(default_factory=list)
    inner: list[float] = field(default_factory=list)
    outer_scores: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.outer_scores) / len(self.outer_scores)

    @property
    def std(self) -> float:
        m = self.mean
        return math.sqrt(sum((s - m) ** 2 for s in self.outer_scores) / len(self.outer_scores))

    @property
    def gap(self) -> float:
        return sum(self.inner) / len(self.inner) - self.mean

    def headline(self) -> str:
        from ipytune.honest.nested import GAP_MEANING

        return (
            f"nested ({self.k} outer folds, winners {', '.join(self.winners)}): outer {self.mean:.4f} ± "
            f"{self.std:.4f} · inner winner CV {sum(self.inner) / len(self.inner):.4f} · gap {self.gap:+.4f}. "
            + GAP_MEANING
        )


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# -- the procedure --------------------------------------------------------------
def automl(
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    families: Sequence[str] | None = None,
    method: str = "tpe",
    trials: int | None = None,
    timeout: float | None = None,
    cv: int = 5,
    scoring: str | None = None,
    nested: int | None = None,
    seed: int | None = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    storage: str | None = None,
    study: str | None = None,
    quiet: bool = True,
    observers_for: Callable[[str], list[Any]] | None = None,
) -> AutoMLResult:
    """Tune every model family on ``X``/``y`` and rank them over a dummy floor.

    ``trials`` per family (default 20) or ``timeout`` seconds overall (shared
    among the families: time one leaves goes to the next). ``nested=K`` also
    runs the whole procedure inside an outer K-fold loop for an honest estimate
    of the winner's score. Returns an :class:`AutoMLResult` whose
    ``best_estimator`` is the winner refitted on all the data.
    """
    from ipytune.search.settings import METHODS

    if method not in METHODS:
        raise UsageError(f"--method {method!r} is not one of {', '.join(METHODS)}.")
    if trials is not None and trials < 1:
        raise UsageError(f"--trials {trials}: run at least 1 trial per family.")
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout {timeout:g}: give a positive number of seconds.")
    if cv < 2:
        raise UsageError(f"--cv {cv}: cross-validation needs at least 2 folds.")
    if nested is not None and nested < 2:
        raise UsageError(f"--nested {nested}: the outer loop needs at least 2 folds.")
    task = check_data(X, y, task, cv)
    chosen = choose_families(task, families)
    if observers_for is None:
        from ipytune.search.progress import make_progress

        def observers_for(name: str) -> list[Any]:
            return [make_progress(name, quiet, in_kernel=False)]

    prefix = study or fresh_study_name("automl")
    options: dict[str, Any] = {
        "method": method,
        "trials": trials,
        "timeout": timeout,
        "cv": cv,
        "scoring": scoring,
        "seed": seed,
        "tolerance": tolerance,
        "storage": storage,
    }
    result = _search_families(X, y, task, chosen, prefix, observers_for, **options)
    if nested is not None:
        result.nested = _nested(X, y, task, chosen, nested, prefix, observers_for, **options)
    return result


def _search_families(
    X: Any,
    y: Any,
    task: str,
    chosen: list[Family],
    prefix: str,
    observers_for: Callable[[str], list[Any]],
    *,
    method: str,
    trials: int | None,
    timeout: float | None,
    cv: int,
    scoring: str | None,
    seed: int | None,
    tolerance: float,
    storage: str | None,
    refit_best: bool = True,
) -> AutoMLResult:
    from sklearn.model_selection import cross_val_score

    from ipytune.honest.compare import prepare_on_budget
    from ipytune.search.cell import parse_cell
    from ipytune.search.declarations import tune
    from ipytune.search.engine import SearchSettings, run_search
    from ipytune.search.result import TuneResult
    from ipytune.search.trial import Scoring, refit

    dummy = _dummy(task)
    floor_scores = cross_val_score(dummy, X, y, cv=cv, scoring=scoring)
    # the smallest training part of a CV split bounds k of a nearest-neighbour model
    max_neighbors = max(1, min(30, len(y) - math.ceil(len(y) / cv) - 1))
    sparse = hasattr(X, "tocsr")  # scaling must not centre a sparse matrix (it would densify it)
    namespace = {"X": X, "y": y, "SEED": seed, "MAX_NEIGHBORS": max_neighbors, "SPARSE": sparse, "tune": tune}
    result = AutoMLResult(
        task=task,
        scoring=scoring or ("accuracy" if task == "classification" else "r2"),
        cv=cv,
        tolerance=tolerance,
        floor=float(floor_scores.mean()),
        floor_std=float(floor_scores.std()),
        _namespace=namespace,
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    for position, family in enumerate(chosen):
        budget = None
        if deadline is not None:
            budget = (deadline - time.monotonic()) / (len(chosen) - position)
            if budget <= 0:
                result.notes.append(f"--timeout reached: {family.name} and later families did not run")
                break
        program = parse_cell(family.source, filename=f"<automl:{family.name}>")
        settings = SearchSettings(
            method=method,
            n_trials=trials if trials is not None else (DEFAULT_TRIALS if budget is None else 100_000),
            timeout=budget,
            direction="maximize",  # scikit-learn scorers are greater-is-better
            seed=seed,
            study_name=f"{prefix}-{family.name}",
            storage=storage,
            catch=True,  # a configuration that cannot fit fails its trial, not the whole run
            scoring=Scoring(data=("X", "y"), cv=cv, scoring=scoring),
        )
        started = time.perf_counter()
        # grid: each family's space is coarsened to a grid of about --trials points, as --compare does
        outcome, grid_note = prepare_on_budget(program, namespace, settings)
        if grid_note:
            result.notes.append(f"{family.name}: {grid_note}")
        outcome = run_search(program, namespace, settings, outcome, observers_for(family.name))
        seconds = time.perf_counter() - started
        search = TuneResult(outcome.study, method, outcome.params, outcome.stop_reason, outcome.sampler)
        result.runs.append(FamilyRun(family, search, seconds))
        result._programs[family.name] = program
        if search.best_trial is None:
            reasons = [t.user_attrs["fail_reason"] for t in search.study.trials if "fail_reason" in t.user_attrs]
            last_line = [line for line in (reasons[0] if reasons else "").splitlines() if line.strip()][-1:]
            result.notes.append(f"{family.name}: no trial finished ({(last_line or [outcome.stop_reason])[0][:160]})")
        if outcome.stop_reason == "interrupted":
            result.notes.append("interrupted: the leaderboard has the families that ran")
            break
    if refit_best and result.winner is not None:
        winner = result.winner
        result.best_estimator = refit(
            result._programs[winner],
            dict(namespace),
            result.searches[winner].stored_best_params,
            Scoring(("X", "y"), cv),
        )
    return result


def _nested(
    X: Any,
    y: Any,
    task: str,
    chosen: list[Family],
    k: int,
    prefix: str,
    observers_for: Callable[[str], list[Any]],
    **options: Any,
) -> AutoMLNested:
    """Run the whole family search on each outer training part; score its winner on the held-out part."""
    from sklearn.metrics import check_scoring

    from ipytune.honest.nested import outer_splitter, take

    splitter, _ = outer_splitter(y, k, options["seed"], classes=task == "classification")
    report = AutoMLNested(k)
    for index, (train, test) in enumerate(splitter.split(X, y), start=1):
        X_train, y_train = take(X, train), take(y, train)
        inner = _search_families(X_train, y_train, task, chosen, f"{prefix}-outer{index}", observers_for, **options)
        if inner.winner is None:
            continue
        scorer = check_scoring(inner.best_estimator, scoring=options["scoring"])
        report.winners.append(inner.winner)
        report.inner.append(inner.ranked[0].best)
        report.outer_scores.append(float(scorer(inner.best_estimator, take(X, test), take(y, test))))
    return report


def _dummy(task: str) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyClassifier(strategy="prior") if task == "classification" else DummyRegressor()
