"""Canary for ``ipytune.tracking._trackio``: what ipytune borrows from trackio's internals is still there.

Each test checks one borrowed thing from the list in ``_trackio``'s docstring,
so that a trackio upgrade that moves it fails here, by name, rather than as
runs that quietly go missing.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from inspect import Parameter, signature
from pathlib import Path

import numpy as np
import pytest

from ipytune.tracking import _trackio
from ipytune.tracking.records import ArtifactFile, Failures, Media, RunRows, now, staging_folder

# SQLiteStorage method -> the parameters ipytune passes, in order.
STORAGE_METHODS = {
    "validate_project_name": ["project"],
    "get_project_db_path": ["project"],
    "init_db": ["project"],
    "_get_process_lock": ["project"],
    "_get_connection": ["db_path"],
    "get_projects": [],
    "get_run_records": ["project"],
    "get_all_run_configs": ["project"],
    "get_logs_batch": ["project", "runs"],
    "get_artifact_manifest": ["project", "name", "spec"],
    "get_run_artifacts": ["project", "run_name", "run_id"],
    "list_artifacts": ["project"],
}
# Table -> the columns write_runs inserts into.
WRITTEN_COLUMNS = {
    "metrics": {"timestamp", "run_id", "run_name", "step", "metrics", "log_id"},
    "configs": {"run_id", "run_name", "config", "created_at"},
}
FOLDER_CONSTANTS = {"TRACKIO_DIR": "", "MEDIA_DIR": "media", "ARTIFACTS_DIR": "artifacts"}


def trackio_runs(folder: Path, project: str) -> list:
    """The runs of ``project`` as trackio's public ``Api`` reads them."""
    import trackio

    with _trackio.pointed_at(folder):
        return list(trackio.Api().runs(project))


def run_rows(folder: Path, project: str) -> RunRows:
    rows = [(0, {"loss": math.nan, "acc": np.float32(0.5)}, now()), (1, {"loss": math.inf}, now())]
    return RunRows(folder, project, "run-1", "x=1", rows, Failures(), config={"x": 1}, group="sweep")


@pytest.mark.parametrize(("name", "passed"), STORAGE_METHODS.items())
def test_storage_method_is_there_and_takes_what_ipytune_passes(name, passed):
    from trackio.sqlite_storage import SQLiteStorage

    method = getattr(SQLiteStorage, name, None)
    assert callable(method), f"trackio's SQLiteStorage.{name} is gone: ipytune.tracking._trackio calls it"
    parameters = list(signature(method).parameters.values())
    assert [p.name for p in parameters[: len(passed)]] == passed, f"SQLiteStorage.{name}{signature(method)}"
    others = parameters[len(passed) :]
    variadic = (Parameter.VAR_POSITIONAL, Parameter.VAR_KEYWORD)
    required = [p.name for p in others if p.default is Parameter.empty and p.kind not in variadic]
    assert required == [], f"SQLiteStorage.{name} now requires {required}"


def test_trackio_creates_the_tables_and_columns_write_runs_inserts_into(trackio_dir):
    from trackio.sqlite_storage import SQLiteStorage

    with _trackio.pointed_at(trackio_dir):
        db_path = SQLiteStorage.init_db("schema")
    assert db_path.parent == trackio_dir
    with sqlite3.connect(db_path) as conn:
        for table, written in WRITTEN_COLUMNS.items():
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            assert written <= columns, f"trackio's {table} table lacks {written - columns}"


def test_values_are_encoded_as_trackio_encodes_them():
    from trackio.utils import serialize_values, to_json_safe

    values = {"nan": math.nan, "inf": math.inf, "low": -math.inf, "n": np.int64(3), "nested": {"a": (1.5, 2)}}
    assert serialize_values(to_json_safe(values)) == {
        "nan": "NaN",
        "inf": "Infinity",
        "low": "-Infinity",
        "n": 3,
        "nested": {"a": [1.5, 2]},
    }


def test_written_runs_read_back_through_trackios_api(trackio_dir):
    from trackio.sqlite_storage import SQLiteStorage

    written = run_rows(trackio_dir, "canary")
    _trackio.write_runs(trackio_dir, "canary", [written])
    (found,) = trackio_runs(trackio_dir, "canary")
    assert (found.name, found.id) == ("x=1", "run-1")
    assert found.config == {"x": 1, "_Username": None, "_Created": written.created, "_Group": "sweep"}
    with _trackio.pointed_at(trackio_dir):
        logs = SQLiteStorage.get_logs("canary", "x=1")
    assert [entry["step"] for entry in logs] == [0, 1]
    assert math.isnan(logs[0]["loss"])
    assert logs[0]["acc"] == 0.5
    assert logs[1]["loss"] == math.inf
    stored = _trackio.read_project(trackio_dir, "canary")
    assert stored is not None
    assert [r["id"] for r in stored.records] == ["run-1"]
    assert stored.configs["run-1"] == found.config
    assert [entry["step"] for entry in stored.logs["run-1"]] == [0, 1]
    assert _trackio.project_names(trackio_dir) == ["canary"]
    assert _trackio.read_project(trackio_dir, "missing") is None


