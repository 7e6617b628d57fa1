"""What every bad input must leave: one line, no ipytune frame, nothing run, the notebook as it was.

A case is a cell a confused user might type. :func:`check_refused` runs it in the real
shell with everything IPython shows captured, and asserts the four promises of issue 10:

(a) the error is one ``UsageError`` line, and it says ``case.says``;
(b) what the user sees is that line alone: no traceback, no path into ipytune;
(c) nothing ran: the cell's counter (``ran``) is empty and no file was written;
(d) the notebook is as it was: the same names bound to the same objects, ``tune.last``,
    the RNG states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import ipytune
from tests.conftest import run

IPYTUNE_SOURCE = str(Path(ipytune.__file__).parent)
# Every cell of a case may count its runs here: a trial or a refit that ran appends to it.
COUNTER = "ran"
# A password a case may put in a storage URL: it must never be shown.
SECRET = "hunter2"


@dataclass(frozen=True)
class Case:
    """``cell`` (a magic line, or a whole cell) must be refused with a line containing ``says``."""

    cell: str
    says: str
    setup: str = ""  # run first, in the notebook (data, a study to resume, a %config)

    def param(self, name: str) -> Any:
        return pytest.param(self, id=name)


def tune_cell(flags: str, body: str = "x = tune.int(1, 3)\nx") -> str:
    """A ``%%tune`` cell whose body counts its runs."""
    return f"%%tune {flags}\n{COUNTER}.append(1)\n{body}"


def check_refused(ip: Any, case: Case) -> None:
    run(ip, f"{COUNTER} = []")
    if case.setup:
        run(ip, case.setup)
    before = _state(ip)
    with capture_output() as shown:
        outcome = ip.run_cell(case.cell)
    error = outcome.error_before_exec or outcome.error_in_exec
    seen = shown.stdout + shown.stderr

    assert type(error) is UsageError, f"not a UsageError: {error!r}\n{seen}"  # IPython prints exactly it as one line
    message = str(error)
    assert case.says in message, message
    assert "\n" not in message.strip(), message
    assert seen.strip() == f"UsageError: {message}".strip(), f"more than the one line was shown:\n{seen}"
    assert IPYTUNE_SOURCE not in seen
    assert "Traceback" not in seen
    assert SECRET not in seen
    assert ip.user_ns[COUNTER] == [], "the cell ran"
    after = _state(ip)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, f"the notebook's state changed: {changed}"


def _state(ip: Any) -> dict[str, Any]:
    """What a refused cell must leave as it was (names whose value is IPython's history excepted)."""
    names = {
        name: id(value) for name, value in ip.user_ns.items() if not name.startswith("_") and name not in ("In", "Out")
    }
    files = {str(p): p.stat().st_size for p in Path.cwd().rglob("*") if p.is_file()}
    return {
        "names": names,
        "last": id(ip.user_ns["tune"].last),
        "files": files,
        "python rng": random.getstate(),
        "numpy rng": np.random.get_state()[1].tobytes(),
    }
