"""Where studies live: one Optuna storage per ``--storage`` value, kept for the session.

- ``memory``: Optuna's in-memory storage (lost when the kernel stops);
- a URL with a scheme (``sqlite:///x.db``, ``postgresql://...``): Optuna's RDB storage;
- anything else is a file path for Optuna's JournalStorage. The default,
  ``.ipytune/studies.journal`` in the working directory, is a journal file:
  it persists across kernel restarts and costs about a millisecond per trial
  where SQLite costs over ten. Its writes are flushed to the operating system
  but not fsynced (see :class:`ipytune.search._optuna.FlushedJournalFileBackend`).
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
    from ipytune.search._optuna import indexed_journal_storage, journal_file_backend

    path = Path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return indexed_journal_storage(journal_file_backend(str(path)))
    except OSError as error:
        raise UsageError(f"--storage {key}: cannot write there ({error.strerror}).") from None
