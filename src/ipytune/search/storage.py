"""Where studies live: one Optuna storage per ``--storage`` value, kept for the session.

- ``memory``: Optuna's in-memory storage (lost when the kernel stops);
- a URL with a scheme (``sqlite:///x.db``, ``postgresql://...``): Optuna's RDB storage;
- anything else is a file path for Optuna's JournalStorage. The default,
  ``.ipytune/studies.journal`` in the working directory, is a journal file:
  it persists across kernel restarts and costs about a millisecond per trial
  where SQLite costs over ten. Its writes are flushed to the operating system
  but not fsynced (see :func:`_journal_backend`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

DEFAULT_STORAGE = os.path.join(".ipytune", "studies.journal")

_open: dict[str, Any] = {}


def fresh_study_name(kind: str) -> str:
    """A new study's name when --study is not given: what it is, when, and a short unique tail."""
    import time
    import uuid

    return f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def storage_key(spec: str | None) -> str:
    spec = (spec or DEFAULT_STORAGE).strip()
    if spec == "memory" or "://" in spec:
        return spec
    return str(Path(spec).expanduser().resolve())


def open_storage(spec: str | None) -> Any:
    """Return the (cached) Optuna storage for ``spec``; a bad one is a one-line UsageError."""
    key = storage_key(spec)
    if key not in _open:
        _open[key] = _make(key)
    return _open[key]


def _make(key: str) -> Any:
    import optuna

    if key == "memory":
        return optuna.storages.InMemoryStorage()
    if "://" in key:
        try:
            return optuna.storages.RDBStorage(key)
        except Exception as error:
            raise UsageError(f"--storage {key}: cannot open it ({type(error).__name__}: {error}).") from None
    path = Path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _journal_storage(_journal_backend(str(path)))
    except OSError as error:
        raise UsageError(f"--storage {key}: cannot write there ({error.strerror}).") from None


def _journal_backend(path: str) -> Any:
    """Optuna's journal file, written without an ``fsync`` per write.

    Optuna fsyncs each of the four or five writes of a trial: about 10 ms per
    trial on a slow disk, ten times the search's own cost. A write flushed to the
    operating system already survives a kernel restart or crash, which is what
    the default storage promises; only a crash of the machine itself could lose
    the last trials. The file is Optuna's own format, lock included.
    """
    import json

    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    class FlushedJournalFileBackend(JournalFileBackend):
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

    return FlushedJournalFileBackend(path)


def _journal_storage(backend: Any) -> Any:
    """Optuna's ``JournalStorage``, with the WAITING-trial lookup of every ``study.ask()`` kept O(1).

    ``ask`` first looks for enqueued (WAITING) trials. ``InMemoryStorage`` remembers
    where the first one may be; ``JournalStorage`` scans every trial of the study,
    so a trial's cost grew with the study (about 1.5 ms more per trial at 10,000
    trials). A trial is WAITING only from its creation until it is first run, and
    trials are appended in order, so the scan can start at the first one that was
    still WAITING last time. Everything else is Optuna's own code.
    """
    import copy

    from optuna.storages import JournalStorage
    from optuna.trial import TrialState

    waiting_only = (TrialState.WAITING,)

    class IndexedJournalStorage(JournalStorage):
        def __init__(self, backend: Any) -> None:
            super().__init__(backend)
            self._first_maybe_waiting: dict[int, int] = {}  # study id -> index into its trials

        def get_all_trials(self, study_id: int, deepcopy: bool = True, states: Any = None) -> list[Any]:
            replay: Any = getattr(self, "_replay_result", None)  # Optuna's private replay state
            if states != waiting_only or not hasattr(replay, "_study_id_to_trial_ids"):
                return super().get_all_trials(study_id, deepcopy=deepcopy, states=states)
            waiting: list[Any] = []
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

    return IndexedJournalStorage(backend)
