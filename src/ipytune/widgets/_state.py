"""What every widget puts in its synced state: rounded numbers, and the presentation switch."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

_presenting = False


def rounded(values: Any) -> list[float]:
    """Numbers as a flat list of floats to six significant digits.

    Six digits keep the state small (it is saved in the notebook and travels to exported
    HTML) without changing what is drawn.
    """
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=float).ravel()]


def presentation(on: bool = True) -> None:
    """Draw every ipytune widget created from now on at presentation scale (or not).

    A lecture deck calls ``presentation()`` once at the top instead of passing ``present=True``
    to each widget; ``%%tune``'s dashboard follows it too.
    """
    global _presenting
    _presenting = bool(on)


class Presentable(traitlets.HasTraits):
    """``present``: 18 px text and drawings 1.6x larger (js/styles.css, ``.ipytune-present``)."""

    present = traitlets.Bool().tag(sync=True)

    @traitlets.default("present")
    def _present_default(self) -> bool:
        return _presenting
