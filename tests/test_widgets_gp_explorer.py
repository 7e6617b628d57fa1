"""The GP explorer's frames are bayes_opt's own GP and acquisition, step by step, and what they
draw honours the observations.

"Drawn" means the data the front-end plots: the 1-D mean is a path straight between the grid
points (``np.interp`` over ``data["grid"]``), so the checks read that, never a separate
prediction at the observed points (a GP whose length-scale collapsed passes through its
points in a spike no grid point shows).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from IPython.core.error import UsageError

from ipytune.widgets.gp import GPExplorer, gp_explorer, gp_frames, study_frames
from tests.conftest import run


def _misses(data: dict, frame: dict) -> list[float]:
    """How far the drawn mean passes from each observation (on the drawn slice)."""
    off = frame.get("off") or [0.0] * len(frame["targets"])
    drawn = np.interp(frame["points"][0], data["grid"], frame["mean"])
    return [abs(m - t) for m, t, o in zip(drawn, frame["targets"], off, strict=True) if o == 0]


def _tolerance(frame: dict) -> float:
    """1 % of what the frame draws: a pixel or two of the plot."""
    return 0.01 * float(np.ptp(np.concatenate([frame["mean"], frame["targets"]])))


@pytest.fixture(scope="module", params=[42, 0])
def lecture(request: pytest.FixtureRequest) -> dict:
    return gp_frames(seed=request.param)  # the defaults: f(x) = -(x-2)**2 + 1 on (-5, 5), UCB, 3 + 7 points


def test_every_frame_draws_a_mean_through_its_observations(lecture: dict) -> None:
    for k, frame in enumerate(lecture["frames"]):
        assert max(_misses(lecture, frame)) <= _tolerance(frame), f"frame {k + 1}"
        assert frame["caveat"] is None or "Length-scale at its floor" in frame["caveat"]
        # and the picture is not the collapsed one (a flat mean at the targets' average)
        assert np.ptp(frame["mean"]) >= 0.5 * np.ptp(frame["targets"]), f"frame {k + 1}: flat mean"
        assert min(frame["std"]) >= 0


def test_the_ring_marks_where_the_last_star_went(lecture: dict) -> None:
    frames = lecture["frames"]
    assert frames[0]["added"] is None  # the random start
    for frame, after in itertools.pairwise(frames):
        added = after["added"]
        assert added == len(after["targets"]) - 1
        assert after["points"][0][added] == pytest.approx(frame["next"][0], abs=1e-5)
    assert len(frames) == 8
    assert len(frames[0]["targets"]) == 3 and len(frames[-1]["targets"]) == 10  # noqa: PT018


def test_the_switch_scores_the_drawn_gp_with_each_acquisition(lecture: dict) -> None:
    stops = lecture["stops"]
    assert stops["ucb"][stops["ucb"].index(2.576)] == lecture["value"] == 2.576
    for frame in lecture["frames"]:
        mean, std = np.array(frame["mean"]), np.array(frame["std"])
        for s, kappa in enumerate(stops["ucb"]):  # UCB(x) = μ(x) + κ·σ(x), as drawn
            assert np.allclose(frame["acqs"]["ucb"][s], mean + kappa * std, rtol=2e-3, atol=2e-3 * np.ptp(mean))
        for curve in frame["acqs"]["ei"]:
            assert min(curve) >= 0
        for curve in frame["acqs"]["pi"]:
            assert 0 <= min(curve) <= max(curve) <= 1
        # bayes_opt maximises its acquisition over the continuous space: no grid point beats it
        own = frame["acqs"]["ucb"][stops["ucb"].index(2.576)]
        assert frame["next_acq"] >= max(own) - 1e-3 * (abs(max(own)) + 1)
    # exploitation against exploration on the first frame: κ = 0 looks at the best mean, κ = 10
    # where σ is largest
    first, grid = lecture["frames"][0], np.array(lecture["grid"])
    exploit = grid[np.argmax(first["acqs"]["ucb"][0])]
    explore = grid[np.argmax(first["acqs"]["ucb"][-1])]
    assert exploit == pytest.approx(grid[np.argmax(first["mean"])])
    assert first["std"][int(np.argmax(first["acqs"]["ucb"][-1]))] >= 0.8 * max(first["std"])
    assert abs(exploit - explore) > 0.5


def test_posterior_samples_pass_through_the_observations(lecture: dict) -> None:
    for frame in lecture["frames"]:
        assert len(frame["samples"]) == 3
        for sample in frame["samples"]:
            drawn = np.interp(frame["points"][0], lecture["grid"], sample)
            assert np.allclose(drawn, frame["targets"], atol=2 * _tolerance(frame))
        assert np.ptp(np.array(frame["samples"]) - np.array(frame["mean"])) > 0  # they differ from the mean


def test_the_y_range_keeps_the_optimum_readable(lecture: dict) -> None:
    lo, hi = lecture["y_ranges"]["optimum"]
    best = max(lecture["frames"][-1]["targets"])
    assert lo < best < hi
    assert hi - lo < 0.5 * np.ptp(lecture["truth"])  # the -48 tail at x = -5 is left out
    low, high = lecture["y_ranges"]["all"]
    assert low <= min(lecture["truth"]) and high >= best  # noqa: PT018


def test_a_race_against_random_search_starts_from_the_same_points() -> None:
    data = gp_explorer(n_iter=3, race="random").data
    race = data["race"]
    assert race["labels"] == ["GP · UCB κ = 2.576", "random search"]
    gp, rand = race["frames"]
    assert gp[0]["points"] == rand[0]["points"]  # the same random start
    assert gp[1]["points"][0][-1] != rand[1]["points"][0][-1]
    for best in race["best"]:
        assert len(best) == 3 + 3 and list(best) == sorted(best)  # noqa: PT018  (best so far never drops)
    two = gp_frames(n_iter=2, race=(("ucb", 0.1), ("ucb", 10))).get("race")
    assert two is not None and two["labels"] == ["GP · UCB κ = 0.1", "GP · UCB κ = 10"]  # noqa: PT018


def test_the_true_function_and_the_best_so_far() -> None:
    data = gp_frames(f=lambda x: x, bounds=(0, 1), init_points=2, n_iter=2, acquisition="ei", seed=1)
    assert data["truth"] == pytest.approx(data["grid"], abs=1e-5)
    assert data["acquisition_label"] == "EI (ξ = 0.01)"
    for frame in data["frames"]:
        assert frame["best"] == pytest.approx(max(frame["targets"]))
        assert 0 <= frame["next"][0] <= 1
    pi = gp_frames(bounds=(0, 4), n_iter=1, acquisition="pi", xi=0.1)
    assert pi["value"] == 0.1 and 0.1 in pi["stops"]["pi"]  # noqa: PT018


def test_two_parameters_give_heatmaps_with_real_names() -> None:
    data = gp_frames(f=lambda a, b: -(a**2) - b**2, bounds={"a": (-1, 1), "b": (-2, 2)}, n_iter=2)
    n = len(data["grid"]["x"]) * len(data["grid"]["y"])
    assert data["dims"] == 2 and data["names"] == ["a", "b"]  # noqa: PT018
    assert "<lambda>" not in data["title"] and "f(a, b)" in data["title"]  # noqa: PT018
    for frame in data["frames"]:
        assert len(frame["mean"]) == len(frame["std"]) == len(frame["acq"]) == n
        assert -1 <= frame["next"][0] <= 1 and -2 <= frame["next"][1] <= 2  # noqa: PT018
        # bilinear between the heatmap's cells; or the frame says why not
        assert frame["miss"] <= _tolerance(frame) or "floor" in frame["caveat"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": (5, -5)}, "low < high"),
        ({"acquisition": "poi"}, "not one of ucb, ei, pi"),
        ({"acquisition": "ei", "kappa": 1.0}, "takes xi"),
        ({"kappa": -1.0}, "κ = -1.0 must be a number >= 0"),
        ({"race": 3}, "race=3: give 'random'"),
        ({"race": "ucb"}, "against itself"),
        ({"n_iter": -1}, "n_iter"),
        ({"init_points": 0}, "init_points"),
        ({"f": lambda x: float("nan")}, "finite"),
        ({"bounds": {"a": (0, 1), "b": (0, 1), "c": (0, 1)}}, "one (low, high) or a dict of two"),
    ],
)
def test_bad_input_says_what_to_do(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        gp_frames(**{"n_iter": 1, **kwargs})


def test_state_round_trips() -> None:
    widget = gp_explorer(n_iter=2, race=None, present=True)
    widget.frame = 2
    widget.view = "explore"
    copy = GPExplorer()
    copy.set_state(widget.get_state())
    assert copy.data == widget.data
    assert copy.frame == 2 and copy.present  # noqa: PT018
    assert "step 3" in repr(copy)  # the terminal summary


def test_the_replay_of_a_study_draws_a_mean_through_its_points(ip: object) -> None:
    result = run(
        ip,
        "%%tune --method gp --trials 8 --seed 3 --quiet --no-track --storage memory\n"
        "x = tune.float(-5, 5)\n-(x - 2) ** 2",
    )
    data = result.gp_explorer().data
    assert data["maximize"] is True and "slice" not in data  # noqa: PT018
    assert len(data["frames"]) == 7  # after 2, 3, ..., 8 trials
    for k, frame in enumerate(data["frames"]):
        assert max(_misses(data, frame)) <= _tolerance(frame), f"replay frame {k + 1}"
    # each frame's next point is the trial the search really ran next, ringed on the frame after
    trials = result.trials
    for k, (frame, after) in enumerate(itertools.pairwise(data["frames"])):
        assert frame["next"][0] == pytest.approx(trials["x"][k + 2], abs=1e-6)
        assert after["points"][0][after["added"]] == pytest.approx(frame["next"][0], abs=1e-5)


def test_a_slice_of_a_study_says_its_points_lie_off_it(ip: object) -> None:
    result = run(
        ip,
        "%%tune --method gp --trials 8 --seed 3 --quiet --no-track --storage memory --minimize\n"
        "x = tune.float(-5, 5)\ny = tune.float(0.01, 10, log=True)\n(x - 2) ** 2 + (y - 1) ** 2",
    )
    one = result.gp_explorer(params="x").data
    assert one["dims"] == 1 and one["truth"] is None and one["maximize"] is False  # noqa: PT018
    assert "faded points lie off this slice" in one["slice"]
    assert "others at the best trial's: y = " in one["title"]
    assert not re.search(r"\d\.\d{5,}", one["title"]), one["title"]  # rounded, not y=-1.278986308236186
    last = one["frames"][-1]
    assert len(last["off"]) == len(last["targets"]) and max(last["off"]) > 0  # noqa: PT018
    assert last["best"] == pytest.approx(min(last["targets"]))  # minimised: lower is better
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
    ei = data["stops"]["ei"].index(0.01)
    for frame in data["frames"]:
        assert min(frame["acqs"]["ei"][ei]) >= -1e-9  # an expected improvement is never negative
        assert max(frame["acqs"]["ei"][ei]) > 0
    assert data["frames"][-1]["best"] == pytest.approx(best)
