"""The flags of ``%%tune`` and ``%automl``, declared once with IPython's ``magic_arguments``.

The flags the two magics share (:data:`SHARED`) are the same declarations in both
lists, so ``%%tune?`` and ``%automl?`` list them alike. :mod:`.options` parses a line
into typed options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments

from ipytune.search.settings import METHODS, PRUNERS

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
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="Run the trials in N worker processes on this machine (-1: one per core), warm across cells.",
    ),
    argument(
        "--threads",
        action="store_true",
        help="With --n-jobs: N threads instead of processes (for objectives that release the GIL).",
    ),
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
        "--cluster",
        default=None,
        metavar="ADDRESS|CLIENT",
        help="Run the trials on a Dask cluster: a scheduler address (tcp://host:8786) or the name of a "
        "dask.distributed.Client; needs --storage postgresql://... (pip install 'ipytune[cluster]').",
    ),
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
    argument("--tags", default=None, metavar="T1,T2,...", help="Tags on every run, e.g. --tags baseline,augmented."),
    argument("--notes", default=None, metavar="TEXT", help='A note on every run, e.g. --notes "lr warm-up added".'),
    argument(
        "--save-model",
        dest="save_model",
        action="store_const",
        const=True,
        help="Save the refitted best model on the best trial's run (default).",
    ),
    argument(
        "--no-save-model",
        dest="save_model",
        action="store_const",
        const=False,
        help="Do not save the best model (a big one); %%config TuneMagics.save_model = False for the session.",
    ),
]


def tune_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply every ``%%tune`` argument to ``func`` (so ``%%tune?`` lists them)."""
    for decorator in reversed(TUNE_ARGUMENTS):
        func = decorator(func)
    decorated: Callable[..., Any] = magic_arguments()(func)
    return decorated


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
