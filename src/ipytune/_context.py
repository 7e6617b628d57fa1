"""What is running now: the trial a cell draws its values from, and where its ``tune.log`` goes.

Context variables, not module globals: the search engine sets them around each
trial, so trials that run at once (in threads, in worker processes) each see
their own, and nothing leaks from one trial into the next. Outside a search
both are None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol


class LogSink(Protocol):
    """Takes ``tune.log`` rows of the running trial (the search's tracker)."""

    def log(self, number: int, metrics: dict[str, Any], step: int | None) -> None: ...


_trial: ContextVar[Any] = ContextVar("ipytune_trial", default=None)
_log_sink: ContextVar[LogSink | None] = ContextVar("ipytune_log_sink", default=None)


def current_trial() -> Any:
    """The running trial: an ``optuna.Trial``, a fixed trial (refit), a space recorder, or None."""
    return _trial.get()


def current_log_sink() -> LogSink | None:
    """Where the running trial's ``tune.log`` rows go; None when the search is not tracked."""
    return _log_sink.get()


@contextmanager
def running(trial: Any, log_sink: LogSink | None = None) -> Iterator[None]:
    """Make ``trial`` (and ``log_sink``) the running ones inside the block, whatever was running before."""
    trial_token = _trial.set(trial)
    sink_token = _log_sink.set(log_sink)
    try:
        yield
    finally:
        _log_sink.reset(sink_token)
        _trial.reset(trial_token)


def snapshot() -> tuple[Any, LogSink | None]:
    """What is running now, to be put back with :func:`restore`."""
    return _trial.get(), _log_sink.get()


def restore(state: tuple[Any, LogSink | None]) -> None:
    """Put back what :func:`snapshot` saw: after a search, even one whose trial a Ctrl-C cut short
    inside :func:`running` (its reset never ran), nothing of it is left running."""
    _trial.set(state[0])
    _log_sink.set(state[1])
