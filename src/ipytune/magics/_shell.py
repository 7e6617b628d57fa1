"""What every cell magic of ipytune does with the cell it is given: compile it once, show its errors."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipytune.search.cell import CellProgram

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


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
