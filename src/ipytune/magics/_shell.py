"""What every ipytune magic needs of the shell: compile a cell once, show its errors, know the front-end, watch a search."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:
    from ipytune.search.cell import CellProgram

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


def check_line(line: str) -> None:
    """A line IPython cannot split into words (an unclosed quote) is one line, as any other misuse.

    IPython's own splitter raises a bare ``ValueError`` there, shown as a traceback through the magic.
    """
    from IPython.utils.process import arg_split  # type: ignore[attr-defined]  # what parse_argstring uses

    try:
        arg_split(line)
    except ValueError as error:
        raise UsageError(f"the line does not parse: {error} in {line.strip()!r}.") from None


def compile_cell(shell: Any, cell: str, missing_objective: str | None = None) -> CellProgram:
    """Transform IPython syntax, register the source for tracebacks, and parse it once."""
    from ipytune.search.cell import parse_cell

    source = shell.transform_cell(cell)
    filename = shell.compile.cache(source, shell.execution_count, raw_code=cell)
    return parse_cell(source, filename, missing_objective=missing_objective)


def show_user_traceback(shell: Any, error: ExcInfo, filename: str) -> None:
    """Show the traceback from the user's cell inward, without ipytune's own frames."""
    etype, value, tb = error
    user_tb: TracebackType | None = tb
    while user_tb is not None and user_tb.tb_frame.f_code.co_filename != filename:
        user_tb = user_tb.tb_next
    shell.showtraceback((etype, value, user_tb or tb), tb_offset=0)


def in_kernel(shell: Any) -> bool:
    """True in a Jupyter kernel (widgets can be shown), False in terminal IPython.

    An ``isinstance`` test, so subclasses of ipykernel's shell (Colab's, for one) get widgets too.
    """
    try:
        from ipykernel.zmqshell import ZMQInteractiveShell
    except ImportError:  # pragma: no cover - ipykernel is a dependency
        return False
    return isinstance(shell, ZMQInteractiveShell)


def search_observers(shell: Any, method: str, quiet: bool, tracking: Any = None) -> list[Any]:
    """What watches one search: the live dashboard (or a progress bar/line), and the trackio tracker.

    ``tracking`` is the tracker's ``TrackSettings``, None for none.
    """
    from ipytune.search.progress import make_progress

    trackers = []
    if tracking is not None:
        from ipytune.tracking.observer import TrackingObserver

        trackers.append(TrackingObserver(tracking))
    kernel = in_kernel(shell)
    if kernel and not quiet:
        dashboard = _live_dashboard(method)
        if dashboard is not None:
            return [dashboard, *trackers]
    return [make_progress(method, quiet, in_kernel=kernel), *trackers]


def _live_dashboard(method: str) -> Any:
    """The widget dashboard (with its Stop button); None when its front-end was not built."""
    from ipytune.widgets._bundle import MissingBundleError

    try:
        from ipytune.widgets.dashboard import LiveDashboard
    except MissingBundleError as error:
        import warnings

        warnings.warn(f"{error} Showing a plain progress bar instead.", RuntimeWarning, stacklevel=3)
        return None
    return LiveDashboard(method)