def test_the_config_keys_trackio_adds_are_the_ones_ipytune_adds(trackio_dir):
    import trackio

    _trackio.use(trackio_dir)
    trackio.init(
        project="by-trackio",
        name="x=1",
        group="sweep",
        config={"x": 1},
        embed=False,
        auto_log_cpu=False,
        auto_log_gpu=False,
    )
    trackio.log({"loss": 1.0})
    trackio.finish()
    _trackio.write_runs(trackio_dir, "by-ipytune", [run_rows(trackio_dir, "by-ipytune")])
    (theirs,) = trackio_runs(trackio_dir, "by-trackio")
    (ours,) = trackio_runs(trackio_dir, "by-ipytune")
    assert sorted(theirs.config) == sorted(ours.config)
    assert _trackio.group(theirs.config) == _trackio.group(ours.config) == "sweep"
    assert _trackio.user_config(theirs.config) == _trackio.user_config(ours.config) == {"x": 1}


def test_use_moves_every_copy_of_trackios_folder_constants(tmp_path):
    import trackio.run  # copies MEDIA_DIR when imported
    import trackio.table
    import trackio.utils
    from trackio.sqlite_storage import SQLiteStorage

    before = trackio.utils.TRACKIO_DIR
    for constant, sub in FOLDER_CONSTANTS.items():
        assert getattr(trackio.utils, constant) == (before / sub if sub else before), f"trackio.utils.{constant}"
    _trackio.use(tmp_path)
    try:
        copies = {
            f"{name}.{constant}": getattr(module, constant)
            for name, module in list(sys.modules.items())
            if module is not None and (name == "trackio" or name.startswith("trackio."))
            for constant in FOLDER_CONSTANTS
            if isinstance(getattr(module, constant, None), Path)
        }
        expected = {"trackio.utils.TRACKIO_DIR", "trackio.sqlite_storage.TRACKIO_DIR", "trackio.run.MEDIA_DIR"}
        assert expected <= set(copies), "trackio's modules no longer copy the folder constants: is use() still needed?"
        assert {name: path for name, path in copies.items() if not path.is_relative_to(tmp_path)} == {}
        assert SQLiteStorage.get_project_db_path("p").parent == tmp_path
        assert SQLiteStorage._get_process_lock("p").lockfile_path.parent == tmp_path
    finally:
        _trackio.use(before)


@pytest.mark.parametrize("variable", ["HF_HOME", "XDG_CACHE_HOME"])
def test_default_folder_is_the_one_trackio_chooses(tmp_path, variable):
    # A fresh process: trackio reads its folder when imported. HOME moves too, so nothing touches the real one.
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKIO_DIR", "HF_HOME", "XDG_CACHE_HOME")}
    env |= {"HOME": str(tmp_path), variable: str(tmp_path / "cache")}
    probe = (
        "import json, trackio.utils\n"
        "from ipytune.tracking._trackio import trackio_dir\n"
        "print(json.dumps([str(trackio.utils.TRACKIO_DIR), str(trackio_dir())]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    theirs, ours = json.loads(done.stdout.strip().splitlines()[-1])
    assert ours == theirs
    assert Path(ours).is_relative_to(tmp_path)


def test_show_takes_the_arguments_trackio_show_magic_passes():
    import trackio

    parameters = signature(trackio.show).parameters
    assert {"project", "host", "share", "server_port", "open_browser", "block_thread"} <= set(parameters)


def test_commit_artifact_version_takes_what_ipytune_passes():
    from trackio.sqlite_storage import SQLiteStorage

    passed = {"project", "name", "type", "description", "manifest", "metadata", "aliases", "run_name", "run_id"}
    assert passed <= set(signature(SQLiteStorage.commit_artifact_version).parameters)


def test_an_artifact_ipytune_commits_is_read_back_by_trackios_own_use_artifact(trackio_dir, tmp_path):
    import trackio

    folder = staging_folder()
    (folder / "model.skops").write_bytes(b"weights")
    written = run_rows(trackio_dir, "canary")
    written.artifacts = [ArtifactFile(path=folder / "model.skops", name="model-canary", type="model")]
    _trackio.write_runs(trackio_dir, "canary", [written])
    assert not folder.exists()  # ipytune's staged copy is gone once trackio holds the file
    (output,) = _trackio.run_outputs(trackio_dir, "canary", "run-1", "x=1")
    assert (output["name"], output["type"], output["version"]) == ("model-canary", "model", 0)

    _trackio.use(trackio_dir)
    trackio.init(project="canary", name="reader", embed=False, auto_log_cpu=False, auto_log_gpu=False)
    try:
        artifact = trackio.use_artifact("model-canary")  # the public way, from a trackio run
        downloaded = Path(artifact.download(tmp_path / "download"))
    finally:
        trackio.finish()
    assert (downloaded / "model.skops").read_bytes() == b"weights"
    record, again = _trackio.download_artifact(trackio_dir, "canary", "model-canary", None, tmp_path / "again")
    assert record["type"] == "model"
    assert (again / "model.skops").read_bytes() == b"weights"


def test_a_picture_is_stored_as_trackios_own_log_stores_an_image(trackio_dir):
    from PIL import Image

    folder = staging_folder()
    Image.new("RGB", (4, 4), "red").save(folder / "image.png")
    written = RunRows(
        trackio_dir, "canary", "run-1", "x=1", [(2, {"picture": Media(folder / "image.png")}, now())], Failures()
    )
    _trackio.write_runs(trackio_dir, "canary", [written])
    (logged,) = _trackio.read_project(trackio_dir, "canary").logs["run-1"]
    picture = logged["picture"]
    assert picture["_type"] == "trackio.image"  # what trackio's dashboard draws as an image
    assert picture["file_path"].startswith("canary/x=1/2/")  # trackio's media layout: project/run/step
    assert (trackio_dir / "media" / picture["file_path"]).exists()
