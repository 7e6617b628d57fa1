"""The default journal storage: Optuna's own file format, readable by Optuna alone, resumable."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from ipytune.storage import open_storage


def test_a_journal_written_by_ipytune_is_read_by_optuna_alone(tmp_path: Path) -> None:
    path = tmp_path / "studies.journal"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="s", storage=open_storage(str(path)), direction="minimize")
    for x in (3.0, 1.0, 2.0):
        trial = study.ask()
        trial.suggest_float("x", 0, 5)
        study.tell(trial, x)

    reread = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))

    assert ([t.value for t in reread.trials], reread.best_value) == ([3.0, 1.0, 2.0], 1.0)
