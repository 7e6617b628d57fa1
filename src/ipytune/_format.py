"""How ipytune writes a parameter value or a set of parameters in one line (progress, tables, run names)."""

from __future__ import annotations

from typing import Any


def short(value: Any, width: int | None = None) -> str:
    """A float to four significant digits; anything else as ``str``, cut to ``width`` characters if given."""
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def format_params(params: dict[str, Any], limit: int | None = 80, sep: str = ", ", width: int | None = None) -> str:
    """``max_depth=10, lr=0.001``: parameters in declaration order, cut to ``limit`` characters if given."""
    text = sep.join(f"{key}={short(value, width)}" for key, value in params.items())
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip("…") + "…"


class Summarised:
    """Shown as IPython shows its own results: a one-line ``repr``; the full text through
    ``_repr_pretty_`` (what a notebook or terminal displays) and ``str`` (what ``print`` writes)."""

    def headline(self) -> str:
        raise NotImplementedError

    def to_text(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.headline()}>"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.to_text())
