"""The command lines of ``%%tune`` and ``%automl``: declared once, parsed with IPython's ``magic_arguments``.

This is where a flag is parsed. The flags the two magics share are declared once
(:data:`SHARED`); each line becomes a typed options object, validated here, once,
by building the engine's :class:`~ipytune.search.settings.SearchSettings` (and the
tracker's settings) from it. Parsing is kept apart from running so it can be tested
on its own. Defaults a user may change with ``%config TuneMagics.<name>`` come in
as ``defaults`` (see :mod:`ipytune.magics.defaults`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ipytune.search.settings import METHODS, PRUNERS, Method, Pruner, Scoring, SearchSettings, check_method

if TYPE_CHECKING:
    from ipytune.tracking.observer import TrackSettings

# Flags with the same meaning in %%tune and %automl.
SHARED = {
    "method": argument("--method", choices=METHODS, default=None, help="grid, random, gp (bayes_opt) or tpe."),
    "data": argument(
        "--data", nargs=2, metavar=("X", "y"), default=None, help="Names of the features and the target (X y)."
    ),
    "cv": argument("--cv", type=int, default=None, help="Cross-validation folds for an estimator (default: 5)."),
    "scoring": argument("--scoring", default=None, help="scikit-learn scoring name for an estimator."),
    "storage": argument(
        "--storage",
        default=None,
        help="memory, sqlite:///file.db, any SQLAlchemy URL, or a journal file path (default: .ipytune/studies.journal).",
    ),
    "quiet": argument("--quiet", action="store_true", help="No live progress; show only the summary."),
    "track": argument(
        "--no-track", dest="track", action="store_const", const=False, help="Do not record trials in trackio."
    ),
    "project": argument("--project", default=None, help="trackio project for the runs (default: the study name)."),
}

TUNE_ARGUMENTS = [
    SHARED["method"],
    argument("--trials", type=int, default=None, help="Trials to run now (default: 20; grid: the whole grid)."),
    argument("--timeout", type=float, default=None, help="Stop starting new trials after this many seconds."),
    argument(
        "--maximize", dest="direction", action="store_const", const="maximize", help="Maximise the objective (default)."
    ),
    argument("--minimize", dest="direction", action="store_const", const="minimize", help="Minimise the objective."),
    argument(
        "--seed",
        type=int,
        default=None,
        help="Seed the sampler, and every RNG before each trial (same seed, same search; see %%seed_everything).",
    ),
    argument(
        "--seeds",
        default=None,
        metavar="S1,S2,...",
        help="Run every trial once per seed (RNGs seeded before each run): objective = mean, std kept per trial.",
    ),
    argument(
        "--deterministic",
        action="store_true",
        help="With --seed/--seeds: also switch on PyTorch's determinism (cuDNN, deterministic algorithms, CUBLAS).",
    ),
    argument("--study", default=None, help="Study name; re-running with the same name resumes the study."),
    SHARED["storage"],
    argument(
        "--refit",
        dest="refit",
        action="store_const",
        const=True,
        help="Run the cell once more with the best parameters.",
    ),
    argument(
        "--no-refit", dest="refit", action="store_const", const=False, help="Do not re-run the cell with the best ones."
    ),
    SHARED["data"],
    SHARED["cv"],
    SHARED["scoring"],
    argument("--catch", action="store_true", help="Record an exception in the cell as a failed trial and go on."),
    argument(
        "--prune",
        choices=PRUNERS,
        default=None,
        help="Stop unpromising trials at tune.report(value, step): median, hyperband, halving or none (default).",
    ),
    argument(
        "--nested",
        type=int,
        default=None,
        metavar="K",
        help="Honest estimate: an outer K-fold loop around the whole search (needs --data and an estimator).",
    ),
    argument(
        "--compare",
        default=None,
        metavar="METHODS",
        help="Run the cell with each method on the same budget, e.g. --compare grid,random,gp,tpe.",
    ),
    argument(
        "--repeats", type=int, default=None, help="With --compare: repetitions per method (seeds seed, seed+1, ...)."
    ),
    SHARED["quiet"],
    SHARED["track"],
    SHARED["project"],
    argument(
        "--metric-name", default=None, metavar="NAME", help="Name of the objective in trackio (default: objective)."
    ),
]


def tune_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply every ``%%tune`` argument to ``func`` (so ``%%tune?`` lists them)."""
    for decorator in reversed(TUNE_ARGUMENTS):
        func = decorator(func)
    decorated: Callable[..., Any] = magic_arguments()(func)
    return decorated


