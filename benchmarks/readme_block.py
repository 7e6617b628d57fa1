"""The results of a benchmark: its rows, its markdown table, and its block of benchmarks/README.md."""

from __future__ import annotations

import contextlib
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    """One line of the results table: a measured quantity, its target and whether it is met."""

    what: str
    ipytune: str
    reference: str
    ratio: str
    target: str
    met: bool | None = None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        mark = "" if row.met is None else ("met" if row.met else "MISSED")
        print(f"  {row.what}: ipytune {row.ipytune} | reference {row.reference} | {row.ratio} | {mark}", flush=True)


def table(results: Results) -> str:
    lines = [
        "| measured | ipytune | hand-written / reference | ratio | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in results.rows:
        mark = "" if row.met is None else ("met" if row.met else "**missed**")
        lines.append(f"| {row.what} | {row.ipytune} | {row.reference} | {row.ratio} | {row.target} | {mark} |")
    return "\n".join(lines)


def write_block(readme: Path, section: str, end: str, generated: str) -> None:
    """Put ``generated`` (which ends with ``end``) under the ``section`` heading, keeping what follows ``end``."""
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    if section not in text:
        readme.write_text(text.rstrip("\n") + f"\n\n{section}\n\n{generated}\n")
    else:
        head, rest = text.split(section, 1)
        following = rest.find("\n## ")
        mine, others = (rest, "") if following < 0 else (rest[: following + 1], rest[following + 1 :])
        kept = mine.split(end, 1)[1] if end in mine else "\n"
        readme.write_text(f"{head}{section}\n\n{generated}{kept}{others}")
    print(f"wrote {readme}")


def load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return f"{os.getloadavg()[0]:.1f}"
    return "?"


def machine(versions: str, load: str) -> str:
    """Cores, CPU, the load average measured at the run's start / end (how busy it was, not a claim), versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), load average (1 min) {load} at the run's start / end; {versions}"


# Why the figures hold on a shared machine: both sides of every comparison share its conditions.
METHOD = (
    "Every comparison ran side by side in one process, alternating the contenders round by round, and each "
    "figure is the median over rounds, so other work on the machine weighs on both sides alike: ratios are "
    "more trustworthy than absolute times."
)
