"""Is a cell reproducible? Run it several times under one seed and compare its last value.

``check`` runs the cell ``runs`` times, each after ``seed_everything(seed)``
and in a fresh shallow copy of the namespace. With ``ablate``, it then runs
the cell once per seed source with that one source left unseeded (seeded
from fresh entropy, or its determinism switch turned off) and records which
sources change the result. Every generator and switch is restored afterwards,
so a check leaves the session as it found it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from ipytune._format import Summarised
from ipytune.repro.difference import describe, freeze, largest_difference
from ipytune.rng_states import collect_rng_states, set_rng_states
from ipytune.search.cell import CellProgram
from ipytune.search.trial import run_cell
from ipytune.seeding import (
    CUDA_SOURCES,
    NOT_AVAILABLE,
    NOT_INSTALLED,
    SKIPPED,
    SOURCES,
    TORCH_SOURCES,
    apply_seed,
    installed_torch,
)

# What leaving a source unseeded did; the other statuses are seeding's own.
CHANGES, NO_EFFECT = "changes the result", "no effect"


@dataclass
class AblationRow:
    key: str
    source: str
    status: str
    difference: float | None = None
    note: str = ""


@dataclass(repr=False)
class ReproResult(Summarised):
    """What ``%%repro`` found.

    ``reproducible`` (bool), ``largest_difference`` between the seeded runs,
    ``values`` (the last value of each run), ``ablation`` (one
    :class:`AblationRow` per seed source, empty without ``--ablate``),
    ``matters`` (the sources whose absence changed the result) and ``table()``.
    """

    seed: int
    runs: int
    values: list[Any]
    differences: list[float]
    atol: float = 0.0
    ablation: list[AblationRow] = field(default_factory=list)
    note: str = ""

    @property
    def largest_difference(self) -> float:
        return max(self.differences, default=0.0)

    @property
    def reproducible(self) -> bool:
        return self.largest_difference <= self.atol

    def __bool__(self) -> bool:
        return self.reproducible

    @property
    def matters(self) -> list[str]:
        """Labels of the sources that changed the result when left unseeded."""
        return [row.source for row in self.ablation if row.status == CHANGES]

    def table(self) -> Any:
        """The ablation as a pandas DataFrame (source, status, difference, note)."""
        import pandas as pd

        return pd.DataFrame(
            [(r.source, r.status, r.difference, r.note) for r in self.ablation],
            columns=["source", "left unseeded", "difference", "note"],
        )

    def headline(self) -> str:
        tolerance = f" (tolerance {self.atol:g})" if self.atol else ""
        if self.reproducible:
            return f"reproducible: {self.runs} runs with seed {self.seed} gave the same result{tolerance}"
        return (
            f"NOT reproducible: {self.runs} runs with seed {self.seed} differ, "
            f"{describe(self.largest_difference)}{tolerance}"
        )

    def _lines(self) -> list[str]:
        lines = [self.headline()]
        if self.note:
            lines.append(f"  ({self.note})")
        if self.matters:
            lines.append(f"  the result depends on: {', '.join(self.matters)}")
        elif self.ablation and self.reproducible:
            lines.append("  no seed source changed the result")
        return lines

    def to_text(self) -> str:
        lines = self._lines()
        if self.ablation:
            width = max(len(r.source) for r in self.ablation)
            status_width = max(len(r.status) for r in self.ablation)
            for r in self.ablation:
                text = f"  {r.source:<{width}}  {r.status:<{status_width}}  {_difference(r)}  {r.note}"
                lines.append(text.rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, *notes = self._lines()
        notes_html = "".join(f"<li>{html.escape(n.strip())}</li>" for n in notes)
        table = ""
        if self.ablation:
            rows = "".join(
                f"<tr><td>{html.escape(r.source)}</td><td>{'<b>' if r.status == CHANGES else ''}"
                f"{html.escape(r.status)}{'</b>' if r.status == CHANGES else ''}</td>"
                f"<td>{html.escape(_difference(r))}</td><td>{html.escape(r.note)}</td></tr>"
                for r in self.ablation
            )
            table = (
                "<table><thead><tr><th>source left unseeded</th><th>effect</th><th>difference</th>"
                f"<th>note</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        return (
            f"<div class='ipytune-repro'><b>{html.escape(head)}</b>"
            f"{f'<ul>{notes_html}</ul>' if notes_html else ''}{table}</div>"
        )


def _difference(row: AblationRow) -> str:
    if row.difference is None:
        return "—"
    if math.isinf(row.difference):
        return "differs"
    return f"{row.difference:.3g}"


def check(
    program: CellProgram,
    user_ns: dict[str, Any],
    runs: int = 2,
    seed: int = 42,
    ablate: bool = False,
    atol: float = 0.0,
    warn_only: bool = False,
) -> ReproResult:
    """Run ``program`` ``runs`` times under ``seed`` (and once per left-out source with ``ablate``)."""
    torch = installed_torch()  # imported before the snapshot, so its switches are restored too
    states = collect_rng_states()
    try:
        values = [_run(program, user_ns, seed, warn_only) for _ in range(runs)]
        differences = [largest_difference(values[0], value) for value in values[1:]]
        result = ReproResult(seed, runs, values, differences, atol)
        if ablate:
            if result.reproducible:
                result.ablation = _ablate(program, user_ns, seed, warn_only, values[0], atol, torch)
            else:
                result.note = (
                    "ablation skipped: the runs differ even with every source seeded, so something "
                    "no seed controls varies (os.urandom, time, np.random.default_rng() without a seed, "
                    "thread timing)"
                )
        return result
    finally:
        set_rng_states(states)


def _run(
    program: CellProgram, user_ns: dict[str, Any], seed: int, warn_only: bool, leave_out: str | None = None
) -> Any:
    apply_seed(seed, deterministic=True, warn_only=warn_only, leave_out=leave_out)
    return freeze(run_cell(program, dict(user_ns), None))


def _ablate(
    program: CellProgram,
    user_ns: dict[str, Any],
    seed: int,
    warn_only: bool,
    reference: Any,
    atol: float,
    torch: Any,
) -> list[AblationRow]:
    cuda = torch is not None and torch.cuda.is_available()
    rows = []
    for key, label in SOURCES.items():
        if torch is None and key in TORCH_SOURCES:
            rows.append(AblationRow(key, label, NOT_INSTALLED, note="PyTorch is not installed"))
            continue
        if key in CUDA_SOURCES and not cuda:
            rows.append(AblationRow(key, label, NOT_AVAILABLE, note="no CUDA device: cannot matter here"))
            continue
        if key == "cublas" and torch.cuda.is_initialized():
            rows.append(AblationRow(key, label, SKIPPED, note="CUDA already initialised: the setting cannot change"))
            continue
        difference = largest_difference(reference, _run(program, user_ns, seed, warn_only, leave_out=key))
        rows.append(AblationRow(key, label, CHANGES if difference > atol else NO_EFFECT, difference))
    return rows