@dataclass(frozen=True)
class TuneOptions:
    """A parsed ``%%tune`` line; :meth:`settings` and :meth:`tracking` are what the engine and tracker get."""

    method: Method
    trials: int | None
    timeout: float | None
    direction: str
    seed: int | None
    study: str | None
    storage: str | None
    refit: bool
    data: tuple[str, str] | None
    cv: int
    scoring: str | None
    catch: bool
    quiet: bool
    prune: Pruner = "none"
    nested: int | None = None
    compare: tuple[Method, ...] | None = None
    repeats: int = 1
    seeds: tuple[int, ...] | None = None
    deterministic: bool = False
    track: bool = True
    project: str | None = None
    metric_name: str = "objective"

    @property
    def sampler_seed(self) -> int | None:
        """--seed; with only --seeds, the first of them, so the whole search repeats."""
        if self.seed is None and self.seeds:
            return self.seeds[0]
        return self.seed

    def settings(self) -> SearchSettings:
        """The engine's settings (validated as they are made)."""
        return SearchSettings(
            method=self.method,
            n_trials=self.trials,
            timeout=self.timeout,
            direction="minimize" if self.direction == "minimize" else "maximize",
            seed=self.sampler_seed,
            seeds=self.seeds,
            deterministic=self.deterministic,
            study_name=self.study,
            storage=self.storage,
            catch=self.catch,
            scoring=Scoring(data=self.data, cv=self.cv, scoring=self.scoring),
            prune=self.prune,
        )

    def tracking(self, method: str | None = None, project: str | None = None) -> TrackSettings | None:
        """The tracker's settings (None with --no-track); ``method``/``project`` for one search of several."""
        if not self.track:
            return None
        from ipytune.tracking.observer import TrackSettings

        return TrackSettings(
            method=method or self.method,
            project=project or self.project,
            metric_name=self.metric_name,
            seed=self.sampler_seed,
            seeds=self.seeds,
        )


@tune_arguments
def _signature(line: str) -> None:
    """%%tune [options]: run the cell once per trial; its last expression is the objective."""


def parse_tune_line(
    line: str, defaults: dict[str, Any] | None = None, magic: Callable[..., Any] = _signature
) -> TuneOptions:
    """Parse a ``%%tune`` line into validated options; misuse is a one-line ``UsageError``."""
    defaults = defaults or {}
    args = parse_argstring(magic, line)
    options = TuneOptions(
        method=check_method(args.method or defaults.get("method", "tpe")),
        trials=args.trials,
        timeout=args.timeout,
        direction=args.direction or "maximize",
        seed=args.seed,
        study=args.study,
        storage=args.storage or defaults.get("storage") or None,
        refit=defaults.get("refit", True) if args.refit is None else args.refit,
        data=_data(args.data),
        cv=args.cv if args.cv is not None else defaults.get("cv", 5),
        scoring=args.scoring,
        catch=args.catch,
        quiet=args.quiet or defaults.get("quiet", False),
        prune=args.prune or "none",
        nested=args.nested,
        compare=_methods(args.compare),
        repeats=args.repeats if args.repeats is not None else 1,
        seeds=_seeds(args.seeds),
        deterministic=args.deterministic,
        track=defaults.get("track", True) if args.track is None else args.track,
        project=args.project,
        metric_name=args.metric_name or "objective",
    )
    _validate_seeds(options)
    options.settings()  # every search setting is checked where it is made
    _validate_honest(options)
    check_tracking(options.project, options.metric_name)
    return options


AUTOML_ARGUMENTS = [
    SHARED["data"],
    argument("--task", choices=("classification", "regression"), default=None, help="Override the detected task."),
    argument("--families", default=None, help="Comma-separated families (default: all of the task's)."),
    SHARED["method"],
    argument("--trials", type=int, default=None, help="Trials per family (default: 20)."),
    argument("--timeout", type=float, default=None, help="Seconds for the whole run, shared by the families."),
    SHARED["cv"],
    SHARED["scoring"],
    argument("--nested", type=int, default=None, metavar="K", help="Also estimate the whole run by K outer folds."),
    argument("--seed", type=int, default=0, help="Seed of the samplers and the models (default: 0)."),
    argument(
        "--tolerance",
        type=float,
        default=None,
        help="Recommend logistic/linear regression when within this of the best score (default: 0.01).",
    ),
    argument("--study", default=None, help="Prefix of the family studies' names (and the trackio project)."),
    SHARED["project"],
    SHARED["track"],
    SHARED["storage"],
    SHARED["quiet"],
]


