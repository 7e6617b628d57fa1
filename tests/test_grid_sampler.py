"""The fast grid sampler's contract, on real Optuna studies and storages.

Each point runs exactly once, the order is fixed by the seed, a resumed study
skips the points already run, and the work per trial does not grow with the
grid: the study's trials are read once, never again after the first trial.
No timing is asserted here (see benchmarks/overhead.py for the figures).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import optuna
import pytest
from IPython.core.error import UsageError
from optuna.trial import TrialState

from ipytune.search.samplers.budget import budget_grid, budget_grid_sampler
from ipytune.search.samplers.grid import GRID_ATTR, GRID_ID, FastGridSampler
from ipytune.search.samplers.order import SeededOrder
from ipytune.search.space import ChoiceParam, FloatParam, IntParam
from tests.conftest import run

PARAMS = [IntParam("n", 1, 5), ChoiceParam("kind", ("a", "b", "c")), FloatParam("lr", 0.1, 0.2, step=0.1)]
ALL_POINTS = set(itertools.product(range(1, 6), ("a", "b", "c"), (0.1, 0.2)))


class CountingStudy(optuna.Study):
    """A real study that counts ``get_trials`` calls (Optuna's own ask/tell make none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.get_trials_calls = 0

    def get_trials(self, *args: Any, **kwargs: Any) -> list[optuna.trial.FrozenTrial]:
        self.get_trials_calls += 1
        return super().get_trials(*args, **kwargs)


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def new_study(sampler: FastGridSampler, storage: Any = None, name: str = "grid") -> CountingStudy:
    storage = storage or optuna.storages.InMemoryStorage()
    optuna.create_study(storage=storage, study_name=name, load_if_exists=True)
    return CountingStudy(study_name=name, storage=storage, sampler=sampler)


def run_trials(
    study: optuna.Study, sampler: FastGridSampler, n: int, fail: set[int] = frozenset(), params: list[Any] = PARAMS
) -> list[tuple]:
    """Ask/tell ``n`` trials drawing every parameter; the ``fail``-th ones (0-based) are told FAIL."""
    points = []
    for i in range(n):
        trial = study.ask()
        if sampler.exhausted:
            study.tell(trial, state=TrialState.FAIL)
            break
        point = tuple(p.suggest(trial) for p in params)
        if i in fail:
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, float(point[0]) if isinstance(point[0], (int, float)) else 0.0)
            points.append(point)
    return points


def test_every_point_runs_exactly_once_then_the_grid_is_exhausted() -> None:
    sampler = FastGridSampler(PARAMS, seed=0)
    study = new_study(sampler)

    points = run_trials(study, sampler, sampler.size + 1)

    assert sorted(points) == sorted(ALL_POINTS)
    assert sampler.exhausted


def test_the_grid_size_is_the_product_of_the_grid_values() -> None:
    assert FastGridSampler(PARAMS).size == len(ALL_POINTS)


def test_same_seed_same_order() -> None:
    first, second = FastGridSampler(PARAMS, seed=7), FastGridSampler(PARAMS, seed=7)

    assert run_trials(new_study(first), first, first.size) == run_trials(new_study(second), second, second.size)


def test_another_seed_another_order() -> None:
    first, second = FastGridSampler(PARAMS, seed=7), FastGridSampler(PARAMS, seed=8)

    assert run_trials(new_study(first), first, first.size) != run_trials(new_study(second), second, second.size)


