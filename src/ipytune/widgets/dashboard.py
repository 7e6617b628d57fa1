"""The live search dashboard that ``%%tune`` shows in a notebook, and ``result.dashboard()``.

It is an engine observer (see :class:`ipytune.search.engine.Observer`): the per-trial
work is appending two numbers; the widget is redrawn at most every
``progress.MIN_INTERVAL`` seconds whatever the trial rate, and the trial values
travel as binary buffers (float64 values, uint8 states), not JSON lists.
"""

from __future__ import annotations

import time
from array import array
from typing import Any

import anywidget
import traitlets

from ipytune._format import format_params
from ipytune.search.progress import _Tracker
from ipytune.widgets._bundle import bundle, stylesheet
from ipytune.widgets._state import Presentable

STATE_CODES = {"COMPLETE": 0, "PRUNED": 1, "FAIL": 2}
POLL_INTERVAL = 0.1  # seconds between looks for a Stop click
# Shown inline in the dashboard, where the Stop button would be (Colab, ipykernel < 7, a console).
STOP_UNAVAILABLE = (
    "No Stop button here: this kernel cannot take a click while the search runs (that needs "
    "ipykernel 7; Colab's is older). To stop, interrupt the kernel (the ■ button, or Runtime → "
    "Interrupt execution on Colab): every finished trial is kept."
)


class SearchDashboard(Presentable, anywidget.AnyWidget):
    _esm = bundle("dashboard")
    _css = stylesheet("dashboard")
    title = traitlets.Unicode("").tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    done = traitlets.Int(0).tag(sync=True)
    elapsed = traitlets.Float(0.0).tag(sync=True)
    eta = traitlets.Float(None, allow_none=True).tag(sync=True)
    counts = traitlets.Dict().tag(sync=True)
    best_value = traitlets.Float(None, allow_none=True).tag(sync=True)
    best_number = traitlets.Int(None, allow_none=True).tag(sync=True)
    best_params = traitlets.Dict().tag(sync=True)
    maximize = traitlets.Bool(True).tag(sync=True)
    values = traitlets.Bytes(b"").tag(sync=True)  # float64 per trial, NaN when it has no value
    states = traitlets.Bytes(b"").tag(sync=True)  # uint8 per trial: STATE_CODES
    status = traitlets.Unicode("running").tag(sync=True)
    can_stop = traitlets.Bool(False).tag(sync=True)
    stop_note = traitlets.Unicode("").tag(sync=True)
    stop_requested = traitlets.Bool(False).tag(sync=True)  # set by the front-end's Stop button

    def __repr__(self) -> str:
        best = "—" if self.best_value is None else f"{self.best_value:.6g} (trial {self.best_number})"
        counts = ", ".join(f"{n} {s.lower()}" for s, n in self.counts.items() if n)
        params = format_params(self.best_params) if self.best_params else ""
        return (
            f"{self.title}: {self.done}/{self.total} trials ({counts or 'none'}) · {self.status} · best {best} {params}"
        )


class LiveDashboard(_Tracker):
    """Observer that drives a :class:`SearchDashboard` while a search runs."""

    def __init__(self, method: str, show: bool = True) -> None:
        super().__init__(method)
        from ipytune.widgets._pump import CommPump

        self.widget = SearchDashboard(title=f"%%tune --method {method}")
        self.updates_sent = 0
        self._values = array("d")
        self._states = array("B")
        self._last_poll = 0.0
        self.pump = CommPump.for_widget(self.widget)
        self.widget.can_stop = self.pump is not None
        if self.pump is None:
            self.widget.stop_note = STOP_UNAVAILABLE
        if show:
            from IPython.display import display

            display(self.widget)  # type: ignore[no-untyped-call]

    # -- engine observer ----------------------------------------------------------------------------
    def start(self, study: Any, total: int) -> None:
        super().start(study, total)
        self.widget.title = f"%%tune --method {self.method} · study {study.study_name!r}"
        for trial in study.get_trials(deepcopy=False):  # a resumed study shows its history too
            if trial.state.name in STATE_CODES:
                self._append(trial)
        self.draw()

    def update(self, study: Any, trial: Any) -> None:
        self._append(trial)
        super().update(study, trial)

    def finish(self, study: Any, reason: str) -> None:
        super().finish(study, reason)
        if self.pump is not None:
            self.pump.release()

    def should_stop(self) -> bool:
        """Polled by the engine before each trial (``run_search(should_stop=...)``)."""
        now = time.monotonic()
        if self.pump is not None and now - self._last_poll >= POLL_INTERVAL:
            self._last_poll = now
            self.pump.poll()
        return bool(self.widget.stop_requested)

    # -- drawing ------------------------------------------------------------------------------------
    def _append(self, trial: Any) -> None:
        value = trial.value if trial.state.name == "COMPLETE" and trial.value is not None else float("nan")
        self._values.append(float(value))
        self._states.append(STATE_CODES.get(trial.state.name, 2))

    def draw(self, final: str | None = None) -> None:
        w = self.widget
        eta = None
        if final is None and 0 < self.done < self.total:
            eta = self.elapsed / self.done * (self.total - self.done)
        with w.hold_sync():
            w.total, w.done, w.elapsed, w.eta = self.total, self.done, self.elapsed, eta
            w.counts = dict(self.counts)
            w.best_value, w.best_number, w.best_params = self.best_value, self.best_number, _jsonable(self.best_params)
            w.maximize = self._maximize
            w.values, w.states = self._values.tobytes(), self._states.tobytes()
            w.status = "running" if final is None else final
            if final is not None:
                w.can_stop = False
        self.updates_sent += 1


def dashboard_for(result: Any) -> SearchDashboard:
    """The dashboard of a finished (or resumed) search, rebuilt from its study."""
    board = LiveDashboard(result.method, show=False)
    board.pump = None
    trials = [t for t in result.study.get_trials(deepcopy=False) if t.state.name in STATE_CODES]
    board.start(result.study, len(trials))
    board._values, board._states = array("d"), array("B")
    for trial in trials:
        board._append(trial)
        board.done += 1
        board.counts[trial.state.name] = board.counts.get(trial.state.name, 0) + 1
    durations = [
        (t.datetime_complete - t.datetime_start).total_seconds()
        for t in trials
        if t.datetime_complete is not None and t.datetime_start is not None
    ]
    board._started = time.monotonic() - sum(durations)
    board.draw(final=result.stop_reason)
    board.widget.stop_note = ""
    return board.widget


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in params.items()}
