"""What the writer thread receives: rows of one trackio run, and where to send failures.

Built on the notebook's thread from plain Python values (cheap); serialised
and written on the writer thread.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ipytune._format import format_params

NAME_LIMIT = 60  # characters: a run name still readable in a dashboard legend
VALUE_LIMIT = 16  # characters of one parameter value in a run name


@dataclass
class Failures:
    """Where the writer reports what it could not write; read by whoever warns, once."""

    error: BaseException | None = None
    lost: int = 0  # runs not written
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, error: BaseException, runs: int) -> None:
        with self._lock:
            if self.error is None:
                self.error = error
            self.lost += runs

    def skip(self) -> None:
        with self._lock:
            self.lost += 1


class Environment:
    """The ``env.*`` config entries, computed once (on the writer thread) and shared by a study's runs."""

    def __init__(self, seed: int | None, cwd: str) -> None:
        self.seed = seed
        self.cwd = cwd
        self._values: dict[str, Any] | None = None

    def values(self) -> dict[str, Any]:
        if self._values is None:
            from ipytune.tracking.environment import capture_environment

            self._values = capture_environment(self.seed, self.cwd)
        return self._values


@dataclass
class Staged:
    """A file ipytune wrote for a run (a serialised model, a picture); ``staged`` ones are its own
    temporary copies, removed once trackio has stored them."""

    path: Path
    staged: bool = True

    def discard(self) -> None:
        if self.staged:
            shutil.rmtree(self.path.parent, ignore_errors=True)  # each staged file has a folder of its own


@dataclass
class Media(Staged):
    """A picture among a run's metrics (a PNG file); written as a trackio Image."""

    caption: str | None = None


@dataclass
class ArtifactFile(Staged):
    """A file or folder attached to a run as a trackio artifact (``name`` unique in the project)."""

    name: str = ""
    type: str = "file"
    metadata: dict[str, Any] = field(default_factory=dict)


def staging_folder() -> Path:
    """A new empty folder for one staged file (removed with it)."""
    return Path(tempfile.mkdtemp(prefix="ipytune-stage-"))


@dataclass
class RunRows:
    """Metric rows (and, when given, the config) of one trackio run."""

    folder: Path
    project: str
    run_id: str
    name: str
    rows: list[tuple[int, dict[str, Any], str]]  # (step, metrics, ISO timestamp)
    failures: Failures
    config: dict[str, Any] | None = None  # written, replacing any earlier one, when not None
    group: str | None = None
    environment: Environment | None = None  # merged into the config on the writer thread
    created: str = field(default_factory=lambda: now())
    artifacts: list[ArtifactFile] = field(default_factory=list)  # committed after the run's rows

    def full_config(self) -> dict[str, Any] | None:
        """The user's config plus the ``env.*`` entries; None when this batch writes no config."""
        if self.config is None:
            return None
        config = dict(self.config)
        if self.environment is not None:
            config.update(self.environment.values())
        return config


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def iso(moment: datetime | None) -> str:
    """An Optuna datetime (naive, local time) as trackio's UTC ISO timestamp."""
    if moment is None:
        return now()
    return moment.astimezone(timezone.utc).isoformat()


def run_name(params: dict[str, Any], limit: int = NAME_LIMIT) -> str:
    """``max_depth=10,n_estimators=200``: parameters in declaration order, shortened to ``limit``."""
    return format_params(params, limit, sep=",", width=VALUE_LIMIT)


def parse_tags(tags: str | Iterable[str] | None, what: str = "--tags") -> tuple[str, ...]:
    """``"baseline,augmented"`` or ``["baseline", "augmented"]`` -> ``("baseline", "augmented")``."""
    if tags is None:
        return ()
    words = tags.split(",") if isinstance(tags, str) else list(tags)
    if not all(isinstance(word, str) for word in words):
        raise ValueError(f"{what}: tags are strings, e.g. {what}=['baseline', 'augmented'].")
    cleaned = tuple(dict.fromkeys(word.strip() for word in words if word.strip()))
    if not cleaned:
        raise ValueError(f"{what} {tags!r}: give at least one tag, e.g. baseline,augmented.")
    return cleaned


def metric_value(value: Any) -> Any:
    """A value trackio can store: NumPy scalars and 0-d tensors become Python numbers."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return value  # trackio stores NaN as the string "NaN" and reads it back as float
    return value
