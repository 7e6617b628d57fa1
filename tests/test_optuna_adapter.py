"""Canaries for what ipytune borrows from Optuna's internals (``ipytune.search._optuna``).

Each test names one borrowed thing and fails when an Optuna upgrade moves it, where
ipytune itself would quietly take a slower path (the tell's deep copy, the journal's
full scan) or write a file that Optuna no longer reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from ipytune.search import _optuna


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


# -- fast_tell: optuna.study._tell._tell_with_warning, Study._storage.get_trial, Trial._trial_id ------
def test_optunas_internal_tell_is_where_the_fast_tell_imports_it_from() -> None:
    from optuna.study import _tell

    assert callable(getattr(_tell, "_tell_with_warning", None)), "optuna.study._tell._tell_with_warning moved"
    assert _optuna._tell_with_warning is _tell._tell_with_warning  # the fast path is in use, not the fallback


def test_fast_tell_records_a_trial_exactly_like_study_tell() -> None:
    def run(tell: str) -> list[tuple[object, ...]]:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        for state, value in ((TrialState.COMPLETE, 2.5), (TrialState.PRUNED, None), (TrialState.FAIL, None)):
            trial = study.ask()
            trial.suggest_int("x", 1, 3)
            trial.report(0.5, step=3)
            if tell == "fast":
                finished = _optuna.fast_tell(study, trial, value, state)
            else:
                finished = study.tell(trial, value, state=state)
            assert finished.number == trial.number
        return [(t.number, t.state, t.value, t.params, t.intermediate_values) for t in study.trials]

    recorded = run("fast")

    assert recorded == run("public")
    assert [r[1:3] for r in recorded] == [
        (TrialState.COMPLETE, 2.5),
        (TrialState.PRUNED, 0.5),  # a pruned trial keeps its last report
        (TrialState.FAIL, None),
    ]


def test_fast_tell_returns_the_stored_trial_without_a_copy() -> None:
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = study.ask()

    finished = _optuna.fast_tell(study, trial, 1.0, TrialState.COMPLETE)

    assert finished is study.get_trials(deepcopy=False)[0]


# -- trial ids and system attributes: Trial._trial_id, FrozenTrial._trial_id, Study._storage ---------
def test_trial_id_is_the_storage_key_of_live_and_frozen_trials(tmp_path: Path) -> None:
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "ids.journal")))
    first = optuna.create_study(study_name="first", storage=storage)
    second = optuna.create_study(study_name="second", storage=storage)
    first.tell(first.ask(), 0.0)
    trial = second.ask()  # number 0 in its study, but not the storage's first trial

    frozen = storage.get_trial(_optuna.trial_id(trial))

    assert (trial.number, frozen.number) == (0, 0)
    assert _optuna.trial_id(trial) == _optuna.trial_id(frozen) != _optuna.trial_id(first.trials[0])


def test_set_trial_system_attr_is_stored_on_the_trial() -> None:
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = study.ask()

    _optuna.set_trial_system_attr(study, trial, "ipytune:probe", 7)
    study.tell(trial, 0.0)

    assert study.trials[0].system_attrs["ipytune:probe"] == 7


# -- the journal file: JournalFileBackend, JournalFileSymlinkLock ----------------------------------
LOGS = [{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}, {"op_code": 4, "x": "é"}]


def test_the_flushed_backend_writes_the_bytes_optuna_writes(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.journal", tmp_path / "theirs.journal"
    _optuna.journal_file_backend(str(ours)).append_logs(LOGS)
    JournalFileBackend(str(theirs)).append_logs(LOGS)

    assert ours.read_bytes() == theirs.read_bytes()
    assert list(JournalFileBackend(str(ours)).read_logs(0)) == LOGS


def test_the_flushed_backend_takes_and_releases_optunas_lock(tmp_path: Path) -> None:
    path = tmp_path / "locked.journal"
    backend = _optuna.journal_file_backend(str(path))
    backend.append_logs(LOGS[:1])

    assert isinstance(backend._flush_lock, optuna.storages.journal.JournalFileSymlinkLock)
    assert backend._flush_lock.acquire()  # released after the write: free to take again
    backend._flush_lock.release()
    assert [json.loads(line) for line in path.read_text().splitlines()] == LOGS[:1]


# -- the journal storage: JournalStorage._replay_result, _thread_lock, _sync_with_backend ------------
def test_the_replay_fields_the_indexed_storage_reads_exist(tmp_path: Path) -> None:
    storage = _optuna.indexed_journal_storage(_optuna.journal_file_backend(str(tmp_path / "r.journal")))
    replay = storage._replay_result

    assert isinstance(replay._study_id_to_trial_ids, dict)
    assert isinstance(replay._trials, dict)
    assert hasattr(storage._thread_lock, "acquire")
    assert callable(storage._sync_with_backend)
    assert _optuna.journal_replay_indexable(storage)


def test_asking_takes_the_indexed_path_not_optunas_scan(tmp_path: Path) -> None:
    """Without the replay fields the storage silently scans every trial; this says so loudly."""
    storage = _optuna.indexed_journal_storage(_optuna.journal_file_backend(str(tmp_path / "i.journal")))
    study = optuna.create_study(study_name="i", storage=storage)
    for _ in range(3):
        study.tell(study.ask(), 0.0)
    study.enqueue_trial({"x": 1.0})

    trial = study.ask()

    assert storage._first_maybe_waiting[study._study_id] == 3  # where the index found the enqueued trial
    assert trial.number == 3
    assert trial.suggest_float("x", 0, 2) == 1.0


def test_the_indexed_storage_finds_the_waiting_trials_optuna_finds(tmp_path: Path) -> None:
    path = str(tmp_path / "w.journal")
    storage = _optuna.indexed_journal_storage(_optuna.journal_file_backend(path))
    study = optuna.create_study(study_name="w", storage=storage)
    study.tell(study.ask(), 0.0)
    for x in (1.0, 2.0):
        study.enqueue_trial({"x": x})
    waiting = (TrialState.WAITING,)

    ours = storage.get_all_trials(study._study_id, deepcopy=False, states=waiting)
    theirs = JournalStorage(JournalFileBackend(path)).get_all_trials(study._study_id, states=waiting)

    assert [t.number for t in ours] == [t.number for t in theirs] == [1, 2]