def test_a_resumed_study_skips_the_points_already_run(tmp_path: Path) -> None:
    """A new sampler (a kernel restart) on the same journal file runs only the points left."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = str(tmp_path / "studies.journal")
    first = FastGridSampler(PARAMS, seed=3)
    before = run_trials(new_study(first, JournalStorage(JournalFileBackend(path))), first, 10)

    second = FastGridSampler(PARAMS, seed=3)
    study = new_study(second, JournalStorage(JournalFileBackend(path)))
    assert second.remaining(study) == len(ALL_POINTS) - 10
    after = run_trials(study, second, second.size)

    assert not set(before) & set(after)
    assert sorted(before + after) == sorted(ALL_POINTS)


def test_a_failed_point_is_not_retried_in_the_same_execution() -> None:
    """Regression: a point that fails every time (--catch) must not eat the rest of the grid."""
    sampler = FastGridSampler(PARAMS, seed=5)
    study = new_study(sampler)

    points = run_trials(study, sampler, sampler.size, fail={1})
    failed = study.trials[1]

    assert len(points) == len(ALL_POINTS) - 1
    assert tuple(failed.params[p.name] for p in PARAMS) not in points


def test_a_failed_point_is_run_again_when_the_study_resumes() -> None:
    storage = optuna.storages.InMemoryStorage()
    first = FastGridSampler(PARAMS, seed=5)
    first_study = new_study(first, storage)
    run_trials(first_study, first, 4, fail={1})
    failed = first_study.trials[1]

    second = FastGridSampler(PARAMS, seed=5)
    after = run_trials(new_study(second, storage), second, second.size)

    assert tuple(failed.params[p.name] for p in PARAMS) in after


def test_the_grid_id_is_stored_on_each_trial() -> None:
    sampler = FastGridSampler(PARAMS, seed=0)
    study = new_study(sampler)
    run_trials(study, sampler, 5)

    ids = [t.system_attrs[GRID_ID] for t in study.get_trials(deepcopy=False)]

    assert [sampler.point(i) for i in ids] == [t.params for t in study.trials]


@pytest.mark.parametrize("size", [10, 1000])
def test_the_trials_are_read_once_whatever_the_grid_size(size: int) -> None:
    """Optuna's GridSampler reads every trial on each ask; this one reads them for its first trial only."""
    params = [IntParam("x", 0, size - 1)]
    sampler = FastGridSampler(params, seed=0)
    study = new_study(sampler)
    trial = study.ask()
    params[0].suggest(trial)
    study.tell(trial, 0.0)
    after_first = study.get_trials_calls

    for _ in range(size - 1):
        trial = study.ask()
        study.tell(trial, float(params[0].suggest(trial)))

    assert (after_first, study.get_trials_calls) == (1, 1)


# -- explicit values and the budget grid (samplers/budget.py) ---------------------------------------
def test_explicit_values_replace_the_grid_values() -> None:
    values = [[1, 5], ["c"], [0.2]]
    sampler = FastGridSampler(PARAMS, seed=0, values=values)

    points = run_trials(new_study(sampler), sampler, sampler.size + 1)

    assert sampler.size == 2
    assert sorted(points) == [(1, "c", 0.2), (5, "c", 0.2)]
    assert sampler.exhausted


@pytest.mark.parametrize("values", [[[1, 2]], [[1], ["a"], []]])
def test_values_must_give_a_non_empty_list_per_parameter(values: list[list[Any]]) -> None:
    with pytest.raises(ValueError, match="a non-empty list for each of the 3 parameters"):
        FastGridSampler(PARAMS, values=values)


def test_the_budget_grid_of_a_small_space_is_the_whole_grid() -> None:
    sampler, note = budget_grid_sampler(PARAMS, budget=100, seed=0)

    points = run_trials(new_study(sampler), sampler, sampler.size)

    assert sorted(points) == sorted(ALL_POINTS)
    assert note == "grid 5×3×2 = 30 points for a budget of 100: the whole grid"


def test_the_budget_grid_coarsens_numeric_parameters_to_fit_the_budget() -> None:
    params = [FloatParam("lr", 1e-4, 1e-1, log=True), IntParam("depth", 1, 10), ChoiceParam("k", ("a", "b"))]

    sampler, note = budget_grid_sampler(params, budget=20, seed=1)
    points = run_trials(new_study(sampler), sampler, sampler.size, params=params)

    assert note == "grid 3×3×2 = 18 points for a budget of 20: the whole grid"
    assert len(set(points)) == 18
    assert sorted({p[1] for p in points}) == [1, 5, 10]  # ends included, snapped to integers
    assert sorted({p[0] for p in points}) == pytest.approx([1e-4, 10**-2.5, 1e-1])  # log-spaced


def test_a_budget_smaller_than_the_smallest_grid_runs_part_of_it() -> None:
    params = [ChoiceParam("k", tuple("abcde")), IntParam("n", 0, 9)]

    sampler, note = budget_grid_sampler(params, budget=6, seed=0)

    assert note == "grid 5×2 = 10 points for a budget of 6: 6 of its points, in random order"
    assert sampler.size == 10
    assert budget_grid(params, 6) == [list("abcde"), [0, 9]]


def test_the_budget_grid_order_is_the_seeds() -> None:
    first, _ = budget_grid_sampler(PARAMS, budget=12, seed=4)
    second, _ = budget_grid_sampler(PARAMS, budget=12, seed=4)

    assert run_trials(new_study(first), first, 12) == run_trials(new_study(second), second, 12)


