"""``tune.log``, ``tune.log_artifact``, ``tune.log_image`` and ``tune.track``: tracking from the user's own code.

- Inside a ``%%tune`` trial, ``tune.log({...})`` adds rows to that trial's run
  (``log_artifact`` / ``log_image``: a file or a picture).
- Inside ``with tune.track(...)``, it logs to that run (a training loop).
- Anywhere else, it logs to a run of its own, one per session, in project
  ``ipytune``.

The running trial and its tracker come from :mod:`ipytune._context` (set by the
search engine around each trial); the open ``tune.track`` blocks are a context
variable too, so threads and workers each have their own.

Rows go through the same background writer as the search's runs; leaving a
``tune.track`` block waits until they are written.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from IPython.core.error import UsageError

from ipytune._context import current_log_sink, current_trial
from ipytune.errors import IpytuneWarning
from ipytune.tracking._trackio import trackio_dir
from ipytune.tracking.records import ArtifactFile, Environment, Failures, RunRows, metric_value, now, parse_tags
from ipytune.tracking.writer import writer

DEFAULT_PROJECT = "ipytune"

_open_blocks: ContextVar[tuple[TrackedRun, ...]] = ContextVar("ipytune_track_blocks", default=())  # innermost last
_session_run: TrackedRun | None = None  # where a stray tune.log goes, one per session


class TrackedRun:
    """A trackio run written by ipytune's writer: ``log(metrics, step)``, then ``finish()``."""

    def __init__(
        self,
        project: str,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        group: str | None = None,
        tags: tuple[str, ...] = (),
        notes: str | None = None,
    ) -> None:
        self.project = project
        self.name = name or f"run-{time.strftime('%Y%m%d-%H%M%S')}"
        self.config = dict(config or {})
        if tags:
            self.config["tags"] = list(tags)
        if notes:
            self.config["notes"] = notes
        self.group = group
        self.id = uuid.uuid4().hex
        self._first: RunRows | None = None  # the batch that carries the config: the writer names the run there
        self.failures = Failures()
        self._folder = trackio_dir()
        self._environment = Environment(None, os.getcwd())  # seed: the one %seed_everything set
        self._started = time.monotonic()
        self._created = now()
        self._next_step = 0
        self._config_sent = False
        self._warned = False

    def __repr__(self) -> str:
        return f"<ipytune TrackedRun {self.name!r} in project {self.project!r}>"

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Add ``metrics`` at ``step`` (default: one after the last step logged)."""
        values = check_metrics(metrics)
        if step is None:
            step = self._next_step
        self._next_step = max(self._next_step, int(step) + 1)
        self._submit([(int(step), values, now())])
        self.warn_if_failed()

    def log_artifact(self, value: Any, name: str | None = None) -> None:
        """Attach ``value`` (an object, saved as a model is, or a file/folder path) to this run."""
        from ipytune.tracking.artifacts import artifact_name, stage

        artifact = stage(value, name)
        artifact.name = artifact_name(artifact.name, self.id)
        self._submit([], [artifact])

    def log_image(self, image: Any, name: str, step: int | None = None, caption: str | None = None) -> None:
        """Add a picture (array, PIL image, matplotlib figure, file) as metric ``name`` at ``step``."""
        from ipytune.tracking.artifacts import stage_image

        _check_image_name(name)
        if step is None:
            step = max(self._next_step - 1, 0)
        self._submit([(int(step), {name: stage_image(image, caption)}, now())])

    def finish(self, state: str = "COMPLETE", reason: str | None = None) -> None:
        """Write the summary row (duration, state) and wait until the run is in trackio."""
        summary: dict[str, Any] = {"duration": time.monotonic() - self._started, "state": state}
        if reason:
            summary["fail_reason"] = reason
        self._submit([(max(self._next_step - 1, 0), summary, now())])
        if not writer.flush() and self.failures.error is None:
            self.failures.record(TimeoutError("the trackio writer did not finish in time"), 1)
        if self._first is not None:
            self.name = self._first.name  # unique in the project now (``name (2)`` for a notebook run twice)
        self.warn_if_failed()

    def _submit(self, rows: list[tuple[int, dict[str, Any], str]], artifacts: list[ArtifactFile] | None = None) -> None:
        batch = RunRows(
            folder=self._folder,
            project=self.project,
            run_id=self.id,
            name=self.name,
            rows=rows,
            failures=self.failures,
            config=None if self._config_sent else self.config,
            group=self.group,
            environment=self._environment,
            created=self._created,
            artifacts=artifacts or [],
        )
        self._first = self._first or batch
        writer.submit(batch)
        self._config_sent = True

    def warn_if_failed(self) -> None:
        if self.failures.error is None or self._warned:
            return
        self._warned = True
        warnings.warn(
            f"tracking failed: trackio could not record run {self.name!r} of project {self.project!r} in "
            f"{self._folder} ({type(self.failures.error).__name__}: {self.failures.error}); the cell goes on. "
            f"Point TRACKIO_DIR at a writable folder.",
            IpytuneWarning,
            stacklevel=3,
        )


def check_metrics(metrics: Any) -> dict[str, Any]:
    if not isinstance(metrics, Mapping) or not metrics:
        raise UsageError(
            f"tune.log takes a dict of metrics, e.g. tune.log({{'loss': 0.3}}); got {type(metrics).__name__}."
        )
    bad = [key for key in metrics if not isinstance(key, str) or not key or key.startswith("_")]
    if bad:
        raise UsageError(f"tune.log: metric names must be non-empty strings not starting with '_' (got {bad[0]!r}).")
    return {key: metric_value(value) for key, value in metrics.items()}


def _check_image_name(name: Any) -> None:
    if not isinstance(name, str) or not name or name.startswith("_"):
        raise UsageError(f"tune.log_image(..., name={name!r}): a name is a non-empty string not starting with '_'.")


def log(metrics: Mapping[str, Any], step: int | None = None) -> None:
    """``tune.log``: see the module docstring for where the metrics go."""
    values = check_metrics(metrics)
    trial = current_trial()
    if trial is not None:
        number = getattr(trial, "number", None)
        sink = current_log_sink()
        if sink is not None and isinstance(number, int):
            sink.log(number, values, None if step is None else int(step))
        return  # a search without tracking, or the refit run: nothing to add to
    blocks = _open_blocks.get()
    run = blocks[-1] if blocks else _session()
    run.log(values, step)


def log_artifact(value: Any, name: str | None = None) -> None:
    """``tune.log_artifact``: attach a file, a folder or an object (a model) to the current run."""
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise UsageError(f"tune.log_artifact(..., name={name!r}): a name is a non-empty string, e.g. name='model'.")
    trial = current_trial()
    if trial is not None:
        attach = _trial_attach(trial, "tune.log_artifact")
        if attach is not None:
            from ipytune.tracking.artifacts import stage

            attach(trial.number, stage(value, name), None)
        return
    blocks = _open_blocks.get()
    (blocks[-1] if blocks else _session()).log_artifact(value, name)


def log_image(image: Any, name: str = "image", step: int | None = None, caption: str | None = None) -> None:
    """``tune.log_image``: a picture (array, PIL image, matplotlib figure, file) in the current run."""
    _check_image_name(name)
    trial = current_trial()
    if trial is not None:
        attach = _trial_attach(trial, "tune.log_image")
        if attach is not None:
            from ipytune.tracking.artifacts import stage_image

            attach(trial.number, stage_image(image, caption), (name, step))
        return
    blocks = _open_blocks.get()
    (blocks[-1] if blocks else _session()).log_image(image, name, step, caption)


_warned_workers = False


def _trial_attach(trial: Any, what: str) -> Any:
    """The tracker's ``attach`` for the running trial; None in a refit, an untracked search, or a worker."""
    global _warned_workers
    sink = current_log_sink()
    if sink is None or not isinstance(getattr(trial, "number", None), int):
        return None  # a search without tracking, or the refit run: nothing to add to
    attach = getattr(sink, "attach", None)
    if attach is None and not _warned_workers:  # a worker process: its rows travel in the study, files do not
        _warned_workers = True
        warnings.warn(
            f"{what} is not recorded from --n-jobs/--cluster worker processes (yet): run without them, or "
            f"log the file after the search.",
            IpytuneWarning,
            stacklevel=3,
        )
    return attach


