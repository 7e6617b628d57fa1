"""The default journal storage: Optuna's own file format, readable by Optuna alone, resumable."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from ipytune.search.storage import open_storage


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


def test_enqueued_trials_are_asked_first_in_order_however_long_the_study(tmp_path: Path) -> None:
    """The journal storage finds WAITING trials without scanning the study; it must still find all of them."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(str(tmp_path / "studies.journal"))
    study = optuna.create_study(study_name="q", storage=storage)
    asked = []
    for batch in ([], [1.0, 2.0], [], [3.0], [4.0, 5.0, 6.0]):
        for x in batch:
            study.enqueue_trial({"x": x})
        for _ in range(len(batch) + 2):  # the enqueued ones, then two sampled ones
            trial = study.ask()
            asked.append(trial.suggest_float("x", 0, 10))
            study.tell(trial, 0.0)
    enqueued = [asked[i] for i in (2, 3, 8, 11, 12, 13)]

    assert enqueued == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_another_process_sees_waiting_trials_enqueued_here(tmp_path: Path) -> None:
    path = str(tmp_path / "studies.journal")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="w", storage=open_storage(path))
    trial = study.ask()
    study.tell(trial, 1.0)
    study.enqueue_trial({"x": 7.0})

    other = optuna.load_study(study_name="w", storage=JournalStorage(JournalFileBackend(path)))
    trial = other.ask()

    assert trial.suggest_float("x", 0, 10) == 7.0


def test_an_unknown_study_is_optunas_own_error(tmp_path: Path) -> None:
    storage = open_storage(str(tmp_path / "studies.journal"))

    with pytest.raises(KeyError):
        storage.get_all_trials(12345, deepcopy=False, states=(optuna.trial.TrialState.WAITING,))


# -- what the damage-tolerant journal reader relies on (ipytune.search._optuna.FlushedJournalFileBackend) --
def test_optuna_writes_each_journal_record_as_one_line_starting_with_its_op_code(tmp_path: Path) -> None:
    """A record is told from damage by its first key; the op codes are Optuna's JournalOperation."""
    from optuna.storages.journal._storage import JournalOperation

    path = tmp_path / "plain.journal"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))
    study.enqueue_trial({"x": 1.0})
    trial = study.ask()
    trial.suggest_float("x", 0, 5)
    trial.report(0.5, 0)
    trial.set_user_attr("a", 1)
    study.tell(trial, 1.0)

    lines = path.read_bytes().splitlines()
    assert all(line.startswith(b'{"op_code":') for line in lines)
    assert {int(line[11:].split(b",")[0]) for line in lines} <= {int(op) for op in JournalOperation}


def test_the_journal_storage_asks_for_records_by_the_count_it_applied(tmp_path: Path) -> None:
    """The reader numbers records, not lines (a damaged line gives none, or a stand-in): Optuna must ask by that count."""
    from ipytune.search._optuna import FlushedJournalFileBackend

    asked: list[int] = []

    class Recording(FlushedJournalFileBackend):
        def read_logs(self, log_number_from: int):  # type: ignore[no-untyped-def]
            asked.append(log_number_from)
            yielded = list(super().read_logs(log_number_from))
            asked.append(log_number_from + len(yielded))
            yield from yielded

    storage = JournalStorage(Recording(str(tmp_path / "studies.journal")))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage)
    for _ in range(3):
        study.tell(study.ask(), 1.0)

    assert asked[0] == 0
    assert all(asked[i] == asked[i + 1] for i in range(1, len(asked) - 1, 2))  # each read starts where the last ended
