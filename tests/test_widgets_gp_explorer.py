"""The GP explorer's frames are bayes_opt's own GP and acquisition, step by step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from IPython.core.error import UsageError

from ipytune.widgets.gp import GPExplorer, gp_explorer, gp_frames
from tests.conftest import run


@pytest.fixture(scope="module")
def lecture() -> dict:
    return gp_frames(n_iter=5)  # the lecture's f(x) = -(x-2)**2 + 1 on (-5, 5), UCB


def test_mean_interpolates_the_observations_and_sigma_vanishes_there(lecture: dict) -> None:
    for frame in lecture["frames"]:
        targets = np.array(frame["targets"])
        scale = np.ptp(targets) or 1.0
        assert np.allclose(frame["obs_mean"], targets, atol=1e-3 * scale)
        assert max(frame["obs_std"]) <= 2e-3 * scale
        assert min(frame["std"]) >= 0


def test_the_marked_acquisition_maximum_is_the_point_registered_next(lecture: dict) -> None:
    frames = lecture["frames"]
    for frame, after in itertools.pairwise(frames):
        assert after["points"][0][-1] == pytest.approx(frame["next"][0], abs=1e-5)
        # bayes_opt maximises the acquisition over the continuous space: no grid point beats it
        assert frame["next_acq"] >= max(frame["acq"]) - 1e-3 * (abs(max(frame["acq"])) + 1)
    assert len(frames) == 6
    assert len(frames[0]["targets"]) == 3  # init_points
    assert len(frames[-1]["targets"]) == 8


def test_the_true_function_and_the_best_so_far() -> None:
    data = gp_frames(f=lambda x: x, bounds=(0, 1), init_points=2, n_iter=2, acquisition="ei", seed=1)
    assert data["truth"] == pytest.approx(data["grid"], abs=1e-5)
    for frame in data["frames"]:
        assert frame["best"] == pytest.approx(max(frame["targets"]))
        assert 0 <= frame["next"][0] <= 1


def test_two_parameters_give_heatmaps_over_the_grid() -> None:
    data = gp_frames(f=lambda a, b: -(a**2) - b**2, bounds={"a": (-1, 1), "b": (-2, 2)}, n_iter=2)
    n = len(data["grid"]["x"]) * len(data["grid"]["y"])
    assert data["dims"] == 2 and data["names"] == ["a", "b"]  # noqa: PT018
    for frame in data["frames"]:
        assert len(frame["mean"]) == len(frame["std"]) == len(frame["acq"]) == n
        assert -1 <= frame["next"][0] <= 1 and -2 <= frame["next"][1] <= 2  # noqa: PT018


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": (5, -5)}, "low < high"),
        ({"acquisition": "pi"}, "not one of ucb, ei"),
        ({"n_iter": -1}, "n_iter"),
        ({"init_points": 0}, "init_points"),
        ({"f": lambda x: float("nan")}, "finite"),
        ({"bounds": {"a": (0, 1), "b": (0, 1), "c": (0, 1)}}, "one (low, high) or a dict of two"),
    ],
)
def test_bad_input_says_what_to_do(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gp_frames(**{"n_iter": 1, **kwargs})


def test_state_round_trips() -> None:
    widget = gp_explorer(n_iter=2)
    widget.frame = 2
    copy = GPExplorer()
    copy.set_state(widget.get_state())
    assert copy.data == widget.data
    assert copy.frame == 2
    assert "step 3" in repr(copy)  # the terminal summary


def test_explorer_of_a_finished_gp_search(ip: object) -> None:
    result = run(
        ip,
        "%%tune --method gp --trials 8 --seed 3 --quiet --no-track --storage memory\n"
        "x = tune.float(-5, 5)\ny = tune.float(0.01, 10, log=True)\n-(x - 2) ** 2 - (y - 1) ** 2",
    )
    one = result.gp_explorer(params="x").data
    trials = result.trials
    assert one["dims"] == 1 and one["truth"] is None  # noqa: PT018
    # frame k shows the GP after k+2 trials; its next point is the trial the search really ran next
    for k, frame in enumerate(one["frames"][:-1]):
        assert frame["next"][0] == pytest.approx(trials["x"][k + 2], abs=1e-6)
    assert one["frames"][-1]["next"] is None
    two = result.gp_explorer().data
    assert two["names"] == ["x", "log(y)"]
    with pytest.raises(UsageError, match="numeric parameters"):
        result.gp_explorer(params="z")


def test_explorer_needs_a_gp_search(ip: object) -> None:
    result = run(
        ip, "%%tune --method random --trials 3 --quiet --no-track --storage memory\ntune.float(0, 1, name='x')"
    )
    with pytest.raises(UsageError, match="--method gp"):
        result.gp_explorer()


def test_explorer_of_a_study_scores_with_the_samplers_acquisition() -> None:
    """A study searched with expected improvement is replayed with expected improvement.

    EI scores against the best target seen (bayes_opt's ``y_max``), which the explorer
    must set itself when it scores without ``suggest()``.
    """
    from types import SimpleNamespace

    import optuna

    from ipytune.search.samplers.gp import BayesOptSampler
    from ipytune.search.space import FloatParam, IntParam
    from ipytune.widgets.gp import study_frames

    params = [FloatParam("x", -5.0, 5.0), IntParam("k", 3, 3)]  # k: a constant bayes_opt never sees
    sampler = BayesOptSampler(params, seed=0, n_startup_trials=3, acquisition="ei")
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: -((t.suggest_float("x", -5.0, 5.0) - 2) ** 2) + t.suggest_int("k", 3, 3), n_trials=6)
    result = SimpleNamespace(
        method="gp", sampler=sampler, study=study, maximize=True,
        best_trial=study.best_trial, best_params=study.best_params,
    )  # fmt: skip
    data = study_frames(result)
    assert data["acquisition"] == "ei"
    assert data["names"] == ["x"]  # the constant is no axis
    assert len(data["frames"]) == 5  # after 2, 3, ..., 6 trials
    best = max(t.value for t in study.trials)
    for frame in data["frames"]:
        assert min(frame["acq"]) >= -1e-9  # an expected improvement is never negative
        assert max(frame["acq"]) > 0
    assert data["frames"][-1]["best"] == pytest.approx(best)
