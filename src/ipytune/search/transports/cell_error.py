"""An exception raised by the cell in a worker, as the kernel shows it: the user's own traceback.

The worker keeps the user's frames (from the cell's own frame inward, as the kernel
shows a trial's error, without ipytune's frames), formats them, and sends them back with the exception in a :class:`CellError`. The
kernel turns that into an ordinary ``(type, value, traceback)`` whose traceback is made
of the cell's own lines (:func:`rebuild`, the way Jinja2 shows template frames), so the
magic shows it exactly as it shows a trial that failed in the kernel, and IPython reads
the lines from the cell it already knows.
"""

from __future__ import annotations

import builtins
import itertools
import pickle
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]

_PACKAGE = str(Path(__file__).resolve().parents[2])  # ipytune's own files


@dataclass(frozen=True)
class CellError:
    """The exception a trial's cell raised in a worker (picklable, small)."""

    trial: int
    type_name: str
    message: str
    frames: tuple[tuple[str, int, str], ...]  # (file name, line, function) of the cell's frames, outermost first
    text: str  # those frames and the exception, formatted in the worker
    exception: bytes | None = None  # the exception itself, when it pickles

    def __str__(self) -> str:
        return self.text


def describe(error: ExcInfo, trial: int, filename: str) -> CellError:
    """In the worker: the user's part of ``error``'s traceback, from the cell's first frame (``filename``)
    inward, as the kernel shows a trial's error; ipytune's own frames are left out."""
    etype, value, tb = error
    frames = list(traceback.extract_tb(tb))
    first = next((i for i, f in enumerate(frames) if f.filename == filename), 0)
    frames = [f for f in frames[first:] if not f.filename.startswith(_PACKAGE)]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines += traceback.format_exception_only(etype, value)
    try:
        import cloudpickle  # type: ignore[import-untyped]

        pickled: bytes | None = cloudpickle.dumps(value.with_traceback(None))
        pickle.loads(pickled or b"")  # some exceptions pickle but do not unpickle (required arguments)
    except Exception:
        pickled = None
    return CellError(
        trial=trial,
        type_name=etype.__name__,
        message=str(value),
        frames=tuple((f.filename, f.lineno or 1, f.name) for f in frames),
        text="".join(lines),
        exception=pickled,
    )


class WorkerCellError(Exception):
    """Stands in for an exception of a type the kernel cannot rebuild (its class is named as the original)."""


def rebuild(error: CellError) -> ExcInfo:
    """In the kernel: the exception, with a traceback made of the cell's frames only."""
    value = _exception(error)
    value.ipytune_traceback = error.text  # type: ignore[attr-defined]  # the worker's text, for non-IPython use
    tracebacks: list[TracebackType] = []
    for filename, line, name in error.frames:
        code = compile("\n" * (line - 1) + "raise __ipytune_error__", filename, "exec")
        code = code.replace(co_name=name)
        if sys.version_info >= (3, 11):
            code = code.replace(co_qualname=name)
        value.__traceback__ = None  # a raise adds to the traceback the exception carries
        try:
            exec(code, {"__ipytune_error__": value})
        except BaseException:
            tb = sys.exc_info()[2]
            assert tb is not None
            assert tb.tb_next is not None
            tracebacks.append(tb.tb_next)  # the frame of `code`, not this function's
    for outer, inner in itertools.pairwise(tracebacks):
        outer.tb_next = inner
    if tracebacks:
        tracebacks[-1].tb_next = None
    value.__context__ = value.__cause__ = None
    value.__traceback__ = tracebacks[0] if tracebacks else None
    return type(value), value, tracebacks[0] if tracebacks else None  # type: ignore[return-value]


def _exception(error: CellError) -> BaseException:
    if error.exception is not None:
        try:
            value = pickle.loads(error.exception)
            if isinstance(value, BaseException):
                return value
        except Exception:
            pass
    builtin = getattr(builtins, error.type_name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            made: BaseException = builtin(error.message)
            return made
        except Exception:
            pass
    stand_in: BaseException = type(error.type_name, (WorkerCellError,), {"__module__": __name__})(error.message)
    return stand_in
