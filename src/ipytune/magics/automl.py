"""``%automl --data X y``: a tuned search per model family, a leaderboard and a recommendation.

The line is parsed by :mod:`.options` (the flags it shares with ``%%tune`` are the
same declarations, and ``%config TuneMagics.<name>`` sets the defaults of both); the
work is :func:`ipytune.automl`, imported when the magic runs so that ``%load_ext``
stays cheap.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class

from ipytune.magics._shell import check_line, search_observers
from ipytune.magics.arguments import automl_arguments
from ipytune.magics.defaults import SearchMagics


@magics_class
class AutoMLMagics(SearchMagics):
    """The ``%automl`` line magic."""

    @automl_arguments
    @line_magic
    def automl(self, line: str) -> Any:
        """Tune every model family on ``--data X y`` and rank them over a dummy floor.

        Returns an ``AutoMLResult``: the leaderboard, the winner, the recommendation
        and ``best_estimator`` (the winner refitted on all the data).
        """
        from ipytune.honest.automl import DEFAULT_TOLERANCE, automl
        from ipytune.magics.options import parse_automl_line
        from ipytune.search.storage import fresh_study_name

        check_line(line)
        options = parse_automl_line(line, self.defaults(), magic=self.automl)
        shell = self.shell
        assert shell is not None
        missing = [name for name in options.data if name not in shell.user_ns]
        if missing:
            raise UsageError(f"--data names {', '.join(missing)}, which the notebook has not defined yet.")
        X, y = (shell.user_ns[name] for name in options.data)
        prefix = options.study or fresh_study_name("automl")
        tracking = options.tracking(project=prefix)

        def observers_for(family: str) -> list[Any]:
            """Each family's search has its progress display and, unless --no-track, its trackio runs."""
            return search_observers(shell, family, options.quiet, tracking)

        return automl(
            X,
            y,
            task=options.task,
            families=options.families,
            method=options.method,
            trials=options.trials,
            timeout=options.timeout,
            cv=options.cv,
            scoring=options.scoring,
            nested=options.nested,
            seed=options.seed,
            tolerance=DEFAULT_TOLERANCE if options.tolerance is None else options.tolerance,
            storage=options.storage,
            study=prefix,
            quiet=options.quiet,
            observers_for=observers_for,
        )
