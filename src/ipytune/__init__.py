"""ipytune: hyperparameter search, tracking and reproducibility from a notebook cell.

``%load_ext ipytune`` registers the magics and puts ``tune`` in the namespace.
Importing this package is cheap: Optuna, scikit-learn, pandas, torch, trackio
and the widget libraries load only inside the functions that need them.
"""

from __future__ import annotations

from typing import Any

from ipytune._version import __version__
from ipytune.search.declarations import tune

__all__ = [
    "__version__",
    "automl",
    "load_ipython_extension",
    "load_model",
    "metric_history",
    "reset_seed",
    "runs",
    "seed_everything",
    "seed_worker",
    "seeded_generator",
    "tune",
]

# Public names loaded on first use: name -> module that defines it.
_LAZY = {
    "automl": "ipytune.honest.automl",  # a private module: `ipytune.automl` stays the function
    "seed_everything": "ipytune.seeding",
    "seed_worker": "ipytune.seeding",
    "seeded_generator": "ipytune.seeding",
    "reset_seed": "ipytune.seeding",
    "runs": "ipytune.tracking.runs",
    "metric_history": "ipytune.tracking.runs",
    "load_model": "ipytune.tracking.artifacts",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ipytune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext ipytune``."""
    from ipytune.magics import register

    register(ipython)
