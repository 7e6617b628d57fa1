"""``%seed_everything``, ``ipytune.seed_everything`` and ``%%tune --seed/--seeds`` on real torch CPU.

Without torch (the Colab and lowest-versions jobs of .ci/run have no torch wheel for their Python)
the tests that need it skip and the rest seed Python and NumPy alone.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.lib.pretty import pretty
from IPython.utils.capture import capture_output

import ipytune
from ipytune.rng_states import collect_rng_states, set_rng_states
from ipytune.seed_report import SeedReport
from ipytune.seeding import (
    CUBLAS_ENV,
    SEED_ENV,
    parse_seeds,
    reset_seed,
    seed_everything,
    seed_worker,
    seeded_generator,
)
from tests.conftest import run

try:
    import torch
except ImportError:
    torch = None

pytestmark = pytest.mark.torch
needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch")
NO_CUDA = torch is None or not torch.cuda.is_available()


@pytest.fixture(autouse=True)
def clean_determinism(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start with determinism off and no seed in the environment; switch it off again afterwards."""
    for key in (SEED_ENV, "PYTHONHASHSEED", CUBLAS_ENV):
        monkeypatch.delenv(key, raising=False)  # monkeypatch puts the original values back
    _determinism_off()
    yield
    _determinism_off()


def _determinism_off() -> None:
    if torch is None:
        return
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = False


def draws() -> tuple[object, ...]:
    torch_draws = [torch.rand(3).tolist()] if torch else []
    return *torch_draws, np.random.rand(3).tolist(), random.random()


def usage_error(ip, cell: str) -> str:
    result = ip.run_cell(cell)
    error = result.error_in_exec
    assert isinstance(error, UsageError), f"expected a UsageError, got {error!r}"
    assert "\n" not in str(error)
    return str(error)


# -- %seed_everything ---------------------------------------------------------------
def test_two_seed_everything_calls_give_identical_draws(ip):
    run(ip, "%seed_everything 7")
    first = draws()
    run(ip, "%seed_everything 7")
    second = draws()
    run(ip, "%seed_everything 8")
    other = draws()
    assert first == second
    assert all(a != b for a, b in zip(first, other, strict=True))


@needs_torch
def test_seed_everything_sets_the_determinism_switches_and_environment(ip):
    report = run(ip, "%seed_everything 7")
    assert torch.backends.cudnn.deterministic is True
    assert torch.backends.cudnn.benchmark is False
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    assert os.environ[CUBLAS_ENV] == ":4096:8"
    assert os.environ[SEED_ENV] == "7"
    assert os.environ["PYTHONHASHSEED"] == "7"
    assert isinstance(report, SeedReport)
    assert report.seed == 7


@needs_torch
def test_a_deterministic_cublas_value_chosen_by_the_user_is_kept(ip, monkeypatch):
    monkeypatch.setenv(CUBLAS_ENV, ":16:8")
    report = run(ip, "%seed_everything 7")
    assert os.environ[CUBLAS_ENV] == ":16:8"
    assert report["cublas"].setting == "CUBLAS_WORKSPACE_CONFIG=:16:8"
    monkeypatch.setenv(CUBLAS_ENV, ":0:0")  # not a deterministic value: replaced
    run(ip, "%seed_everything 7")
    assert os.environ[CUBLAS_ENV] == ":4096:8"


@needs_torch
def test_warn_only_puts_deterministic_algorithms_in_warn_only_mode(ip):
    report = run(ip, "%seed_everything 7 --warn-only")
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert report.warn_only


@needs_torch
def test_no_deterministic_seeds_but_leaves_the_switches_off(ip):
    report = run(ip, "%seed_everything 7 --no-deterministic")
    seeded = draws()
    run(ip, "%seed_everything 7 --no-deterministic")
    assert draws() == seeded
    assert torch.backends.cudnn.deterministic is False
    assert not torch.are_deterministic_algorithms_enabled()
    assert CUBLAS_ENV not in os.environ
    assert os.environ[SEED_ENV] == "7"
    assert [report.status(k) for k in ("cudnn", "deterministic", "cublas")] == ["skipped"] * 3


@needs_torch
def test_report_rows_say_what_was_set(ip):
    report = run(ip, "%seed_everything 11")
    statuses = {row.source: row.status for row in report.rows}
    assert statuses["Python random"] == "set"
    assert statuses["NumPy"] == "set"
    assert statuses["torch CPU"] == "set"
    assert statuses["deterministic algorithms"] == "set"
    assert statuses["torch CUDA"] == ("not available" if NO_CUDA else "set")
    assert "PYTHONHASHSEED=11" in pretty(report)  # what IPython shows
    assert "new processes only" in report["hash"].note
    html = report._repr_html_()
    assert "<table>" in html
    assert "torch.manual_seed(11)" in html
    assert list(report.table().columns) == ["source", "setting", "status", "note"]