def automl_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply every ``%automl`` argument to ``func``."""
    for decorator in reversed(AUTOML_ARGUMENTS):
        func = decorator(func)
    decorated: Callable[..., Any] = magic_arguments()(func)
    return decorated


@dataclass(frozen=True)
class AutoMLOptions:
    """A parsed ``%automl`` line: the data's names, the families, and what every family search shares."""

    data: tuple[str, str]
    task: str | None
    families: tuple[str, ...] | None
    method: Method
    trials: int | None
    timeout: float | None
    cv: int
    scoring: str | None
    nested: int | None
    seed: int | None
    tolerance: float | None
    study: str | None
    project: str | None
    track: bool
    storage: str | None
    quiet: bool

    def tracking(self, project: str) -> TrackSettings | None:
        """Every family's runs go to one project (one group per family); None with --no-track."""
        if not self.track:
            return None
        from ipytune.tracking.observer import TrackSettings

        return TrackSettings(method=self.method, project=self.project or project, seed=self.seed)


def parse_automl_line(line: str, defaults: dict[str, Any], magic: Callable[..., Any]) -> AutoMLOptions:
    """Parse an ``%automl`` line; the search settings themselves are checked by ``ipytune.automl``."""
    args = parse_argstring(magic, line)
    data = _data(args.data)
    if data is None:
        raise UsageError("%automl needs --data X y: the names of the features and the target in the notebook.")
    families = tuple(f.strip() for f in args.families.split(",") if f.strip()) if args.families else None
    options = AutoMLOptions(
        data=data,
        task=args.task,
        families=families or None,
        method=check_method(args.method or defaults.get("method", "tpe")),
        trials=args.trials,
        timeout=args.timeout,
        cv=args.cv if args.cv is not None else defaults.get("cv", 5),
        scoring=args.scoring,
        nested=args.nested,
        seed=args.seed,
        tolerance=args.tolerance,
        study=args.study,
        project=args.project,
        track=defaults.get("track", True) if args.track is None else args.track,
        storage=args.storage or defaults.get("storage") or None,
        quiet=args.quiet or defaults.get("quiet", False),
    )
    check_seed_flag(options.seed)
    check_nested(options.nested)
    check_tracking(options.project)
    return options


def _data(names: list[str] | None) -> tuple[str, str] | None:
    if not names:
        return None
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"--data {name!r}: give the names of two variables, e.g. --data X y.")
    return names[0], names[1]


# trackio's reserved keys, and the names of ipytune's own per-trial metrics.
_RESERVED_METRICS = ("state", "duration", "step", "timestamp", "time", "project", "run", "metrics")


def check_tracking(project: str | None, metric_name: str = "objective") -> None:
    """--project / --metric-name: names trackio can store (checked without importing trackio)."""
    if project is not None and (
        not any(c.isalnum() or c in "-_" for c in project) or project.strip().startswith("registry-")
    ):
        raise UsageError(
            f"--project {project!r}: give a name with letters, digits, '-' or '_' (not starting with 'registry-')."
        )
    if not metric_name.strip() or metric_name.startswith("_") or metric_name in _RESERVED_METRICS:
        raise UsageError(
            f"--metric-name {metric_name!r}: choose another name (not empty, no leading '_', not state/duration/step/time)."
        )


def _methods(text: str | None) -> tuple[Method, ...] | None:
    if text is None:
        return None
    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(
            f"--compare {text!r}: give methods from {', '.join(METHODS)} separated by commas, e.g. --compare random,tpe."
        )
    if len(set(methods)) != len(methods):
        raise UsageError(f"--compare {text!r} names a method twice.")
    return tuple(check_method(m) for m in methods)


def check_nested(k: int | None) -> None:
    if k is not None and k < 2:
        raise UsageError(f"--nested {k}: the outer loop needs at least 2 folds.")


def _validate_honest(options: TuneOptions) -> None:
    """--nested / --compare / --repeats: checks that need no data yet."""
    check_nested(options.nested)
    if options.nested is not None:
        if options.data is None:
            raise UsageError(
                "--nested needs --data X y: the outer folds split that data (the cell ends with an estimator)."
            )
        if options.compare is not None:
            raise UsageError(
                "--nested and --compare do not combine: compare methods first, then nest the one you keep."
            )
    if options.repeats < 1:
        raise UsageError(f"--repeats {options.repeats}: run at least 1 repetition.")
    if options.repeats > 1 and options.compare is None:
        raise UsageError("--repeats goes with --compare (it repeats each method's search); drop it or add --compare.")


def _seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    from ipytune.seeding import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def check_seed_flag(seed: int | None) -> None:
    from ipytune.seeding import check_seed

    if seed is not None:
        try:
            check_seed(seed, what="--seed")
        except ValueError as error:
            raise UsageError(str(error)) from None


def _validate_seeds(options: TuneOptions) -> None:
    """--seed / --seeds / --deterministic."""
    check_seed_flag(options.seed)
    if options.deterministic and options.seed is None and options.seeds is None:
        raise UsageError("--deterministic goes with --seed S or --seeds S1,S2,...: add one of them.")
