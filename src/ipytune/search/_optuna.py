"""Everything ipytune borrows from Optuna's internals, in one place.

Checked against Optuna 5.0. ``tests/test_optuna_adapter.py`` holds a canary for each
item below: an Optuna upgrade that moves one fails there, by name, instead of
silently taking a slower path or writing a different file.

What is borrowed, and why:

- ``optuna.study._tell._tell_with_warning``: the body of ``Study.tell`` without the
  deep copy of the finished trial that ``tell`` makes for its caller (about 15 µs, a
  quarter of a random-search trial). :func:`fast_tell` falls back to ``study.tell``
  if it moves.
- ``Study._storage``: the study's storage, to read a finished trial back without a
  copy (:func:`fast_tell`) and to write a system attribute on a trial that a sampler
  only sees frozen (:func:`set_trial_system_attr`). Optuna's own samplers do the same.
- ``Trial._trial_id`` / ``FrozenTrial._trial_id``: the key a storage knows a trial
  by (``number`` counts within one study). :func:`trial_id`.
- ``JournalFileBackend`` and ``JournalFileSymlinkLock``: :class:`FlushedJournalFileBackend`
  re-implements ``append_logs`` (one JSON object per line, under Optuna's lock) to skip
  the ``fsync`` per write.
- ``JournalStorage._replay_result`` (its ``_study_id_to_trial_ids`` and ``_trials``),
  ``JournalStorage._thread_lock`` and ``JournalStorage._sync_with_backend()``:
  :class:`IndexedJournalStorage` reads the replayed trials directly to find WAITING
  trials without scanning the whole study. If they move, it falls back to Optuna's scan
  (correct, slower); :func:`journal_replay_indexable` says which path is taken.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Container
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend, JournalFileSymlinkLock
from optuna.trial import FrozenTrial, TrialState

try:
    from optuna.study._tell import _tell_with_warning
except ImportError:  # pragma: no cover - a future Optuna may move it; the canary test says so
    _tell_with_warning = None  # type: ignore[assignment]

__all__ = [
    "FlushedJournalFileBackend",
    "IndexedJournalStorage",
    "fast_tell",
    "indexed_journal_storage",
    "journal_file_backend",
    "journal_replay_indexable",
    "set_trial_system_attr",
    "trial_id",
]


# -- trials -----------------------------------------------------------------------------------------
def trial_id(trial: optuna.Trial | FrozenTrial) -> int:
    """The storage's id of ``trial`` (unique across studies, unlike ``trial.number``)."""
    return trial._trial_id


def set_trial_system_attr(study: optuna.Study, trial: optuna.Trial | FrozenTrial, key: str, value: Any) -> None:
    """Store ``key: value`` in the trial's ``system_attrs``; a sampler's hooks get the trial frozen."""
    study._storage.set_trial_system_attr(trial._trial_id, key, value)


def fast_tell(study: optuna.Study, trial: optuna.Trial, value: float | None, state: TrialState) -> FrozenTrial:
    """``study.tell(trial, value, state=state)`` without the deep copy of the finished trial.

    The trial returned is the storage's own: read it, do not change it. Falls back to
    the public ``tell`` if Optuna's internal function moves.
    """
    if _tell_with_warning is None:  # pragma: no cover - see the canary test
        return study.tell(trial, value, state=state)
    _tell_with_warning(study, trial, value, state)
    return stored_trial(study, trial)


def stored_trial(study: optuna.Study, trial: optuna.Trial) -> FrozenTrial:
    """The trial as the storage holds it now (the storage's own object: read it, do not change it)."""
    return study._storage.get_trial(trial._trial_id)


# -- the journal file -------------------------------------------------------------------------------
class FlushedJournalFileBackend(JournalFileBackend):
    """Optuna's journal file, written without an ``fsync`` per write.

    Optuna fsyncs each of the four or five writes of a trial: about 10 ms per
    trial on a slow disk, ten times the search's own cost. A write flushed to the
    operating system already survives a kernel restart or crash, which is what
    the default storage promises; only a crash of the machine itself could lose
    the last trials. The file is Optuna's own format, lock included.
    """

    def __init__(self, file_path: str) -> None:
        self._flush_lock = JournalFileSymlinkLock(file_path)  # Optuna's default lock
        self._flush_path = file_path
        super().__init__(file_path, lock_obj=self._flush_lock)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        self._flush_lock.acquire()
        try:
            with open(self._flush_path, "ab") as f:
                f.write(text.encode("utf-8"))
        finally:
            self._flush_lock.release()


def journal_file_backend(path: str) -> FlushedJournalFileBackend:
    return FlushedJournalFileBackend(path)


# -- the journal storage ----------------------------------------------------------------------------
_WAITING_ONLY = (TrialState.WAITING,)


def journal_replay_indexable(storage: JournalStorage) -> bool:
    """Whether ``storage``'s replayed state has the fields :class:`IndexedJournalStorage` reads."""
    replay = getattr(storage, "_replay_result", None)
    return (
        hasattr(replay, "_study_id_to_trial_ids")
        and hasattr(replay, "_trials")
        and hasattr(storage, "_thread_lock")
        and hasattr(storage, "_sync_with_backend")
    )


class IndexedJournalStorage(JournalStorage):
    """Optuna's ``JournalStorage``, with the WAITING-trial lookup of every ``study.ask()`` kept O(1).

    ``ask`` first looks for enqueued (WAITING) trials. ``InMemoryStorage`` remembers
    where the first one may be; ``JournalStorage`` scans every trial of the study,
    so a trial's cost grew with the study (about 1.5 ms more per trial at 10,000
    trials). A trial is WAITING only from its creation until it is first run, and
    trials are appended in order, so the scan can start at the first one that was
    still WAITING last time. Everything else is Optuna's own code.
    """

    def __init__(self, backend: BaseJournalBackend) -> None:
        super().__init__(backend)
        self._first_maybe_waiting: dict[int, int] = {}  # study id -> index into its trials

    def get_all_trials(
        self, study_id: int, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        if states != _WAITING_ONLY or not journal_replay_indexable(self):
            return super().get_all_trials(study_id, deepcopy=deepcopy, states=states)
        replay: Any = self._replay_result
        waiting: list[FrozenTrial] = []
        with self._thread_lock:  # not reentrant: no call to super() while holding it
            self._sync_with_backend()
            ids = replay._study_id_to_trial_ids.get(study_id)
            if ids is not None:
                start = self._first_maybe_waiting.get(study_id, 0)
                trials = replay._trials
                waiting = [trials[i] for i in ids[start:] if trials[i].state == TrialState.WAITING]
                self._first_maybe_waiting[study_id] = waiting[0].number if waiting else len(ids)
        if ids is None:  # an unknown study: Optuna's own error
            return super().get_all_trials(study_id, deepcopy=deepcopy, states=states)
        return copy.deepcopy(waiting) if deepcopy else waiting


def indexed_journal_storage(backend: BaseJournalBackend) -> IndexedJournalStorage:
    return IndexedJournalStorage(backend)
