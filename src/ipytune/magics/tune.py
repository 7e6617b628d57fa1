"""``%%tune``: turn a cell into a hyperparameter search.

This module stays light: the engine (Optuna, bayes_opt, pandas) is imported
when a search runs, not when the extension loads.
"""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from traitlets import Bool, Integer, Unicode

from ipytune.magics._shell import compile_cell, show_user_traceback
from ipytune.magics.options import TuneOptions, parse_tune_line, tune_arguments
from ipytune.search.declarations import tune as tune_api
from ipytune.search.storage import fresh_study_name


@magics_class
class TuneMagics(Magics):
    """The ``%%tune`` cell magic. Defaults can be changed with ``%config TuneMagics.<name> = ...``."""

    default_method = Unicode("tpe", help="Search method when --method is not given.").tag(config=True)
    storage = Unicode("", help="Default --storage ('' means .ipytune/studies.journal).").tag(config=True)
    cv = Integer(5, help="Default --cv folds for a returned estimator.").tag(config=True)
    refit = Bool(True, help="Re-run the cell with the best parameters after a search.").tag(config=True)
    quiet = Bool(False, help="Hide live progress by default.").tag(config=True)
    track = Bool(True, help="Record every trial as a trackio run (--no-track turns it off for one search).").tag(
        config=True
    )

    @tune_arguments
    @cell_magic
    def tune(self, line: str, cell: str) -> Any:
        """Run the cell once per trial with values drawn from its ``tune.*`` declarations.

        The cell's last expression is the objective: a number, or a scikit-learn
        estimator scored by cross-validation on ``--data X y``. Returns a
        ``TuneResult`` (also ``tune.last``); with refit (default) the cell runs once
        more in the notebook with the best parameters.
        """
        options = parse_tune_line(line, self._defaults(), magic=self.tune)
        return self._search(options, cell)

    def _defaults(self) -> dict[str, Any]:
        return {
            "method": self.default_method,
            "storage": self.storage,
            "cv": self.cv,
            "refit": self.refit,
            "quiet": self.quiet,
            "track": self.track,
        }

    def _search(self, options: TuneOptions, cell: str) -> Any:
        from ipytune.search.engine import prepare, run_search
        from ipytune.search.result import TuneResult
        from ipytune.search.trial import refit

        shell = self.shell
        assert shell is not None
        program = compile_cell(shell, cell)
        settings = _settings(options)
        user_ns = shell.user_ns
        if options.compare is not None or options.nested is not None:
            return self._honest(options, program, settings, user_ns)
        outcome = prepare(program, user_ns, settings)
        observers = self._observers(options)
        outcome = run_search(program, user_ns, settings, outcome, observers, should_stop=_stop_button(observers))
        result = TuneResult(
            outcome.study, options.method, outcome.params, outcome.stop_reason, outcome.sampler, outcome.trials_run
        )
        tune_api.last = result

        if outcome.error is not None:
            show_user_traceback(shell, outcome.error, program.filename)
            kept = sum(t.state.name == "COMPLETE" for t in outcome.study.get_trials(deepcopy=False))
            raise UsageError(
                f"trial {outcome.error_trial} raised {outcome.error[0].__name__} (traceback above); "
                f"{kept} finished trials are kept in study {outcome.study.study_name!r} (tune.last). "
                f"Add --catch to record such trials as failed and go on."
            )
        if options.refit and result.best_trial is not None and outcome.stop_reason != "interrupted":
            try:
                refit(program, user_ns, result.stored_best_params, settings.scoring, seed=settings.seed)
            except Exception:
                show_user_traceback(shell, sys.exc_info(), program.filename)  # type: ignore[arg-type]
                raise UsageError(
                    "the refit with the best parameters failed (traceback above); "
                    "the search itself is kept in tune.last."
                ) from None
        return result

    def _honest(self, options: TuneOptions, program: Any, settings: Any, user_ns: dict[str, Any]) -> Any:
        """--compare and --nested: several searches around one cell, each watched like a single one.

        Their studies share a prefix (``--study`` or a fresh name) and their trials go to one trackio
        project named by it (unless ``--project``), one group per study.
        """
        from dataclasses import replace

        kind = "compare" if options.compare is not None else "nested"
        prefix = settings.study_name or fresh_study_name(kind)
        settings = replace(settings, study_name=prefix)
        tracked = replace(options, project=options.project or prefix)

        def observers_for(method: str) -> list[Any]:
            return self._observers(replace(tracked, method=method))

        result: Any  # a Comparison or a NestedResult; both carry .error and .error_message
        if options.compare is not None:
            from ipytune.honest.compare import compare_methods

            result = compare_methods(program, user_ns, settings, options.compare, options.repeats, observers_for)
        else:
            from ipytune.honest.nested import nested_search

            assert options.nested is not None
            result = nested_search(program, user_ns, settings, options.nested, observers_for)
        tune_api.last = result
        if result.error is not None:
            show_user_traceback(self.shell, result.error, program.filename)
            raise UsageError(result.error_message)
        return result

    def _observers(self, options: TuneOptions) -> list[Any]:
        """What watches the search: the live progress display, and the trackio tracker."""
        from ipytune.search.progress import make_progress

        trackers = _trackers(options)
        if _in_kernel(self.shell) and not options.quiet:
            dashboard = _live_dashboard(options.method)
            if dashboard is not None:
                return [dashboard, *trackers]
        return [make_progress(options.method, options.quiet, in_kernel=_in_kernel(self.shell)), *trackers]


def _settings(options: TuneOptions) -> Any:
    from ipytune.search.engine import SearchSettings
    from ipytune.search.trial import Scoring

    return SearchSettings(
        method=options.method,
        n_trials=options.trials,
        timeout=options.timeout,
        direction=options.direction,
        seed=options.sampler_seed,
        seeds=options.seeds,
        deterministic=options.deterministic,
        study_name=options.study,
        storage=options.storage,
        catch=options.catch,
        scoring=Scoring(data=options.data, cv=options.cv, scoring=options.scoring),
        prune=options.prune,
    )


def _live_dashboard(method: str) -> Any:
    """The widget dashboard (with its Stop button); None when its front-end was not built."""
    from ipytune.widgets._bundle import MissingBundleError

    try:
        from ipytune.widgets.dashboard import LiveDashboard
    except MissingBundleError as error:
        import warnings

        warnings.warn(f"{error} Showing a plain progress bar instead.", RuntimeWarning, stacklevel=3)
        return None
    return LiveDashboard(method)


def _trackers(options: TuneOptions) -> list[Any]:
    """One trackio run per trial, unless --no-track (or %config TuneMagics.track = False)."""
    if not options.track:
        return []
    from ipytune.tracking.observer import TrackingObserver, TrackSettings

    return [
        TrackingObserver(
            TrackSettings(
                method=options.method,
                project=options.project,
                metric_name=options.metric_name,
                seed=options.sampler_seed,
                seeds=options.seeds,
            )
        )
    ]


def _stop_button(observers: list[Any]) -> Any:
    """``run_search(should_stop=...)``: true once a dashboard's Stop button was clicked."""
    stoppable = [o for o in observers if hasattr(o, "should_stop")]
    return lambda: any(o.should_stop() for o in stoppable)


def _in_kernel(shell: Any) -> bool:
    """True in a Jupyter kernel (widgets can be shown), False in terminal IPython."""
    return type(shell).__name__ == "ZMQInteractiveShell"