def test_a_wrapper_that_fixes_a_parameter_gets_the_rest_of_the_point() -> None:
    """Regression: the sampler returned its own search space, which PartialFixedSampler deletes from."""
    import warnings

    grid = FastGridSampler(PARAMS, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.PartialFixedSampler({"kind": "b"}, grid)
    study = optuna.create_study(sampler=sampler)

    for _ in range(3):
        trial = study.ask()
        study.tell(trial, float(sum(1 for p in PARAMS if p.suggest(trial))))

    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert {t.params["kind"] for t in study.trials} == {"b"}
    assert len(grid._search_space) == len(PARAMS)  # not emptied by the wrapper


# -- a grid of any size starts at once (issue 10, item 7) ---------------------------------------------
@pytest.mark.parametrize("size", [1, 2, 3, 7, 30, 1000, 4097])
def test_the_seeded_order_visits_every_id_once(size: int) -> None:
    order = SeededOrder(size, seed=11)

    assert sorted(order) == list(range(size))
    assert list(order) == list(SeededOrder(size, seed=11))  # fixed by the seed
    assert [order.at(i) for i in range(size)] == list(order)  # one at a time (Python) = by blocks (numpy)
    if size >= 30:
        assert list(order) != list(SeededOrder(size, seed=12))
        assert list(order) != list(range(size))


def test_the_seeded_order_of_10_12_ids_is_the_same_one_at_a_time_and_by_blocks() -> None:
    order = SeededOrder(10**12, seed=3)

    assert [order[i] for i in range(1200)] == [order.at(i) for i in range(1200)]


def test_the_seeded_order_of_a_huge_grid_needs_no_array_and_is_spread_over_it() -> None:
    size = 10**24  # ids past 2**64: the round function widens
    order = SeededOrder(size, seed=0)

    first = [order[i] for i in range(2000)]

    assert len(set(first)) == len(first)
    assert all(0 <= v < size for v in first)
    assert sum(v < size // 2 for v in first) == pytest.approx(1000, abs=100)  # not bunched in a corner
    assert [order[i] for i in (5, 1999, 0)] == [first[5], first[1999], first[0]]  # any element, any order


def test_a_grid_of_10_12_points_runs_3_trials_at_once(ip: Any) -> None:
    """Regression: the grid's order was a permutation array (MemoryError "7.28 TiB"), its values lists."""
    import time
    import tracemalloc

    run(ip, "%%tune --method grid --trials 1 --storage memory --quiet --no-refit\nx = tune.int(0, 2)\nx")  # imports
    cell = "a = tune.int(1, 1_000_000)\nb = tune.int(1, 1_000_000)\na + b"
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = run(ip, f"%%tune --method grid --trials 3 --storage memory --quiet --no-refit\n{cell}")
        elapsed, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result.sampler.size == 10**12
    assert len({(t.params["a"], t.params["b"]) for t in result.study.trials}) == 3
    assert elapsed < 2.0
    assert peak < 30 * 2**20  # bytes: a list of a million values alone is 36 MiB


def test_a_huge_grid_resumes_where_it_stopped() -> None:
    params = [IntParam("a", 1, 10**6), FloatParam("lr", 0.0, 1.0, step=1e-6)]
    storage = optuna.storages.InMemoryStorage()
    first = FastGridSampler(params, seed=2)
    before = run_trials(new_study(first, storage), first, 5, params=params)

    second = FastGridSampler(params, seed=2)
    study = new_study(second, storage)
    after = run_trials(study, second, 5, params=params)

    assert second.remaining(study) == 10**6 * (10**6 + 1) - 10
    assert len(set(before + after)) == 10
    assert all(lr == round(lr, 6) for _, lr in before + after)  # on the float's steps


def test_a_parameter_of_more_than_2_63_values_is_a_grid_too() -> None:
    """len() of such a range raises OverflowError: the grid counts its values itself."""
    params = [IntParam("s", 0, 10**20), ChoiceParam("c", ("a", "b"))]
    sampler = FastGridSampler(params, seed=1)
    study = new_study(sampler)

    points = run_trials(study, sampler, 3, params=params)

    assert sampler.size == 2 * (10**20 + 1)
    assert len(set(points)) == 3
    assert sampler.remaining(study) == sampler.size - 3


# -- a resumed grid is read by values (issue 10, item 12) ---------------------------------------------
SWAP_A = [IntParam("a", 1, 4), ChoiceParam("b", ("x", "y"))]
SWAP_B = list(reversed(SWAP_A))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_same_grid_declared_in_another_order_resumes_without_repeating(seed: int) -> None:
    """Regression: 3 trials, then the declarations swapped: 6-7 distinct points in 8 trials, a wrong 'exhausted'."""
    storage = optuna.storages.InMemoryStorage()
    first = FastGridSampler(SWAP_A, seed=seed)
    before = run_trials(new_study(first, storage), first, 3, params=SWAP_A)

    second = FastGridSampler(SWAP_B, seed=seed)
    study = new_study(second, storage)
    assert second.remaining(study) == 5
    after = [tuple(reversed(p)) for p in run_trials(study, second, 6, params=SWAP_B)]

    assert sorted(before + after) == sorted(itertools.product(range(1, 5), ("x", "y")))
    assert second.exhausted  # only after the 8 points: the 9th ask found none


def test_the_visiting_order_does_not_depend_on_the_declaration_order() -> None:
    first, second = FastGridSampler(SWAP_A, seed=4), FastGridSampler(SWAP_B, seed=4)

    a = run_trials(new_study(first), first, 8, params=SWAP_A)
    b = run_trials(new_study(second), second, 8, params=SWAP_B)

    assert a == [tuple(reversed(p)) for p in b]


@pytest.mark.parametrize(
    ("changed", "now"),
    [
        ([IntParam("a", 1, 6), ChoiceParam("b", ("x", "y"))], "a=1..6, b in ['x', 'y']"),
        ([IntParam("a", 1, 4), ChoiceParam("b", ("x", "y", "z"))], "a=1..4, b in ['x', 'y', 'z']"),
        ([IntParam("a", 1, 4)], "the cell now declares a=1..4:"),
        ([IntParam("a", 1, 5, step=2), ChoiceParam("b", ("x", "y"))], "a=1..5 step 2"),
    ],
)
def test_a_changed_grid_is_one_line_before_any_trial(changed: list[Any], now: str) -> None:
    storage = optuna.storages.InMemoryStorage()
    first = FastGridSampler(SWAP_A, seed=0)
    run_trials(new_study(first, storage, "g"), first, 3, params=SWAP_A)

    second = FastGridSampler(changed, seed=0)
    study = new_study(second, storage, "g")
    with pytest.raises(UsageError) as raised:
        second.remaining(study)

    message = str(raised.value)
    assert message.startswith("study 'g' was a grid over a=1..4, b in ['x', 'y']; the cell now declares ")
    assert now in message
    assert message.endswith("pass a new --study (or declare the grid as it was, to resume it).")
    assert "\n" not in message
    assert len(study.trials) == 3  # nothing ran


def test_a_changed_grid_through_the_magic_runs_nothing(ip: Any) -> None:
    line = "%%tune --method grid --seed 0 --study swapped --storage memory --quiet --no-refit"
    run(ip, f"{line} --trials 3\na = tune.int(1, 4)\nb = tune.choice(['x', 'y'])\na")
    swapped = run(ip, f"{line}\nb = tune.choice(['x', 'y'])\na = tune.int(1, 4)\na")
    assert len({(t.params["a"], t.params["b"]) for t in swapped.study.trials}) == 8
    assert swapped.stop_reason == "completed"

    outcome = ip.run_cell(f"{line}\nb = tune.choice(['x', 'y'])\na = tune.int(1, 5)\na")

    assert isinstance(outcome.error_in_exec, UsageError)
    assert "the cell now declares a=1..5, b in ['x', 'y']: pass a new --study" in str(outcome.error_in_exec)
    assert len(swapped.study.trials) == 8


def test_old_trials_are_read_by_their_values_not_their_stored_ids() -> None:
    """A study of an earlier version: ids counted in declaration order (here: nonsense), no grid stored."""
    storage = optuna.storages.InMemoryStorage()
    old = optuna.create_study(storage=storage, study_name="old")
    distributions = {p.name: p.distribution() for p in SWAP_A}
    for i, (a, b) in enumerate([(1, "x"), (4, "y"), (2, "y")]):
        ids = {"ipytune:grid_id": 7 - i, GRID_ID: i}  # wrong ids, under the old key and today's
        trial = optuna.trial.create_trial(
            params={"a": a, "b": b}, distributions=distributions, value=0.0, system_attrs=ids
        )
        old.add_trial(trial)

    sampler = FastGridSampler(SWAP_B, seed=0)
    study = new_study(sampler, storage, "old")
    assert sampler.remaining(study) == 5
    after = run_trials(study, sampler, 5, params=SWAP_B)

    assert not {(1, "x"), (4, "y"), (2, "y")} & {tuple(reversed(p)) for p in after}
    assert study.user_attrs[GRID_ATTR] == sampler.definition  # stored now


def test_an_old_study_with_points_outside_the_grid_is_one_line() -> None:
    storage = optuna.storages.InMemoryStorage()
    old = optuna.create_study(storage=storage, study_name="old")
    old.enqueue_trial({"a": 9, "b": "x"})
    old.optimize(lambda t: t.suggest_int("a", 1, 9) + len(t.suggest_categorical("b", ["x", "y"])), n_trials=1)

    sampler = FastGridSampler(SWAP_A, seed=0)
    with pytest.raises(UsageError, match=r"^study 'old' ran trial 0 at a=9, b='x', a point outside this grid; "):
        sampler.remaining(new_study(sampler, storage, "old"))
