"""ipytune: hyperparameter search, tracking and reproducibility from a notebook cell.

``%load_ext ipytune`` registers the magics and puts ``tune`` in the namespace.
Importing this package is cheap: Optuna, scikit-learn, pandas, torch, trackio
and the widget libraries load only inside the functions that need them.
"""

from __future__ import annotations

from typing import Any

from ipytune._version import __version__
from ipytune.declarations import tune

__all__ = ["__version__", "load_ipython_extension", "tune"]


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext ipytune``."""
    from ipytune.magics import register

    register(ipython)
