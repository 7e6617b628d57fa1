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

from ipytune.space import METHODS

_ARGUMENTS = [
    argument("--method", choices=METHODS, default=None, help="grid, random, gp (bayes_opt) or tpe (default: tpe)."),
    argument("--trials", type=int, default=None, help="Trials to run now (default: 20; grid: the whole grid)."),
    argument("--timeout", type=float, default=None, help="Stop starting new trials after this many seconds."),
    argument(
        "--maximize", dest="direction", action="store_const", const="maximize", help="Maximise the objective (default)."
    ),
    argument("--minimize", dest="direction", action="store_const", const="minimize", help="Minimise the objective."),
    argument("--seed", type=int, default=None, help="Seed the sampler: same seed, same trial sequence."),
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
    argument("--quiet", action="store_true", help="No live progress; show only the summary."),
]


def tune_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply every ``%%tune`` argument to ``func`` (so ``%%tune?`` lists them)."""
    for decorator in reversed(_ARGUMENTS):
        func = decorator(func)
    return magic_arguments()(func)


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
        data=tuple(args.data) if args.data else None,  # type: ignore[arg-type]
        cv=args.cv if args.cv is not None else defaults.get("cv", 5),
        scoring=args.scoring,
        catch=args.catch,
        quiet=args.quiet or defaults.get("quiet", False),
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
    if options.data is not None:
        for name in options.data:
            if not name.isidentifier():
                raise UsageError(f"--data {name!r}: give the names of two variables, e.g. --data X y.")
