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
  :func:`set_trial_user_attr` writes the ``fail_reason`` of a trial this process does not
  run (a dead process's trial, failed by :mod:`ipytune.search.recovery`).
- ``Trial._trial_id`` / ``FrozenTrial._trial_id``: the key a storage knows a trial
  by (``number`` counts within one study). :func:`trial_id`.
- ``JournalFileBackend`` and ``JournalFileSymlinkLock``: :class:`FlushedJournalFileBackend`
  re-implements ``append_logs`` (one JSON object per line, under Optuna's lock) to skip
  the ``fsync`` per write, and ``read_logs`` to read past a damaged line (a crash's cut write,
  a garbled byte) instead of failing on every study of the file; it opens with the cut
  last line of a crash removed. Its log numbers count the records it yields, as Optuna's
  ``JournalStorage`` asks them back (``log_number_read``). A record is told from damage by
  its first key, ``op_code`` (``JournalStorage._write_log`` writes it first), being one of
  ``optuna.storages.journal._storage.JournalOperation``.
- ``JournalStorage._replay_result`` (its ``_study_id_to_trial_ids`` and ``_trials``),
  ``JournalStorage._thread_lock`` and ``JournalStorage._sync_with_backend()``:
  :class:`IndexedJournalStorage` reads the replayed trials directly to find WAITING
  trials without scanning the whole study. If they move, it falls back to Optuna's scan
  (correct, slower); :func:`journal_replay_indexable` says which path is taken.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Container, Generator
from datetime import datetime
from typing import Any, BinaryIO

import optuna
from IPython.core.error import UsageError
from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend, JournalFileSymlinkLock
from optuna.storages.journal._storage import JournalOperation
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
    "journal_notes",
    "journal_readable",
    "journal_replay_indexable",
    "journal_still_there",
    "open_journal",
    "set_trial_system_attr",
    "set_trial_user_attr",
    "trial_id",
]


# -- trials -----------------------------------------------------------------------------------------
def trial_id(trial: optuna.Trial | FrozenTrial) -> int:
    """The storage's id of ``trial`` (unique across studies, unlike ``trial.number``)."""
    return trial._trial_id


def set_trial_system_attr(study: optuna.Study, trial: optuna.Trial | FrozenTrial, key: str, value: Any) -> None:
    """Store ``key: value`` in the trial's ``system_attrs``; a sampler's hooks get the trial frozen."""
    study._storage.set_trial_system_attr(trial._trial_id, key, value)


def set_trial_user_attr(study: optuna.Study, trial: optuna.Trial | FrozenTrial, key: str, value: Any) -> None:
    """Store ``key: value`` in the ``user_attrs`` of a trial known only frozen (run by another process)."""
    study._storage.set_trial_user_attr(trial._trial_id, key, value)


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

    A damaged file does not poison every study in it. A last line without its newline
    (a write cut by a crash, a full disk) is cut off when the file is opened, and before
    any write after such a line is seen, so no record is ever glued to it; a write that
    fails half-way is taken back. A damaged line elsewhere is skipped, its record kept
    where it can be (a whole record glued after a cut one); where it created a study or a
    trial, one stands in, so that every later record keeps its ids.
    :func:`journal_notes` says what was done, naming the file and the lines.
    """

    def __init__(self, file_path: str) -> None:
        self._flush_lock = JournalFileSymlinkLock(file_path)  # Optuna's default lock
        self._flush_path = file_path
        super().__init__(file_path, lock_obj=self._flush_lock)
        self._read_to: dict[int, tuple[int, int]] = {0: (0, 0)}  # records read -> (byte offset, lines) after them
        self._records = 0  # records read so far (a damaged line counts the records it still gives)
        self._damaged: list[int] = []  # damaged line numbers not reported yet
        self._seen_damage: set[int] = set()
        self._notes: list[str] = []
        self._cut_tail = False  # a last line without its newline was seen: check it before writing
        self._junk_tail = False  # ... and it was left alone: it does not look like a journal record
        stat = os.stat(file_path)
        self._identity = (stat.st_dev, stat.st_ino)
        self._head = b""  # the file's first bytes (a worker's uuid): tell it from a new file at the same path

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        number = log_number_from if log_number_from in self._read_to else 0
        offset, line_number = self._read_to[number]
        try:
            f = open(self._flush_path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError:
            raise self._removed() from None
        with f:
            size = os.fstat(f.fileno()).st_size  # what is appended from now on is read next time
            if size < offset:  # removed and written anew: what this process read is gone
                raise self._removed()
            if offset == 0 and not self._head:
                self._head = f.read(256)
            f.seek(offset)
            for line in f:
                end = offset + len(line)
                if end > size or not line.endswith(b"\n"):  # being written now, or cut by a crash
                    self._cut_tail = True
                    break
                offset = end
                line_number += 1
                try:
                    log = json.loads(line)
                except ValueError:
                    log = None
                if type(log) is dict and log.get("op_code") in _OP_CODES:
                    logs = [log]
                else:
                    logs = self._salvage(line, line_number)
                for log in logs:
                    if number >= log_number_from:
                        yield log
                    number += 1
                self._read_to[number] = (offset, line_number)
                if number > self._records:
                    self._records = number

    def _salvage(self, line: bytes, line_number: int) -> list[dict[str, Any]]:
        """The records a damaged line still holds, or a stand-in for the study or trial it created."""
        if line_number not in self._seen_damage:
            self._seen_damage.add(line_number)
            self._damaged.append(line_number)
        *heads, last = _split_glued(line)
        kept = [log for log in map(_record, heads) if log is not None]  # a cut write: no one ever read it
        log = _record(last)
        if log is None:
            log = _stand_in(last, line_number)
        if log is not None:
            kept.append(log)
        return kept

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode("utf-8")
        try:
            self._flush_lock.acquire()
        except (OSError, RuntimeError):  # Optuna's lock fails so when the folder is gone
            if not os.path.isdir(os.path.dirname(os.path.abspath(self._flush_path))):
                raise self._removed() from None
            raise
        try:
            if self._cut_tail:  # never write after a line without its newline
                self._cut_last_line()
            with open(self._flush_path, "ab", buffering=0) as f:
                start = f.tell()
                try:
                    written = 0
                    while written < len(data):
                        written += f.write(data[written:]) or 0
                except BaseException:  # a full disk, an interrupt: leave no cut line behind
                    f.truncate(start)
                    raise
        finally:
            self._flush_lock.release()

    def _removed(self) -> UsageError:
        return UsageError(
            f"{self._flush_path} was removed while the search ran: this search stopped there. "
            f"Run the cell again to start a new journal."
        )

    def repair_tail(self) -> None:
        """Cut off a last line without its newline, under the journal's lock (see :func:`open_journal`)."""
        with open(self._flush_path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
        self._flush_lock.acquire()
        try:
            self._cut_last_line()
        finally:
            self._flush_lock.release()

    def _cut_last_line(self) -> None:
        """With the lock held no writer is half-way: a last line without its newline is a crash's."""
        self._cut_tail = False
        with open(self._flush_path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            start = _last_line_start(f, size)
            if start == size:
                return
            f.seek(start)
            tail = f.read()
            if self._records == 0 and not (tail.startswith(_RECORD_START) or _RECORD_START.startswith(tail)):
                self._junk_tail = True  # not a journal (or none ipytune can read): leave the file as it is
                return
            f.truncate(start)
        self._notes.append(
            f"{self._flush_path}: its last line was cut off ({len(tail)} bytes of a write that a crash "
            f"interrupted): removed it; every complete record is kept."
        )

    def take_notes(self) -> list[str]:
        """What was repaired or skipped since the last call, one line each."""
        notes, self._notes = self._notes, []
        if self._damaged:
            shown = ", ".join(map(str, self._damaged[:5]))
            more = f" and {len(self._damaged) - 5} more" if len(self._damaged) > 5 else ""
            notes.append(
                f"{self._flush_path}: line{'s' if len(self._damaged) > 1 else ''} {shown}{more} cannot be read "
                f"(damaged): skipped what was lost there; every other record and study is read."
            )
            self._damaged = []
        return notes

    @property
    def readable(self) -> bool:
        """False when nothing in a non-empty file is a journal record."""
        return self._records > 0 or not (self._seen_damage or self._junk_tail)

    def still_there(self) -> bool:
        """Whether the file read so far is still at its path (not removed, replaced or shortened)."""
        try:
            stat = os.stat(self._flush_path)
        except OSError:
            return False
        read_to = self._read_to[self._records][0]
        if (stat.st_dev, stat.st_ino) != self._identity or stat.st_size < read_to:
            return False
        with open(self._flush_path, "rb") as f:  # the same inode may be a new file: is its start ours?
            return f.read(len(self._head)) == self._head


_RECORD_START = b'{"op_code":'  # how every journal record starts (JournalStorage._write_log)
_OP_CODES = frozenset(int(op) for op in JournalOperation)
_REPAIR_WORKER = "ipytune-journal-repair"  # the worker id of a stand-in record: no process's own


def _record(part: bytes) -> dict[str, Any] | None:
    try:
        log = json.loads(part)
    except ValueError:
        return None
    return log if isinstance(log, dict) and log.get("op_code") in _OP_CODES and "worker_id" in log else None


def _split_glued(line: bytes) -> list[bytes]:
    """A line a write was glued to (after a cut one): the cut part, then the whole record written after it."""
    start = line.rfind(_RECORD_START)
    return [line[:start], line[start:]] if start > 0 else [line]


def _stand_in(part: bytes, line_number: int) -> dict[str, Any] | None:
    """A record that keeps the ids right where a damaged line created a study or a trial.

    Optuna numbers studies and trials in the order the journal creates them: a creation
    skipped would give every later record of every study the wrong one. A study stands
    in under its own name where that can still be read (a second creation of a name, as
    a resumed study writes, changes nothing); a trial stands in, in the state the line
    still says (RUNNING if not), so that the records after it (its parameters, its value)
    still apply. Its system attribute ``ipytune:damaged_journal_line`` names the line.
    """
    match = re.match(rb'\{"op_code":(\d+),', part)
    op = int(match.group(1)) if match else None
    if op == JournalOperation.CREATE_STUDY:
        name = re.search(rb'"study_name":("(?:[^"\\]|\\.)*")', part)
        directions = re.search(rb'"directions":\[([12](?:,[12])*)\]', part)
        try:
            study_name = json.loads(name.group(1)) if name else None
        except ValueError:
            study_name = None
        return {
            "op_code": op,
            "worker_id": _REPAIR_WORKER,
            "study_name": study_name or f"damaged-journal-line-{line_number}",
            "directions": [int(d) for d in directions.group(1).split(b",")] if directions else [1],
        }
    study_id = re.search(rb'"study_id":(\d+)', part)
    if op == JournalOperation.CREATE_TRIAL and study_id:
        state = re.search(rb'"state":([0-4])[,}]', part)
        start = re.search(rb'"datetime_start":"([0-9T:.+-]+)"', part)
        try:
            datetime_start = (
                start.group(1).decode() if start and datetime.fromisoformat(start.group(1).decode()) else None
            )
        except ValueError:
            datetime_start = None
        return {
            "op_code": op,
            "worker_id": _REPAIR_WORKER,
            "study_id": int(study_id.group(1)),
            "datetime_start": datetime_start,
            "state": int(state.group(1)) if state else TrialState.RUNNING.value,
            "system_attrs": {"ipytune:damaged_journal_line": line_number},
        }
    return None


def _last_line_start(f: BinaryIO, size: int) -> int:
    """The offset just after the file's last newline (0 if it has none)."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        f.seek(start)
        newline = f.read(end - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def journal_file_backend(path: str) -> FlushedJournalFileBackend:
    return FlushedJournalFileBackend(path)


def open_journal(path: str) -> IndexedJournalStorage:
    """The journal storage of the file at ``path`` (created if missing), a crash's cut last line removed.

    Then :func:`journal_readable` says whether it is a journal at all, :func:`journal_notes` what was repaired.
    """
    backend = journal_file_backend(path)
    storage = indexed_journal_storage(backend)
    backend.repair_tail()
    return storage


def _file_backend(storage: Any) -> FlushedJournalFileBackend | None:
    backend = getattr(storage, "file_backend", None)
    return backend if isinstance(backend, FlushedJournalFileBackend) else None


def journal_notes(storage: Any) -> list[str]:
    """What was repaired or skipped in ``storage``'s journal file since the last call (none for other storages)."""
    backend = _file_backend(storage)
    return backend.take_notes() if backend is not None else []


def journal_readable(storage: Any) -> bool:
    """False when ``storage``'s journal file holds no record at all but is not empty (not a journal)."""
    backend = _file_backend(storage)
    return backend is None or backend.readable


def journal_still_there(storage: Any) -> bool:
    """False when ``storage``'s journal file was removed or replaced since it was opened."""
    backend = _file_backend(storage)
    return backend is None or backend.still_there()


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
        self.file_backend = backend
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
