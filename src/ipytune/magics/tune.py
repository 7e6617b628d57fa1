"""``%%tune``: turn a cell into a hyperparameter search.

The magic only chooses: it parses the line (:mod:`.options`), picks the observers
(:mod:`._shell`) and hands both to the engine's ``Search`` (or, for ``--compare`` and
``--nested``, to the feature that runs several). It stays light: the engine (Optuna,
bayes_opt, pandas) is imported when a search runs, not when the extension loads.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, magics_class

from ipytune.magics._shell import check_line, compile_cell, search_observers, show_user_traceback
from ipytune.magics.arguments import tune_arguments
from ipytune.magics.defaults import SearchMagics
from ipytune.search.declarations import tune as tune_api

if TYPE_CHECKING:
    from ipytune.magics.options import TuneOptions


@magics_class
class TuneMagics(SearchMagics):
    """The ``%%tune`` cell magic. Defaults can be changed with ``%config TuneMagics.<name> = ...``."""

    @tune_arguments
    @cell_magic
    def tune(self, line: str, cell: str) -> Any:
        """Run the cell once per trial with values drawn from its ``tune.*`` declarations.

        The cell's last expression is the objective: a number, or a scikit-learn
        estimator scored by cross-validation on ``--data X y``. Returns a
        ``TuneResult`` (also ``tune.last``); with refit (default) the cell runs once
        more in the notebook with the best parameters.
        """
        from ipytune.magics.options import parse_tune_line  # parsed when a search runs, not at %load_ext

        check_line(line)
        options = parse_tune_line(line, self.defaults(), magic=self.tune)
        shell = self.shell
        assert shell is not None
        program = compile_cell(shell, cell)
        if options.compare is not None or options.nested is not None:
            return self._several(options, program)
        return self._one(options, program)

    def _one(self, options: TuneOptions, program: Any) -> Any:
        from ipytune.search.engine import Search

        shell = self.shell
        assert shell is not None
        transport = options.transport()
        if options.cluster is not None:  # a Client named in the notebook, or a scheduler address
            from ipytune.search.transports.dask import DaskTransport, connect

            transport = DaskTransport(connect(options.cluster, shell.user_ns))
        observers = search_observers(shell, options.method, options.quiet, options.tracking())
        search = Search(program, shell.user_ns, options.settings(), observers, transport=transport)
        try:
            result = search.run()
        except UsageError:  # a trial's misuse stopped it (e.g. an estimator that cannot fit): the trials are kept
            if search.study is not None:
                tune_api.last = search.result()
            raise
        tune_api.last = result
        if result.error is not None:
            show_user_traceback(shell, result.error, program.filename)
            raise UsageError(result.error_message())
        if options.refit and result.best_trial is not None and result.stop_reason != "interrupted":
            try:
                refitted = search.refit(result)
            except Exception:
                show_user_traceback(shell, sys.exc_info(), program.filename)  # type: ignore[arg-type]
                raise UsageError(
                    "the refit with the best parameters failed (traceback above); "
                    "the search itself is kept in tune.last."
                ) from None
            if options.save_model:
                _save_model(observers, search, result, refitted)
        return result

    def _several(self, options: TuneOptions, program: Any) -> Any:
        """--compare and --nested: several searches around one cell, each watched like a single one.

        Their studies share a prefix (``--study`` or a fresh name) and their trials go to one trackio
        project named by it (unless ``--project``), one group per study.
        """
        from dataclasses import replace

        from ipytune.search.storage import fresh_study_name

        shell = self.shell
        assert shell is not None
        kind = "compare" if options.compare is not None else "nested"
        prefix = options.study or fresh_study_name(kind)
        settings = replace(options.settings(), study_name=prefix)

        def observers_for(method: str) -> list[Any]:
            tracking = options.tracking(method=method, project=options.project or prefix)
            return search_observers(shell, method, options.quiet, tracking)

        result: Any  # a Comparison or a NestedResult; both carry .error and .error_message
        if options.compare is not None:
            from ipytune.honest.compare import compare_methods

            result = compare_methods(program, shell.user_ns, settings, options.compare, options.repeats, observers_for)
        else:
            from ipytune.honest.nested import nested_search

            assert options.nested is not None
            result = nested_search(program, shell.user_ns, settings, options.nested, observers_for)
        tune_api.last = result
        if result.error is not None:
            show_user_traceback(shell, result.error, program.filename)
            raise UsageError(result.error_message)
        return result


def _save_model(observers: list[Any], search: Any, result: Any, refitted: Any) -> None:
    """Save the refitted model (and a classifier's confusion matrix) on the best trial's trackio run.

    Whatever goes wrong here warns and keeps the search: it is a copy of what the notebook holds.
    """
    import warnings

    from ipytune.errors import IpytuneWarning
    from ipytune.tracking.observer import TrackingObserver

    tracker = next((o for o in observers if isinstance(o, TrackingObserver)), None)
    if tracker is None:
        return
    from ipytune.search.analysis import confusion, fitted_model

    try:
        model, unfitted = fitted_model(search.program, search.namespace, refitted)
        if model is None:
            if unfitted is not None:
                result.saved.append(
                    f"no model saved: {unfitted} is not fitted (end the cell with {unfitted} and pass --data X y "
                    f"to have it fitted and saved)"
                )
            return
        picture = None
        matrix = confusion(model, search.namespace, search.settings.scoring)
        if matrix is not None:
            from ipytune.tracking.artifacts import confusion_image

            picture = ("confusion_matrix", confusion_image(*matrix))
        saved = tracker.save_model(result.study, result.best_trial.number, model, picture)
    except Exception as error:
        warnings.warn(
            f"the best model was not saved in trackio ({type(error).__name__}: {error}); the search and the "
            f"model in the notebook are kept. --no-save-model skips saving.",
            IpytuneWarning,
            stacklevel=2,
        )
        return
    if saved is not None:
        result.saved.append(saved)
