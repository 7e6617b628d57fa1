"""Models, files and pictures in trackio runs: real trackio in a temporary TRACKIO_DIR, real skops and torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from IPython.core.error import UsageError

import ipytune
from ipytune.errors import IpytuneWarning
from ipytune.tracking import _trackio
from ipytune.tracking.artifacts import is_model, load_model
from ipytune.tracking.runs import runs
from tests.conftest import run

FOREST = ["sklearn.tree._tree.Tree"]  # the one type skops asks a reader of a forest to accept
SETUP = (
    "from sklearn.datasets import load_iris\n"
    "from sklearn.ensemble import RandomForestClassifier\n"
    "X, y = load_iris(return_X_y=True)\n"
)
FOREST_CELL = (
    "model = RandomForestClassifier(n_estimators=tune.int(5, 15), max_depth=tune.int(2, 5), random_state=0)\nmodel"
)


def forest_search(ip, extra=""):
    run(ip, SETUP)
    # the journal in the test's own folder: a memory study would outlive the test in this process
    line = f"%%tune --method random --trials 3 --seed 0 --quiet --data X y --cv 3 --study forest {extra}"
    return run(ip, f"{line}\n{FOREST_CELL}")


def best_run(project: str, result) -> str:
    table = runs(project)
    return table[table["search.trial"] == result.best_trial.number]["name"].item()


def logs_of(project: str, name: str) -> list[dict]:
    stored = _trackio.read_project(_trackio.trackio_dir(), project)
    (record,) = [r for r in stored.records if r["name"] == name]
    return stored.logs[record["id"]]


def test_the_saved_best_model_loads_back_and_predicts_as_the_refitted_one(ip, trackio_dir):
    result = forest_search(ip)
    refitted = ip.user_ns["model"]
    best = best_run("forest", result)
    line = f"ipytune.load_model('forest', {best!r}, trusted={FOREST!r})"
    assert f"best model saved in trackio: {line}" in result.to_text()  # the summary says how to load it

    loaded = eval(line, {"ipytune": ipytune})  # the line as printed
    assert loaded is not refitted
    assert type(loaded) is type(refitted)
    assert loaded.get_params() == refitted.get_params()
    assert np.array_equal(loaded.predict(ip.user_ns["X"]), refitted.predict(ip.user_ns["X"]))
    assert np.array_equal(loaded.predict_proba(ip.user_ns["X"]), refitted.predict_proba(ip.user_ns["X"]))
    newest = load_model("forest", trusted=FOREST)  # no run: the project's newest model
    assert np.array_equal(newest.predict(ip.user_ns["X"]), refitted.predict(ip.user_ns["X"]))


def test_loading_a_forest_names_the_type_to_trust(ip, trackio_dir):
    forest_search(ip)
    with pytest.raises(UsageError, match=r"types skops does not trust by default: \['sklearn.tree._tree.Tree'\]"):
        load_model("forest")
    with pytest.raises(UsageError, match="has no run 'nope'"):
        load_model("forest", "nope")


def test_a_classifiers_confusion_matrix_is_a_picture_of_out_of_fold_predictions(ip, trackio_dir):
    from PIL import Image
    from sklearn.base import clone
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import cross_val_predict

    from ipytune.search.analysis import confusion
    from ipytune.search.settings import Scoring

    result = forest_search(ip)
    best = best_run("forest", result)
    (picture,) = [row["confusion_matrix"] for row in logs_of("forest", best) if "confusion_matrix" in row]
    assert picture["_type"] == "trackio.image"  # trackio's dashboard shows it as an image
    with Image.open(trackio_dir / "media" / picture["file_path"]) as image:
        assert image.size[0] > 100
    assert "confusion_matrix" not in runs("forest").columns  # a picture is not a final metric

    model, X, y = (ip.user_ns[name] for name in ("model", "X", "y"))
    matrix, labels, caption = confusion(model, ip.user_ns, Scoring(data=("X", "y"), cv=3))
    assert labels == [0, 1, 2]
    assert matrix.sum() == 150
    held_out = confusion_matrix(y, cross_val_predict(clone(model), X, y, cv=3))
    assert np.array_equal(matrix, held_out)  # each row predicted by a model that did not see it
    assert not np.array_equal(matrix, confusion_matrix(y, model.predict(X)))  # not the training fit's
    assert "out-of-fold" in caption


def test_no_save_model_and_the_config_default_save_nothing(ip, trackio_dir):
    result = forest_search(ip, "--no-save-model")
    assert "best model saved" not in result.to_text()
    with pytest.raises(UsageError, match="has no saved model"):
        load_model("forest")
    ip.run_line_magic("config", "TuneMagics.save_model = False")
    try:
        run(ip, f"%%tune --method random --trials 2 --quiet --data X y --cv 3 --study off\n{FOREST_CELL}")
        with pytest.raises(UsageError, match="has no saved model"):
            load_model("off")
        result = run(
            ip,
            f"%%tune --method random --trials 2 --quiet --data X y --cv 3 --study on --save-model\n{FOREST_CELL}",
        )
        assert "best model saved" in result.to_text()
    finally:
        ip.run_line_magic("config", "TuneMagics.save_model = True")


def test_an_unfitted_model_is_named_and_a_plain_number_says_nothing(ip, trackio_dir):
    run(ip, SETUP + "from sklearn.model_selection import cross_val_score")
    result = run(
        ip,
        "%%tune --method random --trials 2 --quiet --study scored\n"
        "forest = RandomForestClassifier(n_estimators=tune.int(3, 6), random_state=0)\n"
        "cross_val_score(forest, X, y, cv=2).mean()",
    )
    assert "no model saved: forest is not fitted (end the cell with forest and pass --data X y" in result.to_text()
    result = run(ip, "%%tune --method random --trials 2 --quiet --study number\ntune.float(0, 1, name='x')")
    assert "model" not in result.to_text()


def test_log_artifact_and_log_image_in_a_trial_attach_to_that_trials_run(ip, trackio_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    run(ip, "import numpy as np")
    result = run(
        ip,
        "%%tune --method random --trials 2 --seed 1 --quiet --study files\n"
        "x = tune.int(1, 9)\n"
        "tune.log_artifact('notes.txt')\n"
        "tune.log_artifact({'x': x}, name='settings')\n"
        "tune.log_image(np.full((8, 8), x / 10), name='picture')\n"
        "x",
    )
    table = runs("files")
    assert "picture" not in table.columns
    for trial in result.study.get_trials():
        (name, run_id) = table[table["search.trial"] == trial.number][["name", "id"]].iloc[0]
        outputs = _trackio.run_outputs(trackio_dir, "files", run_id, name)
        assert sorted(o["type"] for o in outputs) == ["file", "object"]
        with pytest.raises(UsageError, match="is a pickle: loading it runs whatever code it holds"):
            load_model_of(outputs, "object", trust_pickle=False)
        assert load_model_of(outputs, "object", trust_pickle=True) == {"x": trial.params["x"]}
        (picture,) = [row["picture"] for row in logs_of("files", name) if "picture" in row]
        assert (trackio_dir / "media" / picture["file_path"]).exists()


def load_model_of(outputs, kind, trust_pickle):
    """Load the artifact of ``kind`` among a run's outputs, as load_model reads it."""
    from pathlib import Path

    from ipytune.tracking.artifacts import _read

    (output,) = [o for o in outputs if o["type"] == kind]
    record, folder = _trackio.download_artifact(_trackio.trackio_dir(), "files", output["name"], None, Path(".") / "dl")
    (path,) = [p for p in folder.rglob("*") if p.is_file()]
    return _read(path, record["metadata"]["format"], output["name"], None, [], trust_pickle)


