"""Reading trackio projects back (ipytune.runs, metric_history, %compare_runs, %trackio_show), any project."""

from __future__ import annotations

import math
import urllib.request

import pytest
from IPython.core.error import UsageError

import ipytune
from ipytune.tracking import _trackio
from ipytune.tracking.runs import metric_history, projects, runs
from tests.conftest import run


def plain_trackio_project(folder, project="plain"):
    """Two runs written by trackio's own init/log/finish, as the lecture does without ipytune."""
    import trackio

    _trackio.use(folder)  # trackio read TRACKIO_DIR at import; this test's folder is newer
    for name, lr, losses in (("run-a", 0.1, [1.0, 0.6, 0.5]), ("run-b", 0.01, [1.0, 0.8, 0.3])):
        trackio.init(
            project=project,
            name=name,
            group="sweep",
            config={"lr": lr, "optimizer": {"name": "sgd", "momentum": 0.9}},
            embed=False,
            auto_log_cpu=False,
            auto_log_gpu=False,
        )
        for step, loss in enumerate(losses):
            trackio.log({"loss": loss, "epoch": step}, step=step)
        trackio.finish()


def test_runs_reads_a_plain_trackio_project(trackio_dir):
    plain_trackio_project(trackio_dir)
    table = runs("plain")
    assert table["name"].tolist() == ["run-a", "run-b"]
    assert table["group"].tolist() == ["sweep", "sweep"]
    assert table["lr"].tolist() == [0.1, 0.01]
    assert table["optimizer.name"].tolist() == ["sgd", "sgd"]  # nested config flattened
    assert table["loss"].tolist() == [0.5, 0.3]  # final values
    assert table["state"].isna().all()  # trackio itself records no run state
    assert list(table.columns[:4]) == ["name", "group", "state", "created"]
    assert table.columns[-1] == "id"


def test_metric_history_is_long_format_by_step(trackio_dir):
    plain_trackio_project(trackio_dir)
    history = metric_history("plain", run="run-b", metric="loss")
    assert list(history.columns) == ["run", "id", "step", "metric", "value"]
    assert history["step"].tolist() == [0, 1, 2]
    assert history["value"].tolist() == [1.0, 0.8, 0.3]
    both = metric_history("plain", metric=["loss", "epoch"])
    assert set(both["metric"]) == {"loss", "epoch"}
    assert len(both) == 12


def test_projects_lists_what_is_in_trackio_dir(trackio_dir):
    plain_trackio_project(trackio_dir, "first")
    plain_trackio_project(trackio_dir, "second")
    assert projects() == ["first", "second"]


def test_unknown_project_and_run_are_one_line_errors(trackio_dir):
    plain_trackio_project(trackio_dir)
    with pytest.raises(UsageError, match=r"no trackio project 'nope' .*projects there: plain\."):
        runs("nope")
    with pytest.raises(UsageError, match=r"project 'plain' has no run 'run-z'; its runs: run-a, run-b\."):
        metric_history("plain", run="run-z")


def test_runs_is_exported_lazily():
    assert ipytune.runs is runs
    assert ipytune.metric_history is metric_history


def test_compare_runs_on_a_plain_trackio_project(ip, trackio_dir):
    plain_trackio_project(trackio_dir)
    table = ip.run_line_magic("compare_runs", "plain --sort loss --ascending")
    assert table["name"].tolist() == ["run-b", "run-a"]
    assert "id" not in table.columns
    descending = ip.run_line_magic("compare_runs", "plain --sort loss")
    assert descending["name"].tolist() == ["run-a", "run-b"]


def test_compare_runs_defaults_to_the_last_search_sorted_by_its_objective(ip, trackio_dir):
    run(ip, "%%tune --method grid --minimize --study lowest --storage memory --quiet\nx = tune.choice([3, 1, 2])\nx")
    table = run(ip, "%compare_runs")
    assert table["name"].tolist() == ["x=1", "x=2", "x=3"]
    assert not any(column.startswith("env.") for column in table.columns)
    full = run(ip, "%compare_runs lowest --all")
    assert "env.python" in full.columns
    assert "id" in full.columns


def test_compare_runs_bad_sort_column_says_which_exist(ip, trackio_dir):
    plain_trackio_project(trackio_dir)
    outcome = ip.run_cell("%compare_runs plain --sort accuracy")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "--sort 'accuracy': no such column" in str(outcome.error_in_exec)
    assert "loss" in str(outcome.error_in_exec)


def test_runs_sees_a_search_that_just_finished(ip, trackio_dir):
    result = run(
        ip, "%%tune --method random --trials 30 --study fresh --storage memory --quiet\nx = tune.float(0, 1)\nx"
    )
    table = runs("fresh")
    assert len(table) == 30
    assert sorted(table["objective"]) == pytest.approx(sorted(t.value for t in result.study.get_trials()))
    assert not any(math.isnan(v) for v in table["duration"])


