"""What travels to a worker: the cell, and the names it reads from the notebook, pickled once.

A worker process does not have the notebook's namespace, and a function defined in a
cell cannot be imported from ``__main__`` there (``multiprocessing`` spawn/forkserver
fail on it). So the cell goes as its compiled code and the values of its *free names*
go with it, pickled by cloudpickle (functions and classes defined in the notebook by
value), once per search and unpickled once per worker. Each trial then runs the cell in
a fresh shallow copy of that namespace, as in the kernel.

The free names of a cell are the global names its code loads, in any scope (the module,
functions, lambdas, comprehensions: read from the compiled code objects), less those
the cell's syntax tree assigns at top level, unconditionally, before it first reads
them (``model = ...`` does not need the notebook's old ``model``). ``tune`` is not
shipped: each worker has its own.

Before anything runs, :func:`ship` pickles every free name and fails with ONE line
naming a value that cannot travel: an open file, a connection, a lock, a generator, a
CUDA tensor (workers must not touch the kernel's GPU memory), or the IPython shell (a
cell with ``%magics``).
"""

from __future__ import annotations

import ast
import dis
import linecache
import marshal
import pickle
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from IPython.core.error import UsageError

from ipytune.search.cell import CellProgram

_GLOBAL_LOADS = {"LOAD_NAME", "LOAD_GLOBAL", "LOAD_FROM_DICT_OR_GLOBALS", "DELETE_NAME", "DELETE_GLOBAL"}
_NOT_SHIPPED = {"tune", "__builtins__", "__name__"}


@dataclass(frozen=True)
class Payload:
    """The cell and its free names as bytes: built in the kernel by :func:`ship`, read by :meth:`load`."""

    key: str  # unique per search: a worker unpickles a payload once
    filename: str  # the cell's file name in tracebacks
    source: str  # the cell's source (IPython syntax transformed), for the workers' tracebacks
    names: tuple[str, ...]  # the free names shipped
    program: bytes
    namespace: bytes

    def load(self) -> tuple[CellProgram, dict[str, Any]]:
        """The cell and the namespace its trials copy (unpickled once per process)."""
        global _loaded
        if _loaded is None or _loaded[0] != self.key:
            if self.source:  # the worker's tracebacks show the cell's lines
                lines = self.source.splitlines(keepends=True)
                linecache.cache[self.filename] = (len(self.source), None, lines, self.filename)
            from ipytune.search.declarations import tune

            namespace = {"__name__": "__main__", "tune": tune}
            namespace.update(pickle.loads(self.namespace))
            _loaded = (self.key, (pickle.loads(self.program), namespace))
        return _loaded[1]


_loaded: tuple[str, tuple[CellProgram, dict[str, Any]]] | None = None


@dataclass(frozen=True)
class LocalPayload:
    """The cell and the notebook's own namespace, for workers that are threads of the kernel."""

    program: CellProgram
    namespace: dict[str, Any]
    source: str = ""

    @property
    def filename(self) -> str:
        return self.program.filename

    def load(self) -> tuple[CellProgram, dict[str, Any]]:
        return self.program, self.namespace


def cell_source(program: CellProgram) -> str:
    """The cell's source as IPython registered it for tracebacks ("" when it was not)."""
    return "".join(linecache.getlines(program.filename))