def test_tune_track_takes_tags_notes_artifacts_and_images(ip, trackio_dir, tmp_path):
    from sklearn.linear_model import LogisticRegression

    X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    fitted = LogisticRegression().fit(X, y)
    with ipytune.tune.track(project="manual", name="lr-baseline", tags="baseline, final", notes="plain LR") as tracked:
        ipytune.tune.log({"loss": 0.5})
        ipytune.tune.log_artifact(fitted, name="classifier")
        ipytune.tune.log_image(np.zeros((4, 4, 3)), name="blank")
    table = runs("manual")
    assert table["tags"].tolist() == [["baseline", "final"]]
    assert table["notes"].tolist() == ["plain LR"]
    loaded = load_model("manual", "lr-baseline")  # a logistic regression needs no extra trust
    assert np.array_equal(loaded.predict(X), fitted.predict(X))
    assert tracked.name == "lr-baseline"
    with pytest.raises(UsageError, match="tags"), ipytune.tune.track(project="manual", tags=[1]):
        pass


def test_bad_images_and_artifacts_are_one_line(trackio_dir):
    with pytest.raises(UsageError, match="no such file"):
        ipytune.tune.log_image("nope.png")
    with pytest.raises(UsageError, match=r"takes an array .* got dict"):
        ipytune.tune.log_image({"not": "an image"})
    with pytest.raises(UsageError, match="no such file or folder"):
        ipytune.tune.log_artifact("missing.bin")
    with pytest.raises(UsageError, match=r"shape \(2, 2, 7\)"):
        ipytune.tune.log_image(np.zeros((2, 2, 7)), name="bad")


@pytest.mark.torch
def test_a_torch_module_is_saved_as_a_state_dict_and_loads_into_a_fresh_module(ip, trackio_dir):
    torch = pytest.importorskip("torch")
    run(ip, "import torch")
    result = run(
        ip,
        "%%tune --method random --trials 2 --seed 0 --quiet --study net\n"
        "model = torch.nn.Linear(3, 1)\n"
        "with torch.no_grad():\n"
        "    model.weight.fill_(tune.float(0.1, 1.0, name='w'))\n"
        "model.weight.detach().sum().item()",
    )
    assert "into=model" in result.to_text()
    fresh = torch.nn.Linear(3, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # weights_only loading: no pickle warning
        loaded = load_model("net", into=fresh)
    assert loaded is fresh
    sample = torch.ones(2, 3)
    assert torch.equal(fresh(sample), ip.user_ns["model"](sample))
    state = load_model("net")
    assert set(state) == {"weight", "bias"}


def test_a_model_trackio_cannot_store_is_one_warning_and_the_search_is_kept(ip, trackio_dir):
    (trackio_dir / "artifacts").write_text("a file where trackio keeps artifacts")  # every commit fails (even as root)
    with pytest.warns(IpytuneWarning, match="could not save the best model on run .* the search and the model"):
        result = forest_search(ip)
    assert "best model saved" not in result.to_text()
    assert len(result.study.trials) == 3
    assert len(runs("forest")) == 3  # the trials' runs are written
    assert is_model(ip.user_ns["model"])  # the refitted model in the notebook