def test_trackio_show_serves_on_localhost_only(ip, trackio_dir):
    plain_trackio_project(trackio_dir)
    magics = ip.magics_manager.registry["TrackingMagics"]
    ip.run_line_magic("trackio_show", "plain")
    try:
        assert magics._dashboard._uvicorn_server.config.host == "127.0.0.1"
        assert magics.dashboard_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(magics.dashboard_url, timeout=30) as response:
            assert response.status == 200
    finally:
        ip.run_line_magic("trackio_show", "--stop")
    assert magics._dashboard is None


TAGGED_CELL = "x = tune.int(1, 4)\nx"


def test_tags_and_notes_are_on_every_run_and_filter_runs(ip, trackio_dir):
    run(
        ip,
        f"%%tune --method grid --study plain-rf --project tags --tags baseline --quiet\n{TAGGED_CELL}",
    )
    run(
        ip,
        f'%%tune --method grid --study aug-rf --project tags --tags "baseline, augmented" --notes "flipped images" '
        f"--quiet\n{TAGGED_CELL}",
    )
    table = runs("tags")
    assert len(table) == 8
    assert runs("tags", tags="baseline")["group"].value_counts().to_dict() == {"plain-rf": 4, "aug-rf": 4}
    augmented = runs("tags", tags="augmented")
    assert set(augmented["group"]) == {"aug-rf"}
    assert augmented["tags"].tolist() == [["baseline", "augmented"]] * 4
    assert augmented["notes"].tolist() == ["flipped images"] * 4
    assert len(runs("tags", tags=["augmented", "baseline"])) == 4  # every tag given
    assert set(metric_history("tags", tags="augmented")["id"]) == set(augmented["id"])
    with pytest.raises(
        UsageError, match=r"no run of project 'tags' has the tags final; tags there: augmented, baseline"
    ):
        runs("tags", tags="final")

    shown = run(ip, "%compare_runs tags --tags augmented")  # terminal IPython: the table
    assert set(shown["group"]) == {"aug-rf"}


def test_bad_tags_and_notes_are_one_line(ip):
    for line, message in (("--tags ,", "give at least one tag"), ('--notes " "', "--notes needs some text")):
        outcome = ip.run_cell(f"%%tune {line} --storage memory --quiet\n{TAGGED_CELL}")
        assert isinstance(outcome.error_in_exec, UsageError)
        assert message in str(outcome.error_in_exec)


def test_run_names_stay_unique_when_a_notebook_runs_a_search_again(ip, trackio_dir):
    for _ in range(2):  # a new study each time (no --study), the same project, the same grid
        run(ip, f"%%tune --method grid --project again --storage memory --quiet\n{TAGGED_CELL}")
    table = runs("again").sort_values("created")
    first, second = table["group"].unique()
    assert sorted(table[table["group"] == first]["name"]) == ["x=1", "x=2", "x=3", "x=4"]
    assert sorted(table[table["group"] == second]["name"]) == ["x=1 (2)", "x=2 (2)", "x=3 (2)", "x=4 (2)"]


def test_tune_track_names_stay_unique_and_later_rows_keep_the_run(trackio_dir):
    for loss in (0.5, 0.4):
        with ipytune.tune.track(project="loops", name="lr=0.01") as tracked:
            ipytune.tune.log({"loss": loss})
            ipytune.tune.log({"loss": loss / 2})  # a second batch of the same run keeps its name
    assert tracked.name == "lr=0.01 (2)"
    table = runs("loops").sort_values("name")
    assert table["name"].tolist() == ["lr=0.01", "lr=0.01 (2)"]
    assert table["loss"].tolist() == [0.25, 0.2]
    assert len(metric_history("loops", run="lr=0.01 (2)", metric="loss")) == 2


def test_compare_runs_tags_in_a_kernel_compares_the_tagged_runs_only(ip, trackio_dir):
    from ipytune.magics.tracking import _tagged_comparison

    run(
        ip,
        f"%%tune --method grid --study plain --project widget --tags baseline --quiet\n{TAGGED_CELL}",
    )
    run(ip, f"%%tune --method grid --study final --project widget --tags final --quiet\n{TAGGED_CELL}")
    table = runs("widget", tags="final")
    comparison = _tagged_comparison("widget", table, "final", {})  # what %compare_runs --tags shows in a kernel
    assert sorted(comparison.run_names) == ["x=1 (2)", "x=2 (2)", "x=3 (2)", "x=4 (2)"]  # the project had x=1...
    assert set(comparison.groups) == {"final"}
    assert set(comparison.history["id"]) == set(table["id"])
