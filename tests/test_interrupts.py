"""Ctrl-C at any point of a search loses nothing: every finished trial is in the study and in trackio.

Not one lucky timing: a trace function raises ``KeyboardInterrupt`` at the k-th line that
ipytune itself executes during ``Search.run`` (the loop, the trial, the tell, the observers,
the tracker), for every k, as a Ctrl-C landing on that line would.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import ipytune
from ipytune._context import current_trial
from ipytune.search.cell import parse_cell
from ipytune.search.declarations import tune
from ipytune.search.engine import Search
from ipytune.search.progress import NoProgress
from ipytune.search.settings import SearchSettings
from ipytune.tracking.observer import TrackingObserver, TrackSettings
from ipytune.tracking.runs import projects, runs
from ipytune.tracking.writer import writer

PACKAGE = str(Path(ipytune.__file__).parent)
TRIALS = 3


class InterruptAt:
    """A trace function: ``KeyboardInterrupt`` at the k-th line executed in ipytune's own files."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.lines = 0
        self.fired = False
        self.where = ""

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        return self._line

    def _line(self, frame: FrameType, event: str, arg: Any) -> Any:
        # where a real Ctrl-C would be held (the search's last steps), it does not land
        if event == "line" and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.lines += 1
            if self.lines == self.k:
                self.fired = True
                self.where = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} ({frame.f_code.co_name})"
                raise KeyboardInterrupt  # also unsets the trace: one interrupt, as one Ctrl-C
        return self._line


def search(project: str) -> Search:
    program = parse_cell("x = tune.int(0, 9)\ntune.log({'seen': x})\nx")
    settings = SearchSettings(method="random", n_trials=TRIALS, seed=0, storage="memory")
    tracker = TrackingObserver(TrackSettings(method="random", project=project))
    return Search(program, {"tune": tune}, settings, [NoProgress("random"), tracker])


def run_interrupted(k: int, project: str) -> tuple[Any, InterruptAt]:
    s = search(project)
    s.prepare()
    tracer = InterruptAt(k)
    sys.settrace(tracer)
    try:
        result = s.run()
    except KeyboardInterrupt:
        # only on a line of Search.run's own glue (before its try, in its finally): every trial is told
        # already, and the writer thread still writes every run handed over (checked by the caller)
        assert tracer.where.startswith(("engine.py", "_context.py")), tracer.where
        assert tracer.where.endswith(("(run)", "(prepare)", "(interrupts_held)", "(snapshot)")), tracer.where
        return s, tracer
    finally:
        sys.settrace(None)
    return result, tracer


def test_ctrl_c_on_any_line_keeps_every_finished_trial_in_the_study_and_in_trackio(trackio_dir: Path) -> None:
    escaped: list[str] = []
    k = 0
    while True:  # k = 1, 2, ... until a search runs to its end before the k-th line
        k += 1
        project = f"interrupts-{k}"
        result, tracer = run_interrupted(k, project)  # returns: the interrupt never escapes once trials run
        if isinstance(result, Search):
            escaped.append(tracer.where)
            writer.flush()
        assert current_trial() is None, tracer.where  # nothing of the search is left running in this context
        trials = result.study.get_trials(deepcopy=False)
        states = [t.state.name for t in trials]
        assert all(t.state.is_finished() for t in trials), (tracer.where, states)
        tracked = runs(project) if project in projects() else []
        assert len(tracked) == len(trials), (tracer.where, len(tracked), states)
        if not tracer.fired:
            assert result.stop_reason == "completed"
            assert len(trials) == TRIALS
            break
        assert isinstance(result, Search) or result.stop_reason == "interrupted", tracer.where
    assert k > 100  # the tracer really followed ipytune's code: the loop, the trial, the tell, the tracker
    # Where the interrupt does escape: the few lines of Search.run before its try and around its
    # finally, where nothing is running (checked above: nothing is lost there either)
    assert len(escaped) <= 14, escaped
    assert all(where.endswith(("(run)", "(prepare)", "(interrupts_held)", "(snapshot)")) for where in escaped), escaped
