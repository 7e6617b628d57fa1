"""Every %%tune trial is a trackio run: real trackio, writing SQLite in a temporary TRACKIO_DIR."""

from __future__ import annotations

import fcntl
import math
import platform
import subprocess
import time
from importlib import metadata

import pytest
from IPython.core.error import UsageError

from ipytune.errors import IpytuneWarning
from ipytune.tracking.records import run_name
from ipytune.tracking.runs import metric_history, projects, runs
from tests.conftest import run

REPORTING_CELL = (
    "x = tune.int(1, 10)\n"
    "y = tune.float(0.0, 1.0)\n"
    "for step in range(3):\n"
    "    tune.report(x * y * (step + 1), step)\n"
    "x * y * 3"
)


def search(ip, line, cell=REPORTING_CELL):
    return run(ip, f"%%tune {line} --storage memory --quiet\n{cell}")


def test_every_trial_is_a_run_with_params_settings_and_metrics(ip, trackio_dir):
    result = search(ip, "--method random --trials 4 --seed 3 --study tracked")
    table = runs("tracked").sort_values("search.trial").reset_index(drop=True)

    trials = result.study.get_trials()
    assert len(table) == 4
    assert table["group"].tolist() == ["tracked"] * 4
    assert table["state"].tolist() == ["COMPLETE"] * 4
    assert table["name"].tolist() == [f"x={t.params['x']},y={t.params['y']:.4g}" for t in trials]
    assert table["search.trial"].tolist() == [0, 1, 2, 3]
    assert set(table["search.method"]) == {"random"}
    assert set(table["search.seed"]) == {3}
    assert table["x"].tolist() == [t.params["x"] for t in trials]
    assert table["objective"].tolist() == pytest.approx([t.value for t in trials])
    assert (table["duration"] > 0).all()


def test_a_tracked_search_prints_no_trackio_banner(ip, trackio_dir, capsys):
    search(ip, "--method random --trials 3 --study banner")
    printed = capsys.readouterr()
    assert "trackio" not in (printed.out + printed.err).lower()  # no "* Trackio project initialized" per trial
    assert len(runs("banner")) == 3


def test_reported_values_are_logged_at_their_steps(ip, trackio_dir):
    result = search(ip, "--method random --trials 2 --seed 0 --study steps")
    history = metric_history("steps", metric="objective")
    for trial in result.study.get_trials():
        name = f"x={trial.params['x']},y={trial.params['y']:.4g}"
        curve = history[history["run"] == name].sort_values("step")
        # three reports at steps 0..2; the objective equals the last one, so no extra step
        assert curve["step"].tolist() == [0, 1, 2, 2]
        assert curve["value"].tolist()[:3] == pytest.approx([trial.intermediate_values[s] for s in range(3)])


def test_runs_are_readable_by_trackios_own_api(ip, trackio_dir):
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    search(ip, "--method grid --study gridded", "a = tune.choice([1, 2, 3])\na")
    found = trackio.Api().runs("gridded")
    assert sorted(r.name for r in found) == ["a=1", "a=2", "a=3"]
    assert all(r.config["_Group"] == "gridded" for r in found)
    logs = SQLiteStorage.get_logs("gridded", found[0].name)
    assert logs[-1]["objective"] == found[0].config["a"]
    # what the dashboard asks for: metric names and the last step of each run
    assert SQLiteStorage.get_all_metrics_for_run("gridded", run_id=found[0].id) == ["duration", "objective", "state"]
    assert SQLiteStorage.get_max_steps_for_runs("gridded") == dict.fromkeys((r.id for r in found), 0)
    assert (trackio_dir / "gridded.db").exists()