@contextmanager
def track(
    project: str = DEFAULT_PROJECT,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    group: str | None = None,
    tags: str | Iterable[str] | None = None,
    notes: str | None = None,
) -> Iterator[TrackedRun]:
    """Track an ordinary cell as one trackio run; ``tune.log`` inside it logs to that run."""
    if not isinstance(project, str) or not project.strip():
        raise UsageError("tune.track(project=...) needs a project name, e.g. tune.track(project='mnist').")
    if config is not None and not isinstance(config, Mapping):
        raise UsageError(f"tune.track(config=...) takes a dict, not {type(config).__name__}.")
    if notes is not None and not isinstance(notes, str):
        raise UsageError(f"tune.track(notes=...) takes a string, not {type(notes).__name__}.")
    try:
        tag_tuple = parse_tags(tags, "tune.track(tags=...)") if tags is not None else ()
    except ValueError as error:
        raise UsageError(str(error)) from None
    run = TrackedRun(project, name, config, group, tag_tuple, notes)
    token = _open_blocks.set((*_open_blocks.get(), run))
    try:
        yield run
    except KeyboardInterrupt:
        _close(token, run, "FAIL", "interrupted")
        raise
    except BaseException as error:
        _close(token, run, "FAIL", f"{type(error).__name__}: {error}")
        raise
    else:
        _close(token, run, "COMPLETE")


def _close(token: Any, run: TrackedRun, state: str, reason: str | None = None) -> None:
    _open_blocks.reset(token)
    run.finish(state, reason)


def _session() -> TrackedRun:
    global _session_run
    if _session_run is None or _session_run._folder != trackio_dir():  # TRACKIO_DIR moved: a run there
        _session_run = TrackedRun(DEFAULT_PROJECT, name=f"session-{time.strftime('%Y%m%d-%H%M%S')}")
    return _session_run
