"""Helpers for what the widgets put in their synced state (JSON that travels to the front-end)."""

from __future__ import annotations

from typing import Any

import numpy as np


def rounded(values: Any) -> list[float]:
    """Numbers as a flat list of floats to six significant digits.

    Six digits keep the state small (it is saved in the notebook and travels to exported
    HTML) without changing what is drawn.
    """
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=float).ravel()]
