"""The engine observer that makes every ``%%tune`` trial a trackio run.

On the search's critical path it only copies the finished trial's values into
a :class:`~ipytune.tracking.records.RunRows` and hands it to the writer
thread. ``finish`` waits for the writer, so every run is in trackio when the
magic returns, after an interrupt too, and warns once if trackio failed.

Run layout (one run per trial; project = ``--project`` or the study name,
group = the study name):

- config: the parameters, ``search.*`` (method, study, trial, seed, seeds,
  direction, metric), ``tags`` and ``notes`` when given, and ``env.*`` (see
  :mod:`ipytune.tracking.environment`);
- metrics: each ``tune.report(value, step)`` as ``<metric>`` at its step, each
  ``tune.log`` at its step, then one summary row: ``<metric>`` (the
  objective), ``duration`` (s), ``state`` (COMPLETE / PRUNED / FAIL) and the
  trial's numeric user attributes (``cv_std``, ``seed_std``, ``seed_values``,
  ...), at the last reported step (one step later when the objective differs
  from the last reported value);
- artifacts: what the cell attached (``tune.log_artifact``), and after the search the
  refitted model, on the best trial's run (:meth:`TrackingObserver.save_model`);
  pictures (``tune.log_image``) are metrics trackio shows as images.
"""

from __future__ import annotations

import os
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from ipytune.errors import IpytuneWarning
from ipytune.tracking import _trackio
from ipytune.tracking._trackio import trackio_dir
from ipytune.tracking.artifacts import artifact_name, load_line, stage, stage_image
from ipytune.tracking.records import (
    ArtifactFile,
    Environment,
    Failures,
    Media,
    RunRows,
    iso,
    metric_value,
    now,
    run_name,
)
from ipytune.tracking.writer import FLUSH_TIMEOUT, writer

DEFAULT_METRIC = "objective"

_last_project: str | None = None  # session history (not the running search): %compare_runs' default


def last_tracked_project() -> str | None:
    """The trackio project of the last tracked search in this session."""
    return _last_project


@dataclass
class TrackSettings:
    """What the tracker needs from the ``%%tune`` line."""

    method: str
    project: str | None = None  # default: the study name
    metric_name: str = DEFAULT_METRIC
    seed: int | None = None
    seeds: tuple[int, ...] | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    save_model: bool = True  # the refitted best model, as an artifact of the best trial's run


