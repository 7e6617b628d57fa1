"""The search loop's contract with Optuna."""

from __future__ import annotations

import optuna

from ipytune.search import engine


def test_fast_tell_is_in_use_and_records_like_the_public_one():
    # The loop tells through Optuna's internal function to skip a deep copy per trial;
    # if an Optuna upgrade moves it, the fallback works but this says the fast path is gone.
    assert engine._tell_with_warning is not None
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = study.ask()
    trial.suggest_int("x", 1, 3)
    finished = engine._tell(study, trial, 2.5, optuna.trial.TrialState.COMPLETE)
    assert finished.state == optuna.trial.TrialState.COMPLETE
    assert finished.value == 2.5
    assert study.best_trial.number == finished.number
    pruned = study.ask()
    pruned.report(0.5, step=3)
    assert engine._tell(study, pruned, None, optuna.trial.TrialState.PRUNED).value == 0.5  # last report kept
