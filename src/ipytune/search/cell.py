"""Read a ``%%tune`` cell once: its declarations, their names, and its objective.

The cell is parsed a single time per search. Every ``tune.int/float/choice``
call gets its inferred ``name=`` written into the AST, so at run time a
declaration knows its name without inspecting frames. The last statement must
be an expression: it is the objective, evaluated separately from the body.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from IPython.core.error import UsageError

from ipytune._context import running
from ipytune.search.declarations import SpaceRecorder, tune
from ipytune.search.space import Param, SpaceError

DECLARATIONS = ("int", "float", "choice")
# A declaration under one of these may run zero or many times per trial.
_DYNAMIC_PARENTS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.IfExp,
    ast.BoolOp,
    ast.comprehension,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.ExceptHandler,
    ast.Match,
)


@dataclass
class Declaration:
    node: ast.Call
    kind: str
    name: str | None  # None when name= is an expression only known at run time
    conditional: bool

    @property
    def where(self) -> str:
        return f"tune.{self.kind}(...) on line {self.node.lineno}"


@dataclass
class CellProgram:
    """A parsed cell: body code, objective code and its declarations."""

    filename: str
    body: CodeType
    objective: CodeType
    declarations: list[Declaration] = field(default_factory=list)

    @property
    def conditional(self) -> list[Declaration]:
        return [d for d in self.declarations if d.conditional]

    def static_space(self, namespace: dict[str, Any], method: str, require: bool) -> list[Param]:
        """Evaluate each declaration's arguments before any trial runs.

        This validates the space early (bad bounds fail now, naming the
        parameter). ``require`` is for methods that need the whole space up
        front (grid, gp): then a conditional declaration, or one whose
        arguments depend on the cell's own variables, is an error.
        """
        if require and self.conditional:
            decl = self.conditional[0]
            raise SpaceError(
                f"--method {method} needs a fixed search space, but {decl.where} "
                f"({decl.name or 'unnamed'}) is inside an if/loop/function: "
                f"use --method tpe or random for conditional parameters."
            )
        recorder = SpaceRecorder()
        scope = dict(namespace, tune=tune)
        with running(recorder):
            for decl in self.declarations:
                expression = ast.fix_missing_locations(ast.Expression(decl.node))
                try:
                    eval(compile(expression, self.filename, "eval"), scope)
                except SpaceError:
                    raise
                except Exception as error:
                    if require:
                        raise SpaceError(
                            f"--method {method} needs the search space before the cell runs, but the "
                            f"arguments of {decl.where} could not be evaluated "
                            f"({type(error).__name__}: {error}); use literal values or variables "
                            f"defined before the cell."
                        ) from None
        return recorder.params


MISSING_OBJECTIVE = (
    "the cell's last line must be an expression: the objective to optimise "
    "(e.g. `cross_val_score(model, X, y).mean()` or `score`)."
)


def parse_cell(source: str, filename: str = "<tune-cell>", missing_objective: str | None = None) -> CellProgram:
    """Parse ``source`` (plain Python) into a :class:`CellProgram`, or raise a one-line error.

    ``missing_objective`` is the message when the last line is not an expression.
    """
    try:
        module = ast.parse(source, filename=filename)
    except SyntaxError as error:
        raise UsageError(f"the cell does not parse: {error.msg} (line {error.lineno}).") from None
    if not module.body or not isinstance(module.body[-1], ast.Expr):
        raise UsageError(missing_objective or MISSING_OBJECTIVE)
    declarations = _NameInference().run(module)
    _reject_duplicates(declarations)
    ast.fix_missing_locations(module)

    last = module.body.pop()
    assert isinstance(last, ast.Expr)
    objective = ast.Expression(last.value)
    return CellProgram(
        filename=filename,
        body=compile(module, filename, "exec"),
        objective=compile(objective, filename, "eval"),
        declarations=declarations,
    )


def is_declaration(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in DECLARATIONS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "tune"
    )


class _NameInference(ast.NodeVisitor):
    """Finds declarations, infers their names and writes them in as ``name=``."""

    def __init__(self) -> None:
        self.found: list[Declaration] = []
        self._ancestors: list[ast.AST] = []

    def run(self, module: ast.Module) -> list[Declaration]:
        self.visit(module)
        return self.found

    def generic_visit(self, node: ast.AST) -> None:
        if is_declaration(node):
            self._declare(node)  # type: ignore[arg-type]
        elif _unknown_tune_attribute(node):
            assert isinstance(node, ast.Attribute)
            raise SpaceError(
                f"tune.{node.attr} on line {node.lineno} is not part of tune: declare parameters with "
                f"tune.int(low, high), tune.float(low, high) or tune.choice([...])."
            )
        self._ancestors.append(node)
        super().generic_visit(node)
        self._ancestors.pop()

    def _declare(self, call: ast.Call) -> None:
        assert isinstance(call.func, ast.Attribute)
        kind = call.func.attr
        _check_arguments(call, kind)
        explicit = next((k for k in call.keywords if k.arg == "name"), None)
        if explicit is not None:
            value = explicit.value
            name = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
        else:
            name = self._infer(call)
            if name is None:
                raise SpaceError(
                    f"tune.{kind}(...) on line {call.lineno} has no name to infer: pass it as a keyword "
                    f"argument, assign it to a variable, use it as a dict value, or add name='...'."
                )
            call.keywords.append(ast.keyword(arg="name", value=ast.Constant(name)))
        conditional = any(isinstance(a, _DYNAMIC_PARENTS) for a in self._ancestors)
        self.found.append(Declaration(call, kind, name, conditional))

    def _infer(self, call: ast.Call) -> str | None:
        parent = self._ancestors[-1] if self._ancestors else None
        if isinstance(parent, ast.keyword) and parent.arg:
            return parent.arg
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is call:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if len(targets) == 1:
                return _target_name(targets[0])
        if isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values, strict=False):
                if value is call and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    return key.value
        return None


_EXAMPLES = {"int": "tune.int(1, 10)", "float": "tune.float(0.0, 1.0)", "choice": "tune.choice(['a', 'b'])"}


def _check_arguments(call: ast.Call, kind: str) -> None:
    """Arguments that cannot fit the declaration's signature fail now, not as a TypeError in every trial."""
    import inspect

    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return  # *args / **kwargs: known only when the cell runs
    try:
        inspect.signature(getattr(tune, kind)).bind(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
    except TypeError as error:
        raise SpaceError(f"tune.{kind}(...) on line {call.lineno}: {error}; e.g. {_EXAMPLES[kind]}.") from None


def _unknown_tune_attribute(node: ast.AST) -> bool:
    """``tune.uniform`` and the like: an attribute ``tune`` does not have (Optuna's or NumPy's names)."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "tune"
        and isinstance(node.ctx, ast.Load)
        and not hasattr(tune, node.attr)
    )


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _reject_duplicates(declarations: list[Declaration]) -> None:
    seen: dict[str, Declaration] = {}
    for decl in declarations:
        if decl.name is None:
            continue
        if decl.name in seen:
            first = seen[decl.name]
            raise SpaceError(
                f"parameter {decl.name!r} is declared twice ({first.where} and line {decl.node.lineno}): "
                f"give one of them another name with name='...'."
            )
        seen[decl.name] = decl