def test_environment_is_in_every_run_config(ip, trackio_dir, tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "notes.txt").write_text("one\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "add", "notes.txt"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], cwd=tmp_path, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    (tmp_path / "notes.txt").write_text("two\n")  # an uncommitted change

    search(ip, "--method random --trials 2 --seed 7 --study env", "x = tune.int(1, 3)\nx")
    table = runs("env")

    import numpy
    import optuna
    import sklearn

    expected = {
        "env.python": platform.python_version(),
        "env.numpy": numpy.__version__,
        "env.scikit-learn": sklearn.__version__,
        "env.optuna": optuna.__version__,
        "env.bayesian-optimization": metadata.version("bayesian-optimization"),
        "env.ipytune": metadata.version("ipytune"),
        "env.git_commit": commit,
        "env.git_dirty": True,
        "env.seed": 7,
    }
    try:
        expected["env.torch"] = metadata.version("torch")
    except metadata.PackageNotFoundError:  # the Colab and lowest-versions CI jobs have no torch
        assert "env.torch" not in table.columns
    for column, value in expected.items():
        assert table[column].tolist() == [value, value], column


def test_clean_working_tree_is_not_dirty(ip, trackio_dir, tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "empty"], cwd=tmp_path, check=True)
    search(ip, "--method random --trials 1 --study clean", "x = tune.int(1, 3)\nx")
    assert runs("clean")["env.git_dirty"].tolist() == [False]


def test_project_and_metric_name(ip, trackio_dir):
    search(ip, "--method random --trials 2 --study named --project lecture --metric-name accuracy")
    table = runs("lecture")
    assert "named" not in projects()
    assert table["group"].tolist() == ["named", "named"]
    assert "accuracy" in table.columns
    assert "objective" not in table.columns
    assert set(metric_history("lecture")["metric"]) == {"accuracy", "duration"}


def test_no_track_writes_nothing(ip, trackio_dir):
    result = search(ip, "--method random --trials 3 --study quiet-one --no-track")
    assert len(result.trials) == 3
    assert list(trackio_dir.iterdir()) == []


def test_config_track_false_turns_tracking_off_for_the_session(ip, trackio_dir):
    ip.run_line_magic("config", "TuneMagics.track = False")
    try:
        search(ip, "--method random --trials 2 --study off")
    finally:
        ip.run_line_magic("config", "TuneMagics.track = True")  # the test shell's config outlives the test
    assert list(trackio_dir.iterdir()) == []