def test_repr_is_one_line_and_the_table_is_what_ipython_shows(ip):
    report = run(ip, "%seed_everything 11 --no-deterministic")
    assert repr(report) == "<SeedReport: seed_everything(11): seeds only (--no-deterministic)>"
    assert repr([report]) == f"[{report!r}]"  # inside a list or a debugger: one line
    shown = pretty(report).splitlines()
    assert shown[0] == "seed_everything(11): seeds only (--no-deterministic)"
    assert len(shown) == 1 + len(report.rows)
    assert str(report) == pretty(report)  # print() writes the table too


def test_default_seed_is_42(ip):
    assert run(ip, "%seed_everything").seed == 42


def test_quiet_displays_nothing_but_still_returns_the_report(ip, monkeypatch):
    # as in a kernel: IPython 7's terminal shell (Colab's IPython, in the CI job) skips _ipython_display_
    monkeypatch.setattr(ip.display_formatter.ipython_display_formatter, "enabled", True)
    with capture_output() as shown:
        result = ip.run_cell("%seed_everything 5")
    with capture_output() as quiet:
        quiet_result = ip.run_cell("%seed_everything 5 --quiet")
    assert "random.seed(5)" in shown.outputs[0].data["text/plain"]
    assert "<table>" in shown.outputs[0].data["text/html"]
    assert quiet.outputs == []
    assert "random.seed(5)" not in quiet.stdout
    assert quiet_result.result.seed == result.result.seed == 5


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", str(2**32)])
def test_bad_seed_is_a_one_line_usage_error(ip, bad):
    message = usage_error(ip, f"%seed_everything {bad}")
    assert "give a whole number from 0 to 4294967295" in message


def test_unknown_option_is_a_usage_error(ip):
    usage_error(ip, "%seed_everything 3 --fast")


# -- the Python API -------------------------------------------------------------------
@needs_torch
def test_function_returns_the_seed_in_its_report():
    report = ipytune.seed_everything(3, deterministic=False)
    assert report.seed == 3
    assert int(report) == 3
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True, "x", None])
def test_function_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="give a whole number"):
        seed_everything(bad)


def test_reset_seed_reapplies_the_recorded_seed():
    assert reset_seed() is None  # nothing recorded yet
    seed_everything(9, deterministic=False)
    first = draws()
    draws()
    assert reset_seed().seed == 9
    assert draws() == first


@needs_torch
def test_rng_states_round_trip():
    seed_everything(1, deterministic=False)
    torch.use_deterministic_algorithms(True, warn_only=True)
    states = collect_rng_states()
    expected = draws()
    seed_everything(2)  # moves every generator and switch
    set_rng_states(states)
    assert draws() == expected
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic is False


@needs_torch
def test_seeded_generator_is_its_own_stream():
    a = torch.randperm(10, generator=seeded_generator(5))
    draws()  # the global generator moves; the seeded one does not care
    b = torch.randperm(10, generator=seeded_generator(5))
    assert torch.equal(a, b)
    seed_everything(5, deterministic=False)
    assert torch.equal(torch.randperm(10, generator=seeded_generator()), a)  # default: the recorded seed


class _RandomItems(torch.utils.data.Dataset if torch else object):  # type: ignore[misc]
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> tuple[float, float, float]:
        return random.random(), float(np.random.rand()), float(torch.rand(()))


def _load(worker_init_fn) -> list[list[float]]:
    loader = torch.utils.data.DataLoader(
        _RandomItems(),
        batch_size=1,
        num_workers=2,
        worker_init_fn=worker_init_fn,
        generator=seeded_generator(3),
        multiprocessing_context="fork",
    )
    return [torch.cat(batch).tolist() for batch in loader]


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
@needs_torch
def test_seed_worker_makes_dataloader_workers_repeatable():
    random.seed(0)
    np.random.seed(0)
    first = _load(seed_worker)
    random.random()  # the parent's generators move: workers must not depend on that
    np.random.rand()
    assert _load(seed_worker) == first
    assert first[0] != first[1]  # each worker has its own stream
    # Worker w's torch seed is base + w, base drawn from the loader's generator;
    # seed_worker seeds Python and NumPy with it modulo 2**32 (PyTorch's recipe).
    base = torch.empty((), dtype=torch.int64).random_(generator=seeded_generator(3)).item()
    for worker in (0, 1):  # batch_size=1: item i comes from worker i % 2
        worker_seed = (base + worker) % 2**32
        assert first[worker][0] == random.Random(worker_seed).random()
        assert first[worker][1] == np.random.RandomState(worker_seed).rand()


def test_parse_seeds():
    assert parse_seeds("42, 123,456") == (42, 123, 456)
    for bad in ("a,b", "1,,2", "", "-1", "1,1"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)


