"""Everything ipytune borrows from trackio beyond its public API, in one place.

trackio's public API (``init``/``log``/``finish``, ``show``, ``Api``) writes
one run at a time, about 10 ms and a printed banner each, and reads runs
without their metrics. A search may finish hundreds of trials a second, and
``runs()`` wants every project as a table. So ipytune borrows, from trackio
0.43 (the canary tests in ``tests/test_trackio_adapter.py`` fail when an
upgrade moves any of these):

- ``trackio.sqlite_storage.SQLiteStorage``:

  - ``validate_project_name``, ``get_project_db_path``, ``init_db``: the first
    steps of its own ``bulk_log``, which ``write_runs`` repeats;
  - ``_get_process_lock`` and ``_get_connection`` (private): the same
    cross-process lock and connection settings as trackio's own writes;
  - the ``metrics`` table (``timestamp, run_id, run_name, step, metrics,
    log_id``) and the ``configs`` table (``run_id, run_name, config,
    created_at``): ``write_runs`` inserts rows there itself, many runs in one
    transaction, where ``bulk_log`` writes one run per transaction;
  - ``get_projects``, ``get_run_records``, ``get_all_run_configs``,
    ``get_logs_batch``: what its dashboard reads, for ``read_project``.

- ``trackio.utils.serialize_values`` and ``to_json_safe``: trackio's encoding
  of values (NaN and infinities as strings), so that trackio reads back what
  ipytune wrote.
- ``trackio.utils.TRACKIO_DIR``, ``MEDIA_DIR``, ``ARTIFACTS_DIR``: read once,
  when trackio is imported, and copied by the modules that import them.
  ``use`` rewrites every loaded copy, so that a ``TRACKIO_DIR`` set after
  ``import trackio`` (by a notebook or a test) is followed.
- trackio's default folder, ``$HF_HOME/trackio``: ``trackio_dir`` finds it
  without importing trackio (about a second).
- the config keys trackio's ``Run`` adds itself, ``_Username``, ``_Created``
  and ``_Group`` (its dashboard groups runs by ``_Group``), and its rule that
  config keys starting with ``_`` are its own, not the user's.
- the ``registry-`` prefix of the databases that hold trackio's registries,
  which are not projects.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipytune.tracking.records import RunRows

# trackio's folder constants: name -> sub-folder of TRACKIO_DIR.
_FOLDER_CONSTANTS = {"TRACKIO_DIR": "", "MEDIA_DIR": "media", "ARTIFACTS_DIR": "artifacts"}
_GROUP_KEY = "_Group"
_REGISTRY_PREFIX = "registry-"

_lock = threading.RLock()  # the writer thread and the notebook share trackio's module constants
_ready: set[Path] = set()  # databases whose schema init_db has checked in this process


def trackio_dir() -> Path:
    """The folder trackio uses now: ``$TRACKIO_DIR``, else trackio's default in the Hugging Face cache.

    Resolved without importing trackio (about a second), as huggingface_hub does.
    """
    configured = os.environ.get("TRACKIO_DIR")
    if configured:  # absolute: the writer thread must not follow later os.chdir calls
        return Path(configured).expanduser().absolute()
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface"
    )
    return Path(os.path.expanduser(os.path.expandvars(hf_home))) / "trackio"


def use(folder: Path) -> None:
    """Point every loaded trackio module at ``folder`` (no-op when it already is)."""
    import trackio.utils

    with _lock:
        current = trackio.utils.TRACKIO_DIR
        if current == folder:
            return
        old = {name: current / sub if sub else current for name, sub in _FOLDER_CONSTANTS.items()}
        new = {name: folder / sub if sub else folder for name, sub in _FOLDER_CONSTANTS.items()}
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "trackio" or name.startswith("trackio.")):
                continue
            for constant, value in old.items():
                if getattr(module, constant, None) == value:
                    setattr(module, constant, new[constant])


@contextmanager
def pointed_at(folder: Path) -> Iterator[None]:
    """Hold trackio on ``folder`` while reading or writing."""
    with _lock:
        use(folder)
        yield


def load() -> None:
    """Import trackio's storage now (about a second), e.g. on the writer thread before the first write."""
    import trackio.sqlite_storage  # noqa: F401


def write_runs(folder: Path, project: str, runs: Sequence[RunRows]) -> None:
    """Write ``runs`` (all of one project) in one transaction; raises whatever trackio or SQLite raised."""
    from trackio.sqlite_storage import SQLiteStorage
    from trackio.utils import serialize_values, to_json_safe

    def dumps(values: dict[str, Any]) -> bytes:
        # trackio's own encoding: NaN/inf become strings, everything else plain JSON (trackio reads it with orjson)
        safe = serialize_values(to_json_safe(values))  # type: ignore[no-untyped-call]
        return json.dumps(safe, separators=(",", ":"), allow_nan=False).encode()

    metric_rows = [
        (timestamp, run.run_id, run.name, step, dumps(metrics), uuid.uuid4().hex)
        for run in runs
        for step, metrics, timestamp in run.rows
    ]
    config_rows = [
        (run.run_id, run.name, dumps(_with_run_record(config, run)), run.created)
        for run in runs
        if (config := run.full_config()) is not None
    ]
    with pointed_at(folder):
        SQLiteStorage.validate_project_name(project)
        db_path = SQLiteStorage.get_project_db_path(project)
        if db_path not in _ready or not db_path.exists():
            SQLiteStorage.init_db(project)  # creates or migrates the schema; ~20 ms, so once
            _ready.add(db_path)
        with SQLiteStorage._get_process_lock(project), SQLiteStorage._get_connection(db_path) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO metrics (timestamp, run_id, run_name, step, metrics, log_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                metric_rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO configs (run_id, run_name, config, created_at) VALUES (?, ?, ?, ?)",
                config_rows,
            )


def _with_run_record(config: dict[str, Any], run: RunRows) -> dict[str, Any]:
    """``config`` plus the keys trackio's own ``Run`` stores in every config."""
    return {**config, "_Username": None, "_Created": run.created, _GROUP_KEY: run.group}


@dataclass
class Project:
    """What trackio stores about one project's runs."""

    records: list[dict[str, Any]]  # one per run: "id", "name", "created_at"
    configs: dict[str, dict[str, Any]]  # run id (or, in older projects, name) -> config
    logs: dict[str, list[dict[str, Any]]]  # run id -> logged rows: "step", "timestamp" and the metrics


def project_names(folder: Path) -> list[str]:
    """The trackio projects in ``folder`` (trackio's registries left out)."""
    from trackio.sqlite_storage import SQLiteStorage

    with pointed_at(folder):
        return [p for p in SQLiteStorage.get_projects() if not p.startswith(_REGISTRY_PREFIX)]


def read_project(folder: Path, project: str) -> Project | None:
    """Every run, config and logged row of ``project`` in ``folder``; None when there is no such project."""
    from trackio.sqlite_storage import SQLiteStorage

    with pointed_at(folder):
        if not SQLiteStorage.get_project_db_path(project).exists():
            return None
        records = SQLiteStorage.get_run_records(project)
        configs = SQLiteStorage.get_all_run_configs(project)
        batch = SQLiteStorage.get_logs_batch(project, [{"run": r["name"], "run_id": r["id"]} for r in records])
    return Project(records, configs, {entry["run_id"]: entry["logs"] for entry in batch})


def group(config: dict[str, Any]) -> Any:
    """The run's group (trackio's ``_Group``), None when it has none."""
    return config.get(_GROUP_KEY)


def user_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without the keys trackio keeps for itself (those starting with ``_``)."""
    return {k: v for k, v in config.items() if not k.startswith("_")}