def test_unwritable_trackio_dir_warns_once_and_keeps_every_trial(ip, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where trackio wants a folder")
    monkeypatch.setenv("TRACKIO_DIR", str(blocker))
    with pytest.warns(IpytuneWarning) as caught:
        result = search(ip, "--method random --trials 5 --study doomed")
    assert len(caught) == 1
    assert "tracking failed" in str(caught[0].message)
    assert "5 of 5 runs" in str(caught[0].message)
    assert result.trials["state"].tolist() == ["COMPLETE"] * 5
    assert result.best_trial is not None


def test_locked_database_costs_one_lock_timeout_not_one_per_trial(ip, trackio_dir):
    with open(trackio_dir / "locked.lock", "w") as lock:  # trackio's cross-process lock for project "locked"
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.warns(IpytuneWarning, match="tracking failed"):
            result = search(ip, "--method random --trials 4 --study locked", "x = tune.int(1, 3)\nx")
        elapsed = time.monotonic() - started
    assert len(result.trials) == 4
    assert elapsed < 35  # trackio gives up on its lock after 10 s; 4 trials must not mean 40 s


def test_failed_and_pruned_trials_are_tracked_with_their_state(ip, trackio_dir):
    cell = (
        "x = tune.int(1, 16)\n"
        "if x == 1:\n"
        "    raise ValueError('no ones')\n"
        "for step in range(5):\n"
        "    tune.report(x if step else 0, step)\n"
        "x"
    )
    result = search(ip, "--method grid --seed 0 --study states --catch --prune median", cell)
    table = runs("states")
    by_trial = dict(zip(table["search.trial"], table["state"], strict=True))
    assert by_trial == {t.number: t.state.name for t in result.study.get_trials()}
    assert {"COMPLETE", "PRUNED", "FAIL"} <= set(by_trial.values())  # each state really happened
    failed = table[table["state"] == "FAIL"]
    assert failed["fail_reason"].tolist() == ["ValueError: no ones"]


def test_interrupted_search_keeps_every_run(ip, trackio_dir):
    ip.user_ns["calls"] = []
    cell = "x = tune.int(1, 100)\ncalls.append(x)\nif len(calls) == 4:\n    raise KeyboardInterrupt\nx"
    result = search(ip, "--method random --trials 10 --seed 0 --study cut", cell)
    assert result.stop_reason == "interrupted"
    table = runs("cut")
    assert sorted(table["state"]) == ["COMPLETE"] * 3 + ["FAIL"]
    assert table.loc[table["state"] == "FAIL", "fail_reason"].tolist() == ["interrupted"]


def test_cv_std_and_seed_values_are_tracked(ip, trackio_dir):
    ip.run_cell(
        "from sklearn.datasets import make_classification\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "X, y = make_classification(n_samples=60, random_state=0)"
    )
    search(
        ip,
        "--method random --trials 2 --seed 0 --study cv --data X y --cv 3 --no-refit",
        "DecisionTreeClassifier(max_depth=tune.int(1, 4), random_state=0)",
    )
    table = runs("cv")
    assert (table["cv_std"] >= 0).all()
    assert all(len(scores) == 3 for scores in table["cv_scores"])
    search(
        ip,
        "--method random --trials 2 --seeds 1,2,3 --study seeds",
        "import random\nx = tune.int(1, 3)\nx + random.random()",
    )
    seeded = runs("seeds")
    assert all(len(values) == 3 for values in seeded["seed_values"])
    assert (seeded["seed_std"] > 0).all()
    assert seeded["search.seeds"].tolist() == [[1, 2, 3]] * 2


def test_tune_log_inside_a_trial_adds_to_its_run(ip, trackio_dir):
    cell = "x = tune.int(1, 5)\nfor epoch in range(3):\n    tune.log({'loss': x / (epoch + 1), 'epoch': epoch})\nx"
    result = search(ip, "--method random --trials 2 --seed 1 --study logged", cell)
    history = metric_history("logged", metric="loss")
    for trial in result.study.get_trials():
        curve = history[history["run"] == f"x={trial.params['x']}"].sort_values("step")
        assert curve["step"].tolist() == [0, 1, 2]
        assert curve["value"].tolist() == pytest.approx([trial.params["x"] / e for e in (1, 2, 3)])


def test_tune_log_during_refit_and_untracked_search_goes_nowhere(ip, trackio_dir):
    search(ip, "--method random --trials 2 --study untracked --no-track", "x = tune.int(1, 5)\ntune.log({'a': x})\nx")
    assert list(trackio_dir.iterdir()) == []


def test_tune_log_outside_a_search_logs_to_a_run_of_its_own(ip, trackio_dir):
    run(ip, "tune.log({'note': 1.5})\ntune.log({'note': 2.5})")
    history = metric_history("ipytune", metric="note")
    assert history["value"].tolist()[-2:] == [1.5, 2.5]
    assert history["step"].tolist()[-2:] == [history["step"].iloc[-2], history["step"].iloc[-2] + 1]


def test_tune_track_records_a_training_loop(ip, trackio_dir):
    run(
        ip,
        "with tune.track(project='loops', name='lr=0.1', config={'lr': 0.1, 'epochs': 4}) as tracked:\n"
        "    for epoch in range(4):\n"
        "        tune.log({'loss': 1.0 / (epoch + 1)})\n",
    )
    table = runs("loops")
    assert table["name"].tolist() == ["lr=0.1"]
    assert table["lr"].tolist() == [0.1]
    assert table["state"].tolist() == ["COMPLETE"]
    assert table["loss"].tolist() == [0.25]
    assert "env.python" in table.columns
    assert metric_history("loops", metric="loss")["step"].tolist() == [0, 1, 2, 3]
    assert ip.user_ns["tracked"].project == "loops"


def test_tune_log_keeps_nan_infinity_and_numpy_scalars(ip, trackio_dir):
    run(
        ip,
        "import numpy as np\n"
        "with tune.track(project='odd-values'):\n"
        "    tune.log({'loss': float('nan'), 'ratio': float('inf'), 'count': np.int64(3), 'acc': np.float32(0.5)})",
    )
    row = runs("odd-values").iloc[0]
    assert math.isnan(row["loss"])
    assert row["ratio"] == math.inf
    assert row["count"] == 3
    assert row["acc"] == 0.5


def test_tune_track_records_a_failing_cell_and_reraises(ip, trackio_dir):
    outcome = ip.run_cell("with tune.track(project='broken', name='boom'):\n    tune.log({'loss': 1.0})\n    1 / 0\n")
    assert isinstance(outcome.error_in_exec, ZeroDivisionError)
    table = runs("broken")
    assert table["state"].tolist() == ["FAIL"]
    assert table["fail_reason"].tolist() == ["ZeroDivisionError: division by zero"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("tune.log(0.5)", "tune.log takes a dict of metrics"),
        ("tune.log({})", "tune.log takes a dict of metrics"),
        ("tune.log({'_x': 1})", "metric names must be non-empty strings not starting with '_'"),
        ("with tune.track(project=''):\n    pass", "needs a project name"),
        ("with tune.track(project='p', config=[1]):\n    pass", "config=...) takes a dict"),
    ],
)
def test_tracking_api_misuse_is_one_line(ip, trackio_dir, code, message):
    outcome = ip.run_cell(code)
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--project registry-x", "--project 'registry-x'"),
        ("--project ...", "--project '...'"),
        ("--metric-name state", "--metric-name 'state'"),
        ("--metric-name _hidden", "--metric-name '_hidden'"),
    ],
)
def test_bad_tracking_options_are_usage_errors(ip, trackio_dir, line, message):
    outcome = ip.run_cell(f"%%tune {line} --storage memory --quiet\nx = tune.int(1, 2)\nx")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)
    assert list(trackio_dir.iterdir()) == []


