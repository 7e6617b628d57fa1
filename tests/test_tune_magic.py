"""``%%tune`` end to end through a real IPython InteractiveShell, on real Optuna and bayes_opt."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import IPython
import pytest
from IPython.core.error import UsageError

from tests.conftest import run

QUADRATIC = """
x = tune.float(-5, 5{step})
k = tune.choice(["a", "b"])
-(x - 2) ** 2 + (1 if k == "a" else 0)
"""


def quadratic(method: str) -> str:
    return QUADRATIC.format(step=", step=0.5" if method == "grid" else "")


@pytest.mark.parametrize("method", ["grid", "random", "tpe", "gp"])
def test_every_method_searches_and_refits(ip, method):
    result = run(ip, f"%%tune --method {method} --trials 15 --seed 1 --storage memory --quiet\n" + quadratic(method))
    trials = result.trials
    assert len(trials) == 15
    assert (trials["state"] == "COMPLETE").all()
    assert list(trials.columns[:4]) == ["number", "state", "value", "duration"]
    assert {"x", "k"} <= set(trials.columns)
    # best_value is the real maximum of what ran, and its params reproduce it
    assert result.best_value == trials["value"].max()
    best = result.best_params
    assert result.best_value == pytest.approx(-((best["x"] - 2) ** 2) + (1 if best["k"] == "a" else 0))
    # refit: the cell ran once more in the notebook with the best parameters
    assert ip.user_ns["x"] == best["x"]
    assert ip.user_ns["k"] == best["k"]
    assert ip.user_ns["tune"].last is result
    assert result.method == method
    assert result.study.user_attrs["ipytune:method"] == method


def test_gp_finds_the_optimum_of_a_smooth_function_and_keeps_its_surrogate(ip):
    result = run(
        ip, "%%tune --method gp --trials 20 --seed 0 --storage memory --quiet\nx = tune.float(-5, 5)\n-(x - 2) ** 2"
    )
    assert result.best_value > -0.05
    optimizer = result.optimizer
    assert optimizer is not None
    assert len(optimizer.space) == 20
    assert optimizer.space.keys == ["x"]


def test_grid_runs_every_combination_exactly_once(ip):
    result = run(
        ip,
        "%%tune --method grid --seed 3 --storage memory --quiet\n"
        "a = tune.int(1, 4)\nb = tune.choice(['p', 'q', 'r'])\nc = tune.float(0, 1, step=0.5)\na",
    )
    points = {(r.a, r.b, r.c) for r in result.trials.itertuples()}
    assert len(result.trials) == 4 * 3 * 3 == len(points)
    assert result.stop_reason == "completed"


def test_grid_rejects_a_continuous_float_before_running(ip):
    with pytest.raises(UsageError, match=r"'lr' is continuous .*step="):
        run(ip, "%%tune --method grid --storage memory\nran = []\nran.append(1)\nlr = tune.float(0, 1)\nlr")
    assert "ran" not in ip.user_ns


@pytest.mark.parametrize("method", ["grid", "random", "tpe", "gp"])
def test_same_seed_same_trial_sequence(ip, method):
    cell = f"%%tune --method {method} --trials 12 --seed 7 --storage memory --quiet --no-refit\n" + quadratic(method)
    first = run(ip, cell).trials[["x", "k", "value"]]
    second = run(ip, cell).trials[["x", "k", "value"]]
    assert first.equals(second)
    other = run(ip, cell.replace("--seed 7", "--seed 8")).trials[["x", "k"]]
    assert not first[["x", "k"]].equals(other)


@pytest.mark.parametrize("storage", ["default", "sqlite", "journal", "memory"])
def test_rerunning_with_the_same_study_resumes_it(ip, tmp_path, storage):
    option = {
        "default": "",
        "sqlite": f"--storage sqlite:///{tmp_path / 'studies.db'}",
        "journal": f"--storage {tmp_path / 'my.journal'}",
        "memory": "--storage memory",
    }[storage]
    cell = f"%%tune --method tpe --trials 4 --seed 0 --study resume-me {option} --quiet\n" + quadratic("tpe")
    run(ip, cell)
    result = run(ip, cell)
    assert len(result.trials) == 8
    assert result.trials["number"].tolist() == list(range(8))
    if storage == "default":
        assert (tmp_path / ".ipytune" / "studies.journal").exists()


def test_study_survives_a_new_process(ip, tmp_path):
    """The default storage is a file: a kernel restart (a new storage object) loses nothing."""
    import optuna

    run(ip, "%%tune --trials 3 --study durable --quiet\n" + quadratic("tpe"))
    from ipytune.search import storage

    storage._open.clear()  # forget the cached storage, as a new kernel would
    reopened = optuna.load_study(study_name="durable", storage=storage.open_storage(None))
    assert len(reopened.trials) == 3


def test_grid_resume_skips_points_already_run(ip):
    cell = "%%tune --method grid --trials 5 --seed 0 --study g --storage memory --quiet\na = tune.int(1, 12)\na"
    first = run(ip, cell)
    second = run(ip, cell)
    third = run(ip, cell)
    values = third.trials["a"].tolist()
    assert len(values) == 12 == len(set(values))  # 5 + 5 + the 2 left, none twice
    assert second.trials_run == 5
    assert third.trials_run == 2
    assert first.study.study_name == third.study.study_name


def test_resume_with_another_direction_or_method_is_refused(ip):
    run(ip, "%%tune --method random --trials 2 --study fixed --storage memory --quiet\n" + quadratic("random"))
    with pytest.raises(UsageError, match=r"created to maximize: pass --maximize"):
        run(ip, "%%tune --method random --minimize --trials 2 --study fixed --storage memory\n" + quadratic("random"))
    with pytest.raises(UsageError, match=r"was run with --method random"):
        run(ip, "%%tune --method tpe --trials 2 --study fixed --storage memory\n" + quadratic("tpe"))


def test_trials_run_in_a_copy_of_the_namespace(ip):
    ip.user_ns["seen"] = []
    run(
        ip,
        "%%tune --trials 3 --storage memory --quiet --no-refit\nscratch = tune.int(1, 9)\nseen.append(scratch)\nscratch",
    )
    assert "scratch" not in ip.user_ns  # no trial leaked its variables
    assert len(ip.user_ns["seen"]) == 3  # but the cell did run against the user's objects


def test_minimize(ip):
    result = run(
        ip, "%%tune --method tpe --minimize --trials 20 --seed 0 --storage memory --quiet\n" + quadratic("tpe")
    )
    assert result.best_value == result.trials["value"].min()
    assert not result.maximize


def test_conditional_parameters_with_tpe_and_random(ip):
    cell = (
        "%%tune --method {m} --trials 25 --seed 0 --storage memory --quiet --no-refit\n"
        "kind = tune.choice(['flat', 'slope'])\n"
        "if kind == 'slope':\n"
        "    a = tune.float(0, 1)\n"
        "    score = a\n"
        "else:\n"
        "    score = 0.5\n"
        "score"
    )
    for method in ("tpe", "random"):
        trials = run(ip, cell.format(m=method)).trials
        assert set(trials["kind"]) == {"flat", "slope"}
        assert trials.loc[trials["kind"] == "flat", "a"].isna().all()
        assert trials.loc[trials["kind"] == "slope", "a"].notna().all()


def test_objects_as_choices_reach_the_cell_and_best_params(ip):
    ip.run_cell("class Small:\n    size = 1\nclass Large:\n    size = 10\n")
    result = run(ip, "%%tune --method grid --storage memory --quiet\nmodel = tune.choice([Small, Large])\nmodel.size")
    assert result.best_params == {"model": ip.user_ns["Large"]}
    assert ip.user_ns["model"] is ip.user_ns["Large"]
    assert set(result.trials["model"]) == {"Small", "Large"}


def test_sklearn_estimator_is_cross_validated_on_data_and_refitted(ip):
    ip.run_cell("from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)")
    result = run(
        ip,
        "%%tune --method random --trials 3 --seed 0 --data X y --cv 3 --storage memory --quiet\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "model = DecisionTreeClassifier(max_depth=tune.int(1, 5), random_state=0)\n"
        "model",
    )
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    best = result.best_trial
    expected = cross_val_score(
        DecisionTreeClassifier(max_depth=best.params["max_depth"], random_state=0),
        ip.user_ns["X"],
        ip.user_ns["y"],
        cv=3,
    )
    assert result.best_value == pytest.approx(expected.mean())
    assert best.user_attrs["cv_scores"] == pytest.approx(list(expected))
    fitted = ip.user_ns["model"]
    assert fitted.get_params()["max_depth"] == best.params["max_depth"]
    assert hasattr(fitted, "tree_")  # refit fitted it on all of X, y


def test_estimator_without_data_is_a_clear_error(ip):
    with pytest.raises(UsageError, match=r"returned a LinearRegression estimator: pass --data X y"):
        run(
            ip,
            "%%tune --trials 3 --storage memory --quiet\nfrom sklearn.linear_model import LinearRegression\n"
            "LinearRegression(fit_intercept=tune.choice([True, False]))",
        )


def test_data_names_must_exist(ip):
    with pytest.raises(UsageError, match=r"--data names Xtrain, ytrain, which the notebook has not defined"):
        run(ip, "%%tune --data Xtrain ytrain --storage memory\nx = tune.int(1, 2)\nx")


@pytest.mark.parametrize(
    ("last", "reason"),
    [
        ("None", "the cell returned None"),
        ("'high'", "the cell returned a str ('high'), not a number"),
        ("float('nan')", "the cell returned NaN"),
        ("[x]", "the cell returned a list"),
    ],
)
def test_non_numeric_objective_fails_the_trial_with_what_was_returned(ip, last, reason):
    result = run(ip, f"%%tune --method random --trials 3 --storage memory --quiet --catch\nx = tune.int(1, 5)\n{last}")
    assert (result.trials["state"] == "FAIL").all()
    assert result.trials["fail_reason"].str.startswith(reason).all()
    assert result.best_trial is None
    assert reason in str(result)


@pytest.mark.parametrize("last", ["None", "'high'", "[x]", "True"])
def test_a_cell_that_returns_no_number_stops_after_its_first_trial(ip, last):
    outcome = ip.run_cell(f"%%tune --method random --trials 5 --storage memory --quiet\nx = tune.int(1, 5)\n{last}")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "every trial of this cell would fail the same way" in str(outcome.error_in_exec)
    assert [t.state.name for t in ip.user_ns["tune"].last.study.trials] == ["FAIL"]  # one trial, not five


def test_a_cell_that_returns_a_number_sometimes_goes_on(ip):
    cell = "x = tune.int(1, 6)\nx if x > 1 else None"
    result = run(ip, f"%%tune --method grid --trials 6 --seed 1 --storage memory --quiet --no-refit\n{cell}")
    assert len(result.study.trials) == 6  # once a trial completed, None is that trial's failure only


def test_numpy_and_torch_scalars_are_scores(ip):
    result = run(
        ip, "%%tune --trials 2 --storage memory --quiet\nimport numpy as np\nx = tune.int(1, 5)\nnp.float32(x) * 2"
    )
    assert result.best_value == 2 * result.best_params["x"]
    torch = pytest.importorskip("torch")
    assert torch is not None
    result = run(
        ip, "%%tune --trials 2 --storage memory --quiet\nimport torch\nx = tune.int(1, 5)\ntorch.tensor(x) * 3"
    )
    assert result.best_value == 3 * result.best_params["x"]


def test_user_exception_stops_the_search_showing_their_traceback_and_keeps_trials(ip, capsys):
    ip.user_ns["calls"] = []
    cell = (
        "%%tune --method random --trials 10 --seed 0 --study boom --storage memory\n"
        "x = tune.int(1, 100)\n"
        "calls.append(x)\n"
        "if len(calls) == 4:\n"
        "    raise ValueError('bad batch')\n"
        "x"
    )
    outcome = ip.run_cell(cell)
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "trial 3 raised ValueError" in str(outcome.error_in_exec)
    assert "3 finished trials are kept in study 'boom'" in str(outcome.error_in_exec)
    shown = capsys.readouterr()
    traceback = shown.out + shown.err
    assert "ValueError: bad batch" in traceback
    assert "raise ValueError('bad batch')" in traceback  # the user's own line
    assert "ipytune" not in traceback.split("ValueError: bad batch")[0]  # no frames of ours
    kept = ip.user_ns["tune"].last.trials
    assert kept["state"].tolist() == ["COMPLETE"] * 3 + ["FAIL"]
    assert kept["fail_reason"].iloc[3] == "ValueError: bad batch"


def test_catch_records_the_exception_and_goes_on(ip):
    cell = (
        "%%tune --method random --trials 8 --seed 0 --storage memory --catch --quiet\n"
        "x = tune.int(1, 100)\n"
        "if x % 2:\n"
        "    raise RuntimeError(f'odd {x}')\n"
        "x"
    )
    result = run(ip, cell)
    assert len(result.trials) == 8
    failed = result.trials[result.trials["state"] == "FAIL"]
    assert len(failed) > 0
    assert failed["fail_reason"].str.startswith("RuntimeError: odd").all()
    assert (result.trials.loc[result.trials["state"] == "COMPLETE", "x"] % 2 == 0).all()


def test_interrupt_keeps_finished_trials_and_the_study_resumes(ip):
    ip.user_ns["calls"] = []
    cell = (
        "%%tune --method tpe --trials 10 --seed 0 --study stop-me --storage memory --quiet\n"
        "x = tune.int(1, 100)\n"
        "calls.append(x)\n"
        "if len(calls) == 4:\n"
        "    raise KeyboardInterrupt\n"
        "x"
    )
    result = run(ip, cell)
    assert result.stop_reason == "interrupted"
    assert result.trials["state"].tolist() == ["COMPLETE"] * 3 + ["FAIL"]
    assert "interrupted" in str(result)
    assert "x" not in ip.user_ns  # no refit after an interrupt
    resumed = run(ip, cell)  # calls is now longer than 4: nothing interrupts
    assert len(resumed.trials) == 14
    assert (resumed.trials["state"] == "COMPLETE").sum() == 13


def test_real_sigint_between_trials_stops_cleanly(ip):
    """A kernel interrupt is a SIGINT delivered to the main thread while a trial runs."""
    ip.run_cell("import _thread, threading, time")
    cell = (
        "%%tune --method random --trials 1000 --seed 0 --storage memory --quiet\n"
        "x = tune.int(1, 100)\n"
        "time.sleep(0.01)\n"
        "x"
    )
    run(ip, cell.replace("--trials 1000", "--trials 1"))  # the first search imports optuna and torch: not timed
    ip.run_cell("timer = threading.Timer(0.5, _thread.interrupt_main); timer.start()")
    result = run(ip, cell)
    assert result.stop_reason == "interrupted"
    states = result.trials["state"]
    assert 5 < (states == "COMPLETE").sum() < 1000
    assert set(states) <= {"COMPLETE", "FAIL"}  # nothing left RUNNING


def test_timeout_stops_starting_trials(ip):
    result = run(
        ip,
        "%%tune --trials 10000 --timeout 0.3 --storage memory --quiet\nimport time\nx = tune.int(1, 5)\ntime.sleep(0.02)\nx",
    )
    assert result.stop_reason == "timeout"
    assert 3 < len(result.trials) < 100


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--method bayes", "argument --method: invalid choice: 'bayes'"),
        ("--trials 0", "--trials 0: run at least 1 trial"),
        ("--trials many", "argument --trials: invalid int value"),
        ("--timeout -1", "--timeout -1: give a positive number of seconds"),
        ("--cv 1", "--cv 1: cross-validation needs at least 2 folds"),
        ("--data X", "argument --data: expected 2 arguments"),
        ("--bogus", "unrecognized arguments: --bogus"),
    ],
)
def test_misuse_is_a_one_line_usage_error(ip, line, message):
    outcome = ip.run_cell(f"%%tune {line}\nx = tune.int(1, 2)\nx")
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)
    assert "\n" not in str(outcome.error_in_exec).strip()


def test_config_changes_defaults(ip):
    ip.run_line_magic("config", "TuneMagics.default_method = 'random'")
    try:
        result = run(ip, "%%tune --trials 2 --storage memory --quiet\nx = tune.int(1, 2)\nx")
        assert result.method == "random"
        assert type(result.study.sampler).__name__ == "RandomSampler"
    finally:
        ip.run_line_magic("config", "TuneMagics.default_method = 'tpe'")


def test_terminal_progress_line_and_summary(ip, capsys):
    result = run(ip, "%%tune --method grid --storage memory\nx = tune.int(1, 4)\nx")
    out = capsys.readouterr().out
    assert "[grid] trial 4/4" in out
    assert "best 4 (trial" in out
    text = str(result)
    assert text.splitlines()[0].startswith("grid · study")
    assert "4 complete" in text
    assert "best 4 (max)" in text
    assert "<table" in result._repr_html_()


def test_quiet_prints_no_progress(ip, capsys):
    run(ip, "%%tune --method grid --storage memory --quiet\nx = tune.int(1, 4)\nx")
    assert "trial 4/4" not in capsys.readouterr().out


def test_bad_storage_is_one_line(ip, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match=r"--storage .*cannot write there"):
        run(ip, f"%%tune --storage {blocker}/sub/studies.journal\nx = tune.int(1, 2)\nx")
    with pytest.raises(UsageError, match=r"--storage nosuchdb://x: cannot open it"):
        run(ip, "%%tune --storage nosuchdb://x\nx = tune.int(1, 2)\nx")


def test_failed_refit_keeps_the_search(ip):
    ip.user_ns["calls"] = []
    cell = (
        "%%tune --method grid --storage memory --quiet\n"
        "x = tune.int(1, 3)\n"
        "calls.append(x)\n"
        "if len(calls) > 3:\n"
        "    raise OSError('disk gone')\n"
        "x"
    )
    outcome = ip.run_cell(cell)
    assert isinstance(outcome.error_in_exec, UsageError)
    assert "refit with the best parameters failed" in str(outcome.error_in_exec)
    assert ip.user_ns["tune"].last.best_value == 3


# Colab's IPython 7.34 on Python 3.13: IPython 7's transformer cannot read `files = !ls` on Python 3.12+
# (tokenize changed with PEP 701); a plain cell fails the same way there, ipytune or not.
@pytest.mark.xfail(
    IPython.version_info < (8,) and sys.version_info >= (3, 12),
    reason="IPython 7 cannot transform `x = !cmd` on Python 3.12+",
    strict=True,
)
def test_ipython_syntax_in_the_cell_is_transformed(ip, tmp_path: Path):
    result = run(ip, "%%tune --trials 2 --storage memory --quiet\nx = tune.int(1, 3)\nfiles = !ls\nx")
    assert math.isfinite(result.best_value)


def test_help_lists_every_option_cleanly(ip):
    doc = ip.find_cell_magic("tune").__doc__
    for option in (
        "--method",
        "--trials",
        "--timeout",
        "--seed",
        "--study",
        "--storage",
        "--no-refit",
        "--data",
        "--catch",
    ):
        assert option in doc
    assert "option_strings" not in doc  # a stray % in a help string makes argparse dump its internals


def test_gp_on_a_small_integer_space_prints_no_duplicate_point_lines(ip, capsys):
    """Int/categorical spaces make bayes_opt re-suggest points; its per-duplicate print must not reach the user."""
    result = run(
        ip, "%%tune --method gp --trials 15 --seed 0 --storage memory --quiet\nk = tune.int(1, 3)\n-(k - 2) ** 2"
    )
    assert result.best_params == {"k": 2}
    assert len(result.trials) == 15  # more trials than points: duplicates were registered
    assert "not unique" not in capsys.readouterr().out