class TrackingObserver:
    """``Observer`` (see :mod:`ipytune.search.engine`) writing one trackio run per finished trial."""

    def __init__(self, settings: TrackSettings) -> None:
        self.settings = settings
        self.project = settings.project or ""
        self.failures = Failures()
        self.submitted = 0
        self._search: dict[str, Any] = {}
        self._logs: dict[int, list[tuple[int, dict[str, Any], str]]] = {}
        self._artifacts: dict[int, list[ArtifactFile]] = {}
        self._runs: dict[int, RunRows] = {}  # trial number -> its run, as handed to the writer
        self._names: set[str] = set()
        self._seen: set[int] = set()
        self._handed: dict[int, RunRows] = {}  # a trial's run between building it and the writer taking it
        self._last_known = -1

    # -- Observer -----------------------------------------------------------------
    def start(self, study: Any, total: int) -> None:
        global _last_project
        settings = self.settings
        self.study_name = study.study_name
        self.project = settings.project or study.study_name
        self.folder = trackio_dir()
        self.environment = Environment(settings.seed, os.getcwd())
        self._search = {
            "search.method": settings.method,
            "search.study": study.study_name,
            "search.direction": study.direction.name.lower(),
            "search.metric": settings.metric_name,
            "search.seed": settings.seed,
            "search.seeds": list(settings.seeds) if settings.seeds else None,
        }
        if settings.tags:
            self._search["tags"] = list(settings.tags)
        if settings.notes:
            self._search["notes"] = settings.notes
        self._last_known = max((t.number for t in study.get_trials(deepcopy=False)), default=-1)
        _last_project = self.project
        writer.start()

    def update(self, study: Any, trial: Any) -> None:
        self._submit(trial)

    def finish(self, study: Any, reason: str) -> None:
        if reason == "interrupted":  # a trial the interrupt stopped, or one told just before it, was never updated
            for trial in study.get_trials(deepcopy=False):
                if trial.number > self._last_known and trial.number not in self._seen and trial.state.is_finished():
                    self._submit(trial)
        flushed = writer.flush()
        self.warn_if_failed(flushed)

    # -- tune.log inside a trial (the engine makes this observer the trial's log sink) ---------
    def log(self, number: int, metrics: dict[str, Any], step: int | None) -> None:
        rows = self._logs.setdefault(number, [])
        if step is None:
            step = max((s for s, _, _ in rows), default=-1) + 1
        rows.append((step, metrics, now()))

    def attach(self, number: int, item: ArtifactFile | Media, metric: tuple[str, int | None] | None) -> None:
        """``tune.log_artifact`` (a file for the run) or ``tune.log_image`` (``metric``: its name and step)."""
        if isinstance(item, ArtifactFile):
            self._artifacts.setdefault(number, []).append(item)
            return
        assert metric is not None
        name, step = metric
        rows = self._logs.setdefault(number, [])
        rows.append((max((s for s, _, _ in rows), default=0) if step is None else int(step), {name: item}, now()))

    def save_model(self, study: Any, number: int, model: Any, picture: tuple[str, Any] | None = None) -> str | None:
        """Save ``model`` (and ``picture``: a metric name and a PIL image) on trial ``number``'s run.

        Returns what to tell the user (where it went and the one line that loads it back, or why it was
        not saved); None when trackio failed, after a warning.
        """
        writer.flush()
        handed = self._runs.get(number)
        found = (handed.run_id, handed.name) if handed is not None else None
        if found is None:  # a trial of an earlier execution of a resumed study
            found = _trackio.trial_run(self.folder, self.project, study.study_name, number)
        if found is None:
            return f"no model saved: the best trial ({number}) has no run in trackio project {self.project!r}"
        run_id, name = found
        artifact = stage(model, "model")
        artifact.name = artifact_name("model", run_id)
        rows = [] if picture is None else [(0, {picture[0]: stage_image(picture[1])}, now())]
        failures = Failures()
        writer.submit(RunRows(self.folder, self.project, run_id, name, rows, failures, artifacts=[artifact]))
        flushed = writer.flush()
        if not flushed or failures.error is not None:
            problem = (
                f"{type(failures.error).__name__}: {failures.error}"
                if failures.error is not None
                else f"the writer did not finish within {FLUSH_TIMEOUT:g} s"
            )
            warnings.warn(
                f"tracking failed: trackio could not save the best model on run {name!r} of project "
                f"{self.project!r} ({problem}); the search and the model in the notebook are kept.",
                IpytuneWarning,
                stacklevel=2,
            )
            return None
        return f"best model saved in trackio: {load_line(self.project, name, artifact.metadata)}"

    # -- internals ----------------------------------------------------------------
    def _submit(self, trial: Any) -> None:
        rows = self._handed.get(trial.number)
        if rows is None:
            rows = self._handed[trial.number] = self.rows(trial)
        if not writer.holds(rows):  # a Ctrl-C inside an earlier submit may have handed it over already
            writer.submit(rows)
        self._seen.add(trial.number)  # only after the hand-over: a Ctrl-C before it leaves it to finish()
        self._handed.pop(trial.number, None)
        self.submitted += 1

    def rows(self, trial: Any) -> RunRows:
        """One trial as a trackio run (plain values only: serialisation happens on the writer thread)."""
        metric = self.settings.metric_name
        finished = iso(trial.datetime_complete)
        reported = trial.intermediate_values
        rows = [(step, {metric: value}, finished) for step, value in sorted(reported.items())]
        rows += self._logs.pop(trial.number, [])
        last = max((step for step, _, _ in rows), default=None)
        summary: dict[str, Any] = {"state": trial.state.name}
        if trial.value is not None:
            summary[metric] = trial.value
        if trial.datetime_start is not None and trial.datetime_complete is not None:
            summary["duration"] = (trial.datetime_complete - trial.datetime_start).total_seconds()
        summary.update(_attributes(trial.user_attrs))
        if last is None:
            step = 0
        elif trial.value is None or reported.get(last) == trial.value:
            step = last
        else:
            step = last + 1
        rows.append((step, summary, finished))

        params = dict(trial.params)
        config = dict(params)
        config.update(self._search)
        config["search.trial"] = trial.number
        run_id = uuid.uuid4().hex
        artifacts = self._artifacts.pop(trial.number, [])
        for artifact in artifacts:
            artifact.name = artifact_name(artifact.name, run_id)
        run = self._runs[trial.number] = RunRows(
            folder=self.folder,
            project=self.project,
            run_id=run_id,
            name=self._name(params, trial.number),
            rows=rows,
            failures=self.failures,
            config=config,
            group=self.study_name,
            environment=self.environment,
            created=iso(trial.datetime_start),
            artifacts=artifacts,
        )
        return run

    def _name(self, params: dict[str, Any], number: int) -> str:
        name = run_name(params) or f"trial-{number}"
        if name in self._names:  # the same point twice (resumed random search, a retried trial)
            name = f"{name} #{number}"
        self._names.add(name)
        return name

    def warn_if_failed(self, flushed: bool = True) -> None:
        failures = self.failures
        if failures.error is None and flushed:
            return
        problem = (
            f"{type(failures.error).__name__}: {failures.error}"
            if failures.error is not None
            else f"the writer did not finish within {FLUSH_TIMEOUT:g} s"
        )
        warnings.warn(
            f"tracking failed: trackio could not record {failures.lost or 'some'} of {self.submitted} runs "
            f"of study {self.study_name!r} in {self.folder} ({problem}). The search went on and the study "
            f"keeps every trial; point TRACKIO_DIR at a writable folder, or pass --no-track.",
            IpytuneWarning,
            stacklevel=2,
        )


def _attributes(user_attrs: dict[str, Any]) -> dict[str, Any]:
    """The trial's user attributes trackio can show: numbers, lists of numbers, the failure reason."""
    kept: dict[str, Any] = {}
    for key, value in user_attrs.items():
        value = metric_value(value)
        if isinstance(value, (int, float)) or key == "fail_reason":
            kept[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
            kept[key] = list(value)
    return kept