def test_run_names_are_shortened_and_unique(ip, trackio_dir):
    long_name = run_name({"learning_rate": 0.000123456, "hidden_layer_sizes": "(256, 128, 64, 32)", "alpha": 1e-5})
    assert len(long_name) <= 60
    assert long_name.startswith("learning_rate=0.0001235,hidden_layer_sizes=(256, 128, 64,")
    assert long_name.endswith("…")
    assert "……" not in long_name
    search(ip, "--method random --trials 6 --seed 0 --study twice", "x = tune.choice([1, 2])\nx")
    names = runs("twice")["name"].tolist()
    assert len(set(names)) == 6
    assert {n.split(" #")[0] for n in names} == {"x=1", "x=2"}


@pytest.mark.notebook
def test_tracking_notebook_runs_top_to_bottom(tmp_path, trackio_dir):
    from tests.notebooks import execute_notebook, outputs_text

    notebook = execute_notebook("tracking.ipynb", tmp_path, timeout=300)
    text = outputs_text(notebook)
    assert "Traceback" not in text
    assert {"lecture-forest", "lecture-mlp"} <= set(projects())
    forest = runs("lecture-forest")
    assert forest["tags"].map(tuple).value_counts().to_dict() == {("baseline",): 20, ("augmented",): 20}
    assert set(runs("lecture-forest", tags="augmented")["group"]) == {"forest-augmented"}
    assert "what mattered most (parameter importance)" in text  # 8d on the user's own search
    assert "same predictions as the refitted model: True" in text  # 8c
    assert text.count("best model saved in trackio: ipytune.load_model('lecture-forest'") == 2
    mlp = runs("lecture-mlp")
    assert sorted(mlp["name"]) == ["lr=0.001", "lr=0.01"]
    assert mlp["tags"].tolist() == [["mlp", "baseline"]] * 2
    # plotly 5 (Colab's) puts its loader in an output of its own before each figure
    plotly = "application/vnd.plotly.v1+json"
    plots = [o for c in notebook.cells if "plot(" in c.source for o in c.outputs if plotly in o.get("data", {})]
    assert len(plots) == 2
    assert all("text/html" in o["data"] for o in plots)


@pytest.mark.notebook
def test_a_notebook_run_twice_leaves_runs_one_can_tell_apart(tmp_path, trackio_dir):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext ipytune"),
        nbformat.v4.new_code_cell("%%tune --method grid --project twice --quiet\nx = tune.int(1, 3)\nx"),
        nbformat.v4.new_code_cell("with tune.track(project='twice', name='loop'):\n    tune.log({'loss': 1.0})"),
    ]
    for _ in range(2):  # Restart & Run All, twice
        NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    table = runs("twice")
    assert len(table) == 8
    assert table["name"].is_unique
    assert sorted(table["name"]) == ["loop", "loop (2)", "x=1", "x=1 (2)", "x=2", "x=2 (2)", "x=3", "x=3 (2)"]
    assert table.groupby("group")["name"].count().to_dict() == dict.fromkeys(table["group"].dropna().unique(), 3)