def test_seeding_names_load_lazily():
    probe = (
        "import json, sys, ipytune\n"
        "from ipytune import seed_everything, seed_worker, seeded_generator\n"
        "heavy = [m for m in ('torch', 'numpy', 'optuna', 'pandas') if m in sys.modules]\n"
        "print(json.dumps([heavy, seed_everything.__module__, seed_worker.__module__]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[], "ipytune.seeding", "ipytune.seeding"]


# -- %%tune --seed / --seeds -------------------------------------------------------------
NOISY = """
import numpy as np{import_torch}
x = tune.float(0, 1)
x + np.random.rand(){plus_torch}
""".format(import_torch=", torch" if torch else "", plus_torch=" + torch.rand(()).item()" if torch else "")


def _torch_noise() -> float:
    return torch.rand(()).item() if torch else 0.0


def _noise(seed: int) -> float:
    np.random.seed(seed)
    if torch:
        torch.manual_seed(seed)
    return np.random.rand() + _torch_noise()


def test_seeds_record_mean_std_and_per_seed_values(ip):
    result = run(ip, "%%tune --seeds 1,2,3 --method random --trials 4 --storage memory --quiet --no-refit" + NOISY)
    trials = result.study.trials
    assert len(trials) == 4
    for trial in trials:
        expected = [trial.params["x"] + _noise(s) for s in (1, 2, 3)]
        assert trial.user_attrs["seeds"] == [1, 2, 3]
        assert trial.user_attrs["seed_values"] == pytest.approx(expected)
        assert trial.value == pytest.approx(statistics.fmean(expected))
        assert trial.user_attrs["seed_std"] == pytest.approx(statistics.pstdev(expected))
    table = result.trials
    assert list(table.columns[:4]) == ["number", "state", "value", "std"]
    assert "std" in result.top().columns
    assert "± " in result.headline()
    assert "over 3 seeds" in result.headline()


def test_with_seeds_intermediate_reports_come_from_the_first_seed(ip):
    cell = (
        "\nimport numpy as np\nx = tune.float(0, 1)\n"
        "for step in range(3):\n    tune.report(x + np.random.rand(), step)\nx"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna warns when a step is reported twice
        result = run(ip, "%%tune --seeds 1,2 --method random --trials 2 --storage memory --quiet --no-refit" + cell)
    for trial in result.study.trials:
        np.random.seed(1)
        expected = {step: trial.params["x"] + np.random.rand() for step in range(3)}
        assert trial.intermediate_values == pytest.approx(expected)


def test_seed_seeds_every_trial_the_same_way(ip):
    result = run(ip, "%%tune --seed 5 --method random --trials 3 --storage memory --quiet --no-refit" + NOISY)
    for trial in result.study.trials:
        assert trial.value == pytest.approx(trial.params["x"] + _noise(5))
    assert "std" not in result.trials.columns


def test_seeds_without_seed_seed_the_sampler_too(ip):
    line = "%%tune --seeds 4,5 --method random --trials 3 --storage memory --quiet --no-refit"
    first = run(ip, line + NOISY).trials["x"].tolist()
    second = run(ip, line + NOISY).trials["x"].tolist()
    assert first == second


def test_seeded_refit_matches_the_best_trial(ip):
    run(
        ip,
        "%%tune --seed 5 --method random --trials 3 --storage memory --quiet\nimport numpy as np\nx = tune.float(0, 1)\nnoise = np.random.rand()\nx + noise",
    )
    np.random.seed(5)
    assert ip.user_ns["noise"] == np.random.rand()


@needs_torch
def test_deterministic_option_switches_determinism_on_per_run(ip):
    run(ip, "%%tune --seed 5 --deterministic --method random --trials 2 --storage memory --quiet --no-refit" + NOISY)
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize(
    ("option", "says"),
    [
        ("--seeds a,b", "'a' is not a seed"),
        ("--seeds 1,1", "twice"),
        ("--seeds 1,-2", "'-2' is not a seed"),
        ("--seed -1", "out of range"),
        ("--deterministic", "goes with --seed"),
    ],
)
def test_bad_seed_options_are_one_line_usage_errors(ip, option, says):
    message = usage_error(ip, f"%%tune {option} --storage memory\nx = tune.float(0, 1)\nx")
    assert says in message


def test_without_torch_the_torch_rows_say_not_installed():
    # A fresh process where `import torch` fails, as on a machine without PyTorch.
    probe = (
        "import json, sys\n"
        "sys.modules['torch'] = None\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'ipytune')\n"
        "report = ip.run_line_magic('seed_everything', '3')\n"
        "repro = ip.run_cell_magic('repro', '--ablate', 'import random\\nrandom.random()')\n"
        "print(json.dumps([{r.source: r.status for r in report.rows}, {r.source: r.status for r in repro.ablation}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    seeded, ablation = json.loads(last[last.index('[{"') :])  # after IPython 7's terminal-title codes
    torch_rows = ["torch CPU", "torch CUDA", "cuDNN flags", "deterministic algorithms"]
    assert [seeded[s] for s in torch_rows] == ["not installed"] * 4
    assert seeded["Python random"] == seeded["NumPy"] == seeded["CUBLAS config"] == "set"
    assert [ablation[s] for s in torch_rows] == ["not installed"] * 4
    assert ablation["Python random"] == "changes the result"