def ship(program: CellProgram, namespace: dict[str, Any], flag: str = "--n-jobs", extra: Iterable[str] = ()) -> Payload:
    """Pickle the cell and its free names once; a name that cannot travel is one ``UsageError`` line.

    ``extra``: more names the trials read (``--data X y``: the engine scores an estimator on them).
    """
    source = cell_source(program)
    wanted = free_names(program, source) | set(extra)
    names = tuple(sorted(n for n in wanted if n in namespace and n not in _NOT_SHIPPED))
    values = {name: namespace[name] for name in names}
    try:
        pickled = _dumps(values)
    except Exception as together:
        for name in names:  # which one: pickle them one by one
            try:
                _dumps(namespace[name])
            except Exception as error:
                raise UsageError(_cannot_ship(name, namespace[name], error, flag)) from None
        reason = " ".join(f"{type(together).__name__}: {together}".split())[:160]
        raise UsageError(
            f"{flag}: the names the cell reads ({', '.join(names)}) cannot be sent to the worker processes "
            f"together ({reason}); run this search without {flag}."
        ) from None
    slim = CellProgram(filename=program.filename, body=program.body, objective=program.objective)
    return Payload(
        key=uuid.uuid4().hex,
        filename=program.filename,
        source=source,
        names=names,
        program=_dumps(slim),
        namespace=pickled,
    )


def free_names(program: CellProgram, source: str = "") -> set[str]:
    """The names the cell reads from the namespace it runs in (see the module docstring)."""
    names = _code_globals(program.body) | _code_globals(program.objective)
    if source:
        names -= _assigned_first(source)
    return names


def _code_globals(code: CodeType) -> set[str]:
    names = {str(i.argval) for i in dis.get_instructions(code) if i.opname in _GLOBAL_LOADS}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _code_globals(const)
    return names


def _assigned_first(source: str) -> set[str]:
    """Names whose first use in the cell, statement by statement, is an unconditional top-level assignment."""
    try:
        module = ast.parse(source)
    except SyntaxError:
        return set()
    first: dict[str, bool] = {}  # name -> assigned before read
    for statement in module.body:
        for node in ast.walk(statement):  # reads anywhere in the statement (nested scopes included) come first
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                first.setdefault(node.id, False)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                first.setdefault(node.target.id, False)
        for name in _top_level_stores(statement):
            first.setdefault(name, True)
    return {name for name, assigned in first.items() if assigned}


def _top_level_stores(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Assign):
        return [n for target in statement.targets for n in _target_names(target)]
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        return _target_names(statement.target)
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names if alias.name != "*"]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    return []


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


# -- pickling ----------------------------------------------------------------------------------------
class _Unshippable(Exception):
    """A value that pickles but must not travel (a CUDA tensor, the IPython shell)."""


def _tune() -> Any:
    from ipytune.search.declarations import tune

    return tune


def _dumps(value: Any) -> bytes:
    import io

    import cloudpickle  # type: ignore[import-untyped]

    class _Pickler(cloudpickle.Pickler):  # type: ignore[misc]
        def reducer_override(self, obj: Any) -> Any:
            _check_travels(obj)
            if obj is _tune():  # a notebook function that uses tune.*: the worker's own tune
                return _tune, ()
            if isinstance(obj, CodeType):  # cloudpickle renames code "<dynamic-code>": keep the cell's name
                return marshal.loads, (marshal.dumps(obj),)
            return super().reducer_override(obj)

    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _check_travels(obj: Any) -> None:
    module = type(obj).__module__ or ""
    if module.startswith("torch") and getattr(obj, "is_cuda", False) is True:
        raise _Unshippable(f"it holds a CUDA tensor on {obj.device}: move it to the CPU, or build it in the cell")
    if module.startswith(("IPython.", "ipykernel.")):
        from IPython.core.interactiveshell import InteractiveShell

        if isinstance(obj, InteractiveShell):
            raise _Unshippable("it holds the IPython shell")


def _cannot_ship(name: str, value: Any, error: Exception, flag: str) -> str:
    if name == "get_ipython":
        return (
            f"{flag}: the cell uses IPython magics or get_ipython(), which worker processes do not have: "
            f"move them to another cell, or run this search without {flag}."
        )
    reason = str(error) if isinstance(error, _Unshippable) else f"{type(error).__name__}: {error}"
    reason = " ".join(reason.split())
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return (
        f"{flag}: variable {name!r} ({_type_name(value)}) cannot be sent to the worker processes ({reason}); "
        f"create it inside the cell, or run this search without {flag}."
    )


def _type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
