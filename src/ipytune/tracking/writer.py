"""One background thread that writes runs, so that tracking costs the search almost nothing.

The notebook's thread only appends to a list (microseconds). The writer
gathers what arrived in the last ``GATHER`` seconds and writes it, one
transaction per project. ``flush()`` waits until everything submitted so
far is written: the tracking observer calls it before ``%%tune`` returns,
interrupted or not, and an ``atexit`` hook calls it when Python exits.

A failed write never raises into the search: it is recorded in the runs'
:class:`~ipytune.tracking.records.Failures`, whose owner warns once. After a
failure, that owner's later runs are dropped rather than retried, so that a
locked database costs one lock timeout, not one per trial.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections import defaultdict
from pathlib import Path

from ipytune.tracking import _trackio
from ipytune.tracking.records import RunRows

GATHER = 0.05  # seconds the writer waits for more runs before writing a batch
FLUSH_TIMEOUT = 120.0  # seconds a flush waits at most (trackio's lock alone gives up after 10 s)
EXIT_FLUSH_TIMEOUT = 30.0


class RunWriter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[RunRows] = []
        self._hurry = False
        self._thread: threading.Thread | None = None
        self._batch: list[RunRows] = []  # taken from _pending, being written
        self._written: set[str] = set()  # run ids written since the last complete flush

    def start(self) -> None:
        """Start the thread now: it imports trackio (about a second) while the first trials run."""
        with self._cond:
            self._ensure_thread()

    def submit(self, run: RunRows) -> None:
        with self._cond:
            self._ensure_thread()
            self._pending.append(run)  # the hand-over: one step, so a Ctrl-C lands before or after it
            if len(self._pending) == 1:
                self._cond.notify_all()

    def holds(self, run: RunRows) -> bool:
        """True once ``submit(run)`` has handed ``run`` over: pending, being written, or written.

        What a tracker asks after a Ctrl-C that may have landed inside ``submit``.
        """
        with self._cond:
            return any(r is run for r in (*self._pending, *self._batch)) or run.run_id in self._written

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="ipytune-trackio-writer", daemon=True)
            self._thread.start()

    def flush(self, timeout: float | None = FLUSH_TIMEOUT) -> bool:
        """Wait until every run submitted so far is written (or failed); False on timeout."""
        with self._cond:
            if not self._pending and not self._batch:
                self._written.clear()
                return True
            self._ensure_thread()
            self._hurry = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: not self._pending and not self._batch, timeout)

    def _work(self) -> None:
        with contextlib.suppress(Exception):  # a broken trackio install fails again, and is reported, in _write
            _trackio.load()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending))
                if not self._hurry:  # let a fast search's trials pile up into one transaction
                    self._cond.wait_for(lambda: self._hurry, GATHER)
                batch = self._batch = self._pending
                self._pending = []
                self._hurry = False
            try:
                _write(batch)
            finally:
                with self._cond:
                    self._written.update(run.run_id for run in batch)
                    self._batch = []
                    self._cond.notify_all()


def _write(batch: list[RunRows]) -> None:
    groups: defaultdict[tuple[Path, str], list[RunRows]] = defaultdict(list)
    for run in batch:
        if run.failures.error is not None:
            run.failures.skip()  # this search's writes already fail: don't wait on a lock again
        else:
            groups[(run.folder, run.project)].append(run)
    for (folder, project), runs in groups.items():
        try:
            _trackio.write_runs(folder, project, runs)
        except Exception as error:  # whatever it is, it must not stop the writer or reach the search
            for run in runs:
                run.failures.record(error, 1)


writer = RunWriter()
"""The process's one writer (trackio's SQLite lock is per process and project anyway)."""


@atexit.register
def _flush_at_exit() -> None:
    writer.flush(EXIT_FLUSH_TIMEOUT)
