"""Live progress of a search: a widget in a notebook, one rewritten line in a terminal.

Both keep the best value themselves (O(1) per trial) and redraw at most a few
times a second however fast trials finish; the final state is always drawn.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from ipytune._format import format_params

MIN_INTERVAL = 0.25  # seconds between redraws


class _Tracker:
    """Counts and best-so-far, shared by the text and widget displays."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.total = 0
        self.done = 0
        self.counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0}
        self.best_value: float | None = None
        self.best_params: dict[str, Any] = {}
        self.best_number: int | None = None
        self._maximize = True
        self._started = 0.0
        self._last_draw = -math.inf

    def start(self, study: Any, total: int) -> None:
        self.total = total
        self._maximize = study.direction.name == "MAXIMIZE"
        self._started = time.monotonic()
        for trial in study.get_trials(deepcopy=False):  # a resumed study already has a best
            self._count_best(trial)

    def update(self, study: Any, trial: Any) -> None:
        self.done += 1
        state = trial.state.name
        self.counts[state] = self.counts.get(state, 0) + 1
        self._count_best(trial)
        now = time.monotonic()
        if now - self._last_draw >= MIN_INTERVAL:
            self._last_draw = now
            self.draw()

    def _count_best(self, trial: Any) -> None:
        if trial.state.name != "COMPLETE" or trial.value is None:
            return
        better = self.best_value is None or (
            trial.value > self.best_value if self._maximize else trial.value < self.best_value
        )
        if better:
            self.best_value, self.best_params, self.best_number = trial.value, dict(trial.params), trial.number

    def finish(self, study: Any, reason: str) -> None:
        self.draw(final=reason)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def line(self) -> str:
        best = "—" if self.best_value is None else f"{self.best_value:.6g} (trial {self.best_number})"
        extra = [f"{n} {s.lower()}" for s, n in self.counts.items() if s != "COMPLETE" and n]
        extra_text = f" ({', '.join(extra)})" if extra else ""
        return f"[{self.method}] trial {self.done}/{self.total}{extra_text} · {self.elapsed:.1f}s · best {best}" + (
            f" · {format_params(self.best_params)}" if self.best_params else ""
        )

    def draw(self, final: str | None = None) -> None:
        raise NotImplementedError


class TextProgress(_Tracker):
    """One line, rewritten in place, for terminal IPython."""

    def __init__(self, method: str, stream: TextIO | None = None) -> None:
        super().__init__(method)
        self.stream = stream or sys.stdout

    def draw(self, final: str | None = None) -> None:
        end = "\n" if final is not None else ""
        self.stream.write("\r" + self.line() + end)
        self.stream.flush()


class WidgetProgress(_Tracker):
    """A progress bar and a status line (ipywidgets) for notebook front-ends."""

    def __init__(self, method: str) -> None:
        super().__init__(method)
        import ipywidgets as widgets
        from IPython.display import display

        self.bar = widgets.IntProgress(min=0, max=1, value=0, description=method, bar_style="info")
        self.label = widgets.HTML()
        self.box = widgets.HBox([self.bar, self.label])
        display(self.box)  # type: ignore[no-untyped-call]

    def draw(self, final: str | None = None) -> None:
        self.bar.max = max(self.total, 1)
        self.bar.value = self.done
        self.label.value = f"<code>{_escape(self.line())}</code>"
        if final is not None:
            self.bar.bar_style = "success" if final in ("completed", "grid exhausted") else "warning"


class NoProgress(_Tracker):
    """For --quiet: counts kept, nothing drawn."""

    def draw(self, final: str | None = None) -> None:
        pass


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_progress(method: str, quiet: bool, in_kernel: bool) -> _Tracker:
    if quiet:
        return NoProgress(method)
    if in_kernel:
        return WidgetProgress(method)
    return TextProgress(method)
