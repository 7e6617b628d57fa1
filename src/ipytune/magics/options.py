"""The ``%%tune`` command line: declared once, parsed with IPython's ``magic_arguments``.

Parsing is kept apart from running so it can be tested on its own. Defaults
that a user may change with ``%config TuneMagics.<name>`` come in as ``defaults``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ipytune.search.settings import METHODS, PRUNERS

_ARGUMENTS = [
    argument("--method", choices=METHODS, default=None, help="grid, random, gp (bayes_opt) or tpe (default: tpe)."),
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
    argument(
        "--storage",
        default=None,
        help="memory, sqlite:///file.db, any SQLAlchemy URL, or a journal file path (default: .ipytune/studies.journal).",
    ),
    argument(
        "--refit",
        dest="refit",
        action="store_const",
        const=True,
        help="Run the cell once more with the best parameters (default).",
    ),
    argument(
        "--no-refit",
        dest="refit",
        action="store_const",
        const=False,
        help="Do not re-run the cell with the best parameters.",
    ),
    argument(
        "--data",
        nargs=2,
        metavar=("X", "y"),
        default=None,
        help="Names of the data to cross-validate a returned estimator on.",
    ),
    argument("--cv", type=int, default=None, help="Cross-validation folds for a returned estimator (default: 5)."),
    argument("--scoring", default=None, help="scikit-learn scoring name for a returned estimator."),
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
    argument("--quiet", action="store_true", help="No live progress; show only the summary."),
    argument("--no-track", dest="track", action="store_const", const=False, help="Do not record trials in trackio."),
    argument("--project", default=None, help="trackio project for the trials' runs (default: the study name)."),
    argument(
        "--metric-name", default=None, metavar="NAME", help="Name of the objective in trackio (default: objective)."
    ),
]


def tune_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply every ``%%tune`` argument to ``func`` (so ``%%tune?`` lists them)."""
    for decorator in reversed(_ARGUMENTS):
        func = decorator(func)
    decorated: Callable[..., Any] = magic_arguments()(func)
    return decorated


@dataclass
class TuneOptions:
    method: str
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
    prune: str = "none"
    nested: int | None = None
    compare: tuple[str, ...] | None = None
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
        method=args.method or defaults.get("method", "tpe"),
        trials=args.trials,
        timeout=args.timeout,
        direction=args.direction or "maximize",
        seed=args.seed,
        study=args.study,
        storage=args.storage or defaults.get("storage") or None,
        refit=defaults.get("refit", True) if args.refit is None else args.refit,
        data=(args.data[0], args.data[1]) if args.data else None,
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
    _validate(options)
    return options


def _validate(options: TuneOptions) -> None:
    if options.method not in METHODS:
        raise UsageError(f"--method {options.method!r} is not one of {', '.join(METHODS)}.")
    if options.trials is not None and options.trials < 1:
        raise UsageError(f"--trials {options.trials}: run at least 1 trial.")
    if options.timeout is not None and options.timeout <= 0:
        raise UsageError(f"--timeout {options.timeout:g}: give a positive number of seconds.")
    if options.cv < 2:
        raise UsageError(f"--cv {options.cv}: cross-validation needs at least 2 folds.")
    _validate_honest(options)
    _validate_seeds(options)
    _validate_tracking(options)
    if options.data is not None:
        for name in options.data:
            if not name.isidentifier():
                raise UsageError(f"--data {name!r}: give the names of two variables, e.g. --data X y.")


# trackio's reserved keys, and the names of ipytune's own per-trial metrics.
_RESERVED_METRICS = ("state", "duration", "step", "timestamp", "time", "project", "run", "metrics")


def _validate_tracking(options: TuneOptions) -> None:
    """--project / --metric-name: names trackio can store (checked without importing trackio)."""
    project = options.project
    if project is not None and (
        not any(c.isalnum() or c in "-_" for c in project) or project.strip().startswith("registry-")
    ):
        raise UsageError(
            f"--project {project!r}: give a name with letters, digits, '-' or '_' (not starting with 'registry-')."
        )
    name = options.metric_name
    if not name.strip() or name.startswith("_") or name in _RESERVED_METRICS:
        raise UsageError(
            f"--metric-name {name!r}: choose another name (not empty, no leading '_', not state/duration/step/time)."
        )


def _methods(text: str | None) -> tuple[str, ...] | None:
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
    return methods


def _validate_honest(options: TuneOptions) -> None:
    """--nested / --compare / --repeats: checks that need no data yet."""
    if options.nested is not None:
        if options.nested < 2:
            raise UsageError(f"--nested {options.nested}: the outer loop needs at least 2 folds.")
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


def _validate_seeds(options: TuneOptions) -> None:
    """--seed / --seeds / --deterministic."""
    from ipytune.seeding import check_seed

    if options.seed is not None:
        try:
            check_seed(options.seed, what="--seed")
        except ValueError as error:
            raise UsageError(str(error)) from None
    if options.deterministic and options.seed is None and options.seeds is None:
        raise UsageError("--deterministic goes with --seed S or --seeds S1,S2,...: add one of them.")
