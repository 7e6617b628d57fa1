"""ipytune's teaching widgets, loaded lazily: ``import ipytune.widgets`` imports nothing heavy.

- :func:`gp_explorer` — the GP surrogate, step by step (bayes_opt's own GP and acquisition);
- :func:`coverage_explorer` — grid vs random search on the same budget;
- :func:`compare_runs` — tracked runs side by side (table, curves, parallel coordinates);
- :class:`SearchDashboard` — the live dashboard that ``%%tune`` shows in a notebook;
- :func:`presentation` — draw every widget created afterwards at slide size (``present=True``).

Each widget keeps what it shows in its own state, so it renders in exported HTML and
slides too; outside a front-end its text ``repr`` is a summary.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CoverageExplorer",
    "GPExplorer",
    "RunComparison",
    "SearchDashboard",
    "compare_runs",
    "coverage_explorer",
    "gp_explorer",
    "presentation",
]

_WHERE = {
    "gp_explorer": "gp",
    "GPExplorer": "gp",
    "coverage_explorer": "coverage",
    "CoverageExplorer": "coverage",
    "SearchDashboard": "dashboard",
    "compare_runs": "compare",
    "RunComparison": "compare",
    "presentation": "_state",
}


# Submodule names differ from the function names: importing ipytune.widgets.gp must not
# shadow the gp_explorer function with a module attribute.
def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ipytune.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ipytune.widgets.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
