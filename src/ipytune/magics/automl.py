"""``%automl --data X y``: a tuned search per model family, a leaderboard and a recommendation.

The line is parsed here; the work is :func:`ipytune.automl`, imported
when the magic runs so that ``%load_ext`` stays cheap.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ipytune.search.settings import METHODS
from ipytune.search.storage import fresh_study_name


@magics_class
class AutoMLMagics(Magics):
    """The ``%automl`` line magic."""

    @magic_arguments()
    @argument("--data", nargs=2, metavar=("X", "y"), default=None, help="Names of the features and the target.")
    @argument("--task", choices=("classification", "regression"), default=None, help="Override the detected task.")
    @argument("--families", default=None, help="Comma-separated families (default: all of the task's).")
    @argument("--method", choices=METHODS, default="tpe", help="Search method per family (default: tpe).")
    @argument("--trials", type=int, default=None, help="Trials per family (default: 20).")
    @argument("--timeout", type=float, default=None, help="Seconds for the whole run, shared by the families.")
    @argument("--cv", type=int, default=5, help="Cross-validation folds, the same for every family (default: 5).")
    @argument("--scoring", default=None, help="scikit-learn scoring name (default: accuracy / r2).")
    @argument("--nested", type=int, default=None, metavar="K", help="Also estimate the whole run by K outer folds.")
    @argument("--seed", type=int, default=0, help="Seed of the samplers and the models (default: 0).")
    @argument(
        "--tolerance",
        type=float,
        default=None,
        help="Recommend logistic/linear regression when within this of the best score (default: 0.01).",
    )
    @argument("--study", default=None, help="Prefix of the family studies' names (and the trackio project).")
    @argument("--project", default=None, help="trackio project for every family's runs (default: the prefix).")
    @argument("--no-track", dest="track", action="store_false", help="Do not record trials in trackio.")
    @argument("--storage", default=None, help="Where the studies live (as for %%tune).")
    @argument("--quiet", action="store_true", help="No live progress; show only the leaderboard.")
    @line_magic
    def automl(self, line: str) -> Any:
        """Tune every model family on ``--data X y`` and rank them over a dummy floor.

        Returns an ``AutoMLResult``: the leaderboard, the winner, the recommendation
        and ``best_estimator`` (the winner refitted on all the data).
        """
        from ipytune.honest.automl import DEFAULT_TOLERANCE, automl

        args = parse_argstring(self.automl, line)
        if args.data is None:
            raise UsageError("%automl needs --data X y: the names of the features and the target in the notebook.")
        shell = self.shell
        assert shell is not None
        missing = [name for name in args.data if name not in shell.user_ns]
        if missing:
            raise UsageError(f"--data names {', '.join(missing)}, which the notebook has not defined yet.")
        X, y = (shell.user_ns[name] for name in args.data)
        families = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else None
        prefix = args.study or fresh_study_name("automl")
        return automl(
            X,
            y,
            task=args.task,
            families=families,
            method=args.method,
            trials=args.trials,
            timeout=args.timeout,
            cv=args.cv,
            scoring=args.scoring,
            nested=args.nested,
            seed=args.seed,
            tolerance=DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance,
            storage=args.storage or self._tune_default("storage") or None,
            study=prefix,
            quiet=args.quiet,
            observers_for=self._observers_for(args.method, args.quiet, args.track, args.project or prefix),
        )

    def _tune_default(self, name: str) -> Any:
        assert self.shell is not None
        tune_magics = self.shell.magics_manager.registry.get("TuneMagics")
        return getattr(tune_magics, name, None)

    def _observers_for(self, method: str, quiet: bool, track: bool, project: str) -> Any:
        """Each family's search has its progress line and, unless --no-track, its trackio runs
        (one project for the whole run, one group per family)."""
        from ipytune.magics.options import parse_tune_line
        from ipytune.magics.tune import _in_kernel, _trackers
        from ipytune.search.progress import make_progress

        options = parse_tune_line(f"--method {method} --project {project}" + ("" if track else " --no-track"))
        in_kernel = _in_kernel(self.shell)

        def observers_for(family: str) -> list[Any]:
            return [make_progress(family, quiet, in_kernel=in_kernel), *_trackers(options)]

        return observers_for
