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
- artifacts (trackio's ``log_artifact`` needs a ``trackio.init`` run; ipytune's
  runs are written without one): ``Artifact._build_manifest`` (stages the files
  into trackio's content-addressed store), ``SQLiteStorage.commit_artifact_version``,
  ``get_run_artifacts``, ``get_artifact_manifest``, ``list_artifacts`` and
  ``Artifact._hydrate_from_db`` before the public ``Artifact.download``: the
  steps of ``Run.log_artifact`` / ``Run.use_artifact`` for local storage.
- images: ``TrackioImage._save(project, run, step)`` and ``_to_dict()``, the steps
  of ``Run.log`` for a media value, so that trackio's dashboard shows them.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipytune.tracking.records import ArtifactFile, Media, RunRows


def _import_rich_keeping_random() -> None:
    """rich, which trackio imports (through gradio_client), draws from Python's ``random`` when it loads:
    a notebook seeded by ``%seed_everything`` would see its random stream shifted by a ``%compare_runs``."""
    import random

    state = random.getstate()
    try:
        import rich.style  # noqa: F401
    except ImportError:  # not a dependency of every trackio: then nothing imports it
        pass
    finally:
        random.setstate(state)


_import_rich_keeping_random()  # before any trackio import: every one goes through this module

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
    """Write ``runs`` (all of one project) in one transaction, then their artifacts; raises whatever
    trackio or SQLite raised.

    A run whose name another run of the project already has is renamed (``name (2)``), so that a
    notebook run twice leaves runs one can tell apart; ``run.name`` is the name written.
    """
    from trackio.sqlite_storage import SQLiteStorage
    from trackio.utils import serialize_values, to_json_safe

    def dumps(values: dict[str, Any]) -> bytes:
        # trackio's own encoding: NaN/inf become strings, everything else plain JSON (trackio reads it with orjson)
        safe = serialize_values(to_json_safe(values))  # type: ignore[no-untyped-call]
        return json.dumps(safe, separators=(",", ":"), allow_nan=False).encode()

    with pointed_at(folder):
        SQLiteStorage.validate_project_name(project)
        db_path = SQLiteStorage.get_project_db_path(project)
        if db_path not in _ready or not db_path.exists():
            SQLiteStorage.init_db(project)  # creates or migrates the schema; ~20 ms, so once
            _ready.add(db_path)
        with SQLiteStorage._get_process_lock(project), SQLiteStorage._get_connection(db_path) as conn:
            _name_runs(conn, runs)
            metric_rows = [
                (
                    timestamp,
                    run.run_id,
                    run.name,
                    step,
                    dumps(_saved_media(metrics, project, run.name, step)),
                    uuid.uuid4().hex,
                )
                for run in runs
                for step, metrics, timestamp in run.rows
            ]
            config_rows = [
                (run.run_id, run.name, dumps(_with_run_record(config, run)), run.created)
                for run in runs
                if (config := run.full_config()) is not None
            ]
            conn.executemany(
                "INSERT OR IGNORE INTO metrics (timestamp, run_id, run_name, step, metrics, log_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                metric_rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO configs (run_id, run_name, config, created_at) VALUES (?, ?, ?, ?)",
                config_rows,
            )
        for run in runs:  # after the run is in: trackio takes its own lock for each artifact
            for artifact in run.artifacts:
                try:
                    commit_artifact(project, run.run_id, run.name, artifact)
                except Exception as error:  # one bad file must not cost the other runs
                    run.failures.record(error, 0)


def _name_runs(conn: Any, runs: Sequence[RunRows]) -> None:
    """Give each run the name it already has in the project, else its own made unique there.

    Point queries on trackio's indexes (``configs.run_id`` is unique, ``run_name`` indexed): a
    project of 10,000 runs costs what an empty one does.
    """
    named: dict[str, str] = {}  # this batch's runs
    taken: set[str] = set()

    def free(name: str) -> bool:
        in_project = conn.execute("SELECT 1 FROM configs WHERE run_name = ? LIMIT 1", (name,)).fetchone()
        return name not in taken and in_project is None

    for run in runs:
        if run.run_id not in named:
            row = conn.execute("SELECT run_name FROM configs WHERE run_id = ?", (run.run_id,)).fetchone()
            named[run.run_id] = row[0] if row else unique_name(run.name, free)  # a later batch keeps its name
            taken.add(named[run.run_id])
        run.name = named[run.run_id]


def unique_name(name: str, free: Callable[[str], bool]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... the first that is ``free``."""
    if free(name):
        return name
    number = 2
    while not free(f"{name} ({number})"):
        number += 1
    return f"{name} ({number})"


def _saved_media(values: dict[str, Any], project: str, run: str, step: int) -> dict[str, Any]:
    """``values`` with each staged image saved where trackio keeps media, as trackio's own ``log`` does."""
    if not any(isinstance(v, Media) for v in values.values()):
        return values
    from trackio.media.image import TrackioImage

    saved = dict(values)
    for key, value in values.items():
        if isinstance(value, Media):
            image = TrackioImage(str(value.path), caption=value.caption)
            image._save(project, run, step)
            saved[key] = image._to_dict()
            value.discard()
    return saved


def commit_artifact(project: str, run_id: str, run_name: str, artifact: ArtifactFile) -> dict[str, Any]:
    """Commit ``artifact`` as an output of the run; trackio's record of the version (name, version, ...)."""
    from trackio.artifact import Artifact
    from trackio.sqlite_storage import SQLiteStorage

    bundle = Artifact(name=artifact.name, type=artifact.type, metadata=artifact.metadata)
    if artifact.path.is_dir():
        bundle.add_dir(artifact.path)
    else:
        bundle.add_file(artifact.path)
    manifest = bundle._build_manifest(project)
    record: dict[str, Any] = SQLiteStorage.commit_artifact_version(
        project=project,
        name=artifact.name,
        type=artifact.type,
        description=None,
        manifest=manifest,
        metadata=artifact.metadata,
        aliases=None,
        run_name=run_name,
        run_id=run_id,
    )
    artifact.discard()
    return record


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


def trial_run(folder: Path, project: str, group: str, number: int) -> tuple[str, str] | None:
    """(id, name) of the run of trial ``number`` of study ``group`` in ``project``; None if it has none."""
    from trackio.sqlite_storage import SQLiteStorage

    with pointed_at(folder):
        db_path = SQLiteStorage.get_project_db_path(project)
        if not db_path.exists():
            return None
        with SQLiteStorage._get_connection(db_path) as conn:
            for run_id, name, text in conn.execute("SELECT run_id, run_name, config FROM configs"):
                config = json.loads(text) if text else {}
                if config.get(_GROUP_KEY) == group and config.get("search.trial") == number:
                    return run_id, name
    return None


def run_outputs(folder: Path, project: str, run_id: str, run_name: str) -> list[dict[str, Any]]:
    """The artifacts the run produced, oldest first: ``name``, ``type``, ``version``, ..."""
    from trackio.sqlite_storage import SQLiteStorage

    with pointed_at(folder):
        outputs: list[dict[str, Any]] = SQLiteStorage.get_run_artifacts(project, run_name, run_id)["output"]
    return outputs


def project_artifacts(folder: Path, project: str) -> list[dict[str, Any]]:
    """Every artifact of ``project`` with its versions (newest first), as trackio lists them."""
    from trackio.sqlite_storage import SQLiteStorage

    with pointed_at(folder):
        listed: list[dict[str, Any]] = SQLiteStorage.list_artifacts(project)
    return listed


def download_artifact(
    folder: Path, project: str, name: str, spec: str | None, root: Path | None
) -> tuple[dict[str, Any], Path]:
    """Copy version ``spec`` (``v3``, an alias; None: latest) of artifact ``name`` into ``root``
    (None: trackio's default, ``.trackio/artifact-downloads/`` here): trackio's record of it and
    the folder holding its files."""
    from trackio.artifact import Artifact
    from trackio.sqlite_storage import SQLiteStorage

    with pointed_at(folder):
        record = SQLiteStorage.get_artifact_manifest(project, name, spec)
        if record is None:
            raise LookupError(f"project {project!r} has no artifact {name}{':' + spec if spec else ''}")
        bundle = Artifact(name=record["name"], type=record["type"])
        bundle._hydrate_from_db(
            project=project,
            version=record["version"],
            aliases=record["aliases"],
            manifest=record["manifest"],
            manifest_digest=record["manifest_digest"],
            size_bytes=record["size_bytes"],
            description=record["description"],
            metadata=record["metadata"],
        )
        return record, Path(bundle.download(root))
