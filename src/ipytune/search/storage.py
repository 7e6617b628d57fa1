"""Where studies live: one Optuna storage per ``--storage`` value, kept for the session.

- ``memory``: Optuna's in-memory storage (lost when the kernel stops);
- a URL with a scheme (``sqlite:///x.db``, ``postgresql://...``): Optuna's RDB storage;
- anything else is a file path for Optuna's JournalStorage. The default,
  ``.ipytune/studies.journal`` in the working directory, is a journal file:
  it persists across kernel restarts and costs about a millisecond per trial
  where SQLite costs over ten. Its writes are flushed to the operating system
  but not fsynced (see :class:`ipytune.search._optuna.FlushedJournalFileBackend`).

Only an RDB URL other than SQLite (PostgreSQL, MySQL) is reached by processes on other
machines: :func:`check_shared_storage` says so for ``--cluster``. There a storage is
opened with a :class:`Heartbeat`, so that a trial whose worker died is failed and
re-run (:func:`open_storage`).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from ipytune.errors import IpytuneWarning

DEFAULT_STORAGE = os.path.join(".ipytune", "studies.journal")

_open: dict[str, Any] = {}


@dataclass(frozen=True)
class Heartbeat:
    """Optuna's RDB heartbeat: a running trial beats every ``interval`` seconds; one silent for
    ``grace`` seconds is failed and re-run (at most ``retries`` times), by any process of the search."""

    interval: int = 10
    grace: int = 30
    retries: int = 3


def check_shared_storage(spec: str | None, flag: str = "--cluster") -> None:
    """One line when ``spec`` is a storage only this machine reaches (a journal file, SQLite, memory)."""
    key = (spec or DEFAULT_STORAGE).strip()
    if key == "memory":
        what = "--storage memory lives in this kernel only"
    elif "://" not in key:
        what = f"the journal file {spec or DEFAULT_STORAGE} is on this machine only" + (
            "" if spec else " (the default)"
        )
    elif key.split("://", 1)[0].split("+", 1)[0] == "sqlite":
        what = f"--storage {key} is a file on this machine only"
    else:
        return
    raise UsageError(
        f"{flag} runs trials on other machines, but {what}: "
        f"add --storage postgresql://user@host/db (any database every worker reaches)."
    )


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


def open_storage(spec: str | None, heartbeat: Heartbeat | None = None) -> Any:
    """Return the (cached) Optuna storage for ``spec``; a bad one is a one-line UsageError.

    ``heartbeat`` (an RDB URL only) opens it with heartbeats, and the storage stays so in this
    process: a later ``open_storage(spec)`` (a worker loop's) returns that same storage.
    """
    key = storage_key(spec)
    if heartbeat is not None:
        current = _open.get(key)
        if getattr(current, "heartbeat", None) != heartbeat:
            _open[key] = _heartbeat_rdb(key, heartbeat)
    elif key not in _open or not _still_there(key, _open[key]):  # a journal removed since: a new one
        _open[key] = _make(key)
    _report(key, _open[key])
    return _open[key]


def _make(key: str) -> Any:
    import optuna

    if key == "memory":
        return optuna.storages.InMemoryStorage()
    if "://" in key:
        return _create_rdb(key, lambda: optuna.storages.RDBStorage(key))
    from ipytune.search._optuna import journal_readable, open_journal

    path = Path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        storage = open_journal(str(path))
    except IsADirectoryError:
        raise UsageError(
            f"--storage {key}: a folder is where the journal file should be: move it away, "
            f"or pass --storage with a file's path."
        ) from None
    except OSError as error:
        raise UsageError(
            f"--storage {key}: cannot write there ({error.strerror}): fix that, or pass another --storage."
        ) from None
    except Exception as error:  # a line that reads as a record but is not one Optuna can apply
        raise UsageError(
            f"--storage {key}: cannot read it ({type(error).__name__}: {_one_line(str(error))}): "
            f"move it away to start a new journal, or pass another --storage."
        ) from None
    if not journal_readable(storage):
        raise UsageError(
            f"--storage {key}: not a study journal (no line of it can be read): move it away to start "
            f"a new journal there, or pass another --storage."
        )
    return storage


def _still_there(key: str, storage: Any) -> bool:
    if key == "memory" or "://" in key:
        return True
    from ipytune.search._optuna import journal_still_there

    return journal_still_there(storage)


def _report(key: str, storage: Any) -> None:
    """One warning line for each repair of the journal file (a crash's cut last line, a damaged line)."""
    if key == "memory" or "://" in key:
        return
    from ipytune.search._optuna import journal_notes

    for note in journal_notes(storage):
        warnings.warn(note, IpytuneWarning, stacklevel=3)


_CREATE_TRIES = 8


def _create_rdb(url: str, create: Any) -> Any:
    """``create()`` an RDB storage; a bad URL or an unreachable database is one line, its password masked.

    Two processes opening a new database at once race in Optuna's ``RDBStorage``, each
    creating the tables and stamping the schema version (IntegrityError, "table ...
    already exists", "database is locked"): the loser opens it again, once the tables exist.
    """
    import random

    for attempt in range(_CREATE_TRIES):
        try:
            return create()
        except Exception as error:
            if attempt + 1 < _CREATE_TRIES and _creation_race(error):
                time.sleep(min(1.0, 0.05 * 2**attempt) * (1 + random.random()))
                continue
            raise UsageError(
                f"--storage {mask_url(url)}: cannot open it ({type(error).__name__}: {_masked(str(error), url)})."
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _creation_race(error: Exception) -> bool:
    kinds = {cls.__name__ for cls in type(error).__mro__}
    text = str(error).lower()
    return "IntegrityError" in kinds or (
        bool(kinds & {"OperationalError", "ProgrammingError"})
        and any(sign in text for sign in ("already exists", "database is locked", "duplicate"))
    )


_QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)[^&]*", re.IGNORECASE)


def mask_url(spec: str) -> str:
    """``spec`` as it may be shown: a URL's password is ``***`` (as SQLAlchemy's ``hide_password``).

    Everything between ``user:`` and the last ``@`` is masked, so a password with an
    unescaped ``@`` or ``/`` is hidden too; a journal path or ``memory`` is returned as is.
    """
    scheme, sep, rest = spec.partition("://")
    if not sep:
        return spec
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        if colon and "/" not in user:
            rest = f"{user}:***@{rest[at + 1 :]}"
    masked = _QUERY_PASSWORD.sub(r"\1***", rest)
    return f"{scheme}://{masked}"


def _masked(text: str, url: str) -> str:
    """An error's text on one line, with ``url`` masked and its password nowhere."""
    from urllib.parse import unquote

    text = text.replace(url, mask_url(url))
    rest = url.partition("://")[2]
    user, _, password = rest[: max(rest.rfind("@"), 0)].partition(":")
    password = "" if "/" in user else password
    secrets = [password, unquote(password)] + [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(rest)]
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return _one_line(text)


def _one_line(text: str) -> str:
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text)
    return " ".join(text.split())


def _heartbeat_rdb(url: str, heartbeat: Heartbeat) -> Any:
    if "://" not in url:
        raise UsageError(f"--storage {url}: heartbeats need a database URL (postgresql://...).")
    return _create_rdb(url, lambda: _heartbeat_storage_class()(url, heartbeat))


_HEARTBEAT_CLASS: Any = None


def _heartbeat_storage_class() -> Any:
    """:class:`HeartbeatRDBStorage`, defined on first use so that this module imports no Optuna."""
    global _HEARTBEAT_CLASS
    if _HEARTBEAT_CLASS is not None:
        return _HEARTBEAT_CLASS
    import optuna
    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RDBStorage
    from optuna.trial import FrozenTrial, TrialState

    retry_class: Any = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    stale_keyword = "heartbeat_stale_trial_callback"  # Optuna >= 4.9
    if retry_class is None:  # pragma: no cover - Optuna < 4.9
        retry_class, stale_keyword = optuna.storages.RetryFailedTrialCallback, "failed_trial_callback"

    def _requeue(retry: Any) -> Any:
        """Optuna's retry of a stale trial, except a grid point's: a grid sampler would give the queued copy
        a new point, and skip it. The failed trial keeps its point for the rest of the run; the cell's
        next run runs it (:class:`~ipytune.search.samplers.FastGridSampler`)."""
        from ipytune.search.samplers.grid import GRID_ID

        def callback(study: optuna.Study, trial: FrozenTrial) -> None:
            if GRID_ID not in trial.system_attrs:
                retry(study, trial)

        return callback

    class HeartbeatRDBStorage(RDBStorage):
        """Optuna's RDB storage, whose trials beat whichever loop runs them.

        Optuna beats a trial only inside ``study.optimize``; ipytune's loops use ask/tell. Here
        the storage beats: a trial that becomes RUNNING in this process is beaten by one thread
        until it finishes, and before a new trial is created (at most once per second) the
        study's stale trials are failed and, by Optuna's ``RetryHeartbeatStaleTrialCallback``,
        queued again (WAITING, same parameters) for the next ``ask`` of any process; a grid
        point is not queued again (see ``_requeue``).
        Borrowed from Optuna: ``RDBStorage._create_new_trial`` (what ``ask`` calls through the
        cache Optuna wraps the storage in); checked by tests/test_cluster.py.
        """

        def __init__(self, url: str, heartbeat: Heartbeat) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                super().__init__(
                    url,
                    heartbeat_interval=heartbeat.interval,
                    grace_period=heartbeat.grace,
                    **{stale_keyword: _requeue(retry_class(max_retry=heartbeat.retries))},
                )
            # Optuna warns on every ask of a storage with heartbeats; here the storage beats.
            warnings.filterwarnings("ignore", "Heartbeat of storage is supposed to be used with Study.optimize")
            self.heartbeat = heartbeat
            self._beating: set[int] = set()
            self._beat_lock = threading.Lock()
            self._beater: threading.Thread | None = None
            self._last_check: dict[int, float] = {}
            self._studies: dict[int, optuna.Study] = {}

        def __getstate__(self) -> dict[str, Any]:  # RDBStorage pickles by URL; so does this
            return {"url": self.url, "heartbeat": self.heartbeat}

        def __setstate__(self, state: dict[str, Any]) -> None:
            self.__init__(state["url"], state["heartbeat"])  # type: ignore[misc]

        def _create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> FrozenTrial:
            if template_trial is None:
                self.fail_stale_trials(study_id, throttle=1.0)
            trial = super()._create_new_trial(study_id, template_trial)
            if trial.state == TrialState.RUNNING:
                self._beat(trial._trial_id)
            return trial

        def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
            changed = bool(super().set_trial_state_values(trial_id, state, values))
            if state == TrialState.RUNNING and changed:
                self._beat(trial_id)
            elif state.is_finished():
                with self._beat_lock:
                    self._beating.discard(trial_id)
            return changed

        def fail_stale_trials(self, study_id: int, throttle: float = 0.0) -> None:
            """Fail the study's trials whose process stopped beating, and queue them again."""
            now = time.monotonic()
            if now - self._last_check.get(study_id, -1e9) < throttle:
                return
            self._last_check[study_id] = now
            study = self._studies.get(study_id)
            if study is None:
                name = self.get_study_name_from_id(study_id)
                study = optuna.load_study(study_name=name, storage=self, sampler=optuna.samplers.RandomSampler())
                self._studies[study_id] = study
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)

        def _beat(self, trial_id: int) -> None:
            self.record_heartbeat(trial_id)  # now: a trial with no beat yet is never stale
            with self._beat_lock:
                self._beating.add(trial_id)
                if self._beater is None:
                    self._beater = threading.Thread(target=self._beat_forever, name="ipytune-heartbeat", daemon=True)
                    self._beater.start()

        def _beat_forever(self) -> None:
            while True:
                time.sleep(self.heartbeat.interval)
                with self._beat_lock:
                    running = list(self._beating)
                for trial_id in running:
                    with contextlib.suppress(Exception):  # the database is away for a moment: beat next time
                        self.record_heartbeat(trial_id)

    _HEARTBEAT_CLASS = HeartbeatRDBStorage
    return HeartbeatRDBStorage
