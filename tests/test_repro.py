"""``%%repro`` and its ablation through a real shell on real torch CPU; value comparison; the example notebook."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from IPython.core.error import UsageError
from IPython.lib.pretty import pretty

from ipytune.repro.difference import freeze, largest_difference
from ipytune.seeding import CUBLAS_ENV, SEED_ENV
from tests.conftest import run

pytestmark = pytest.mark.torch
NO_CUDA = not torch.cuda.is_available()


@pytest.fixture(autouse=True)
def clean_determinism(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in (SEED_ENV, "PYTHONHASHSEED", CUBLAS_ENV):
        monkeypatch.delenv(key, raising=False)
    _determinism_off()
    yield
    _determinism_off()


def _determinism_off() -> None:
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = False


def usage_error(ip, cell: str) -> str:
    error = ip.run_cell(cell).error_in_exec
    assert isinstance(error, UsageError), f"expected a UsageError, got {error!r}"
    assert "\n" not in str(error)
    return str(error)


SEEDED = """
import random, numpy as np, torch
w = torch.randn(3, 2)
{"w": w @ torch.rand(2), "np": np.random.rand(4), "py": [random.random() for _ in range(2)]}
"""


# -- reproducible or not --------------------------------------------------------------
def test_a_seeded_cell_is_reproducible(ip):
    result = run(ip, "%%repro" + SEEDED)
    assert result.reproducible is True
    assert result.largest_difference == 0.0
    assert result.runs == 2
    assert len(result.values) == 2
    assert result.headline().startswith("reproducible")


def test_runs_and_seed_are_used(ip):
    result = run(ip, "%%repro --runs 3 --seed 9\nimport numpy as np\nnp.random.rand()")
    np.random.seed(9)
    assert result.values == [np.random.rand()] * 3
    assert result.seed == 9


@pytest.mark.parametrize(
    "cell",
    [
        "import os\nint.from_bytes(os.urandom(4), 'little')",
        "import numpy as np\nnp.random.default_rng().random(3)",
    ],
)
def test_a_cell_with_an_unseeded_source_is_not_reproducible(ip, cell):
    result = run(ip, "%%repro\n" + cell)
    assert result.reproducible is False
    assert result.largest_difference > 0
    assert "NOT reproducible" in pretty(result)


def test_a_cell_that_mutates_shared_state_is_not_reproducible(ip):
    # Each run's value is copied when it is made: a shared list growing between runs shows up.
    ip.user_ns["log"] = []
    result = run(ip, "%%repro\nlog.append(1)\nlog")
    assert result.values == [[1], [1, 1]]
    assert result.reproducible is False
    assert math.isinf(result.largest_difference)


def test_atol_accepts_small_differences(ip):
    ip.user_ns["calls"] = [0]
    cell = "calls[0] += 1\n1.0 + calls[0] * 1e-9"
    assert run(ip, "%%repro --atol 1e-6\n" + cell).reproducible is True
    assert run(ip, "%%repro\n" + cell).reproducible is False


# -- ablation -------------------------------------------------------------------------------
def _statuses(result) -> dict[str, str]:
    return {row.source: row.status for row in result.ablation}


def test_ablation_names_python_random(ip):
    result = run(ip, "%%repro --ablate\nimport random\n[random.random() for _ in range(3)]")
    assert result.reproducible
    assert result.matters == ["Python random"]
    statuses = _statuses(result)
    assert statuses["NumPy"] == "no effect"
    assert statuses["torch CPU"] == "no effect"


def test_repr_is_one_line_and_the_shell_shows_the_full_text(ip):
    result = run(ip, "%%repro --ablate\nimport random\n[random.random() for _ in range(3)]")
    assert repr(result) == "<ReproResult: reproducible: 2 runs with seed 42 gave the same result>"
    data, _ = ip.display_formatter.format(result)
    shown = data["text/plain"].splitlines()
    assert shown[0] == "reproducible: 2 runs with seed 42 gave the same result"
    assert shown[1] == "  the result depends on: Python random"
    assert len(shown) == 2 + len(result.ablation)
    assert str(result) == data["text/plain"]  # print() writes the same text


def test_ablation_names_numpy_and_torch(ip):
    result = run(ip, "%%repro --ablate\nimport numpy as np, torch\nnp.random.rand() + torch.rand(()).item()")
    assert result.matters == ["NumPy", "torch CPU"]
    assert _statuses(result)["Python random"] == "no effect"


def test_ablation_of_a_cell_with_its_own_seeded_generator_finds_nothing(ip):
    result = run(ip, "%%repro --ablate\nimport numpy as np\nnp.random.default_rng(0).random(3)")
    assert result.reproducible
    assert result.matters == []
    assert "no seed source changed the result" in pretty(result)


@pytest.mark.skipif(not NO_CUDA, reason="checks the rows of a machine without CUDA")
def test_ablation_without_cuda_says_the_cuda_sources_are_not_available(ip):
    result = run(ip, "%%repro --ablate\nimport torch\ntorch.rand(2)")
    statuses = _statuses(result)
    assert [statuses[s] for s in ("torch CUDA", "cuDNN flags", "CUBLAS config")] == ["not available"] * 3
    assert statuses["deterministic algorithms"] == "no effect"
    table = result.table()
    assert list(table["source"]) == [
        "Python random",
        "NumPy",
        "torch CPU",
        "torch CUDA",
        "cuDNN flags",
        "deterministic algorithms",
        "CUBLAS config",
    ]
    assert "<table>" in result._repr_html_()


def test_ablation_is_skipped_when_the_cell_is_not_reproducible(ip):
    result = run(ip, "%%repro --ablate\nimport os\nos.urandom(8)")
    assert result.reproducible is False
    assert result.ablation == []
    assert "ablation skipped" in result.note


# -- the session is left as it was --------------------------------------------------------------
def test_repro_restores_generators_switches_and_namespace(ip):
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    expected = (random.random(), np.random.rand(), torch.rand(()).item())
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    run(ip, "%%repro --ablate\nimport random\nleaked = random.random()\nleaked")
    assert (random.random(), np.random.rand(), torch.rand(()).item()) == expected
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic is False
    assert CUBLAS_ENV not in os.environ
    assert SEED_ENV not in os.environ
    assert "leaked" not in ip.user_ns


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("--runs 0", "at least 2 runs"),
        ("--runs 1", "at least 2 runs"),
        ("--runs x", "invalid int value"),
        ("--seed -1", "out of range"),
        ("--seed abc", "not an integer"),
        ("--atol -1", "tolerance"),
    ],
)
def test_bad_options_are_one_line_usage_errors(ip, line, says):
    assert says in usage_error(ip, f"%%repro {line}\n1")


def test_a_cell_that_raises_is_a_usage_error_and_restores_the_session(ip):
    message = usage_error(ip, "%%repro\nimport torch\nx = torch.rand(2)\n1 / 0")
    assert "raised ZeroDivisionError" in message
    assert not torch.are_deterministic_algorithms_enabled()
    assert SEED_ENV not in os.environ


def test_a_cell_without_a_last_expression_is_a_usage_error(ip):
    assert "end the cell with the value" in usage_error(ip, "%%repro\nx = 1")


# -- comparing values ---------------------------------------------------------------------------------
def test_largest_difference_of_numbers_arrays_tensors_and_containers():
    assert largest_difference(1.0, 1.0) == 0.0
    assert largest_difference(1, 1.5) == 0.5
    assert largest_difference(np.float32(2), 2.0) == 0.0
    assert largest_difference(math.nan, math.nan) == 0.0
    assert math.isinf(largest_difference(math.nan, 1.0))
    assert largest_difference(np.array([1.0, 2.0]), np.array([1.0, 2.25])) == 0.25
    assert math.isinf(largest_difference(np.zeros(2), np.zeros(3)))
    a, b = freeze(torch.tensor([1.0, 2.0])), freeze(torch.tensor([1.0, 3.0]))
    assert largest_difference(a, b) == 1.0
    assert largest_difference(freeze(torch.ones(2, dtype=torch.bfloat16)), np.ones(2)) == 0.0
    assert largest_difference({"a": [1, np.ones(2)]}, {"a": [1, np.ones(2) * 3]}) == 2.0
    assert math.isinf(largest_difference({"a": 1}, {"b": 1}))
    assert math.isinf(largest_difference([1, 2], [1]))
    assert math.isinf(largest_difference("x", "y"))
    assert largest_difference("x", "x") == 0.0


def test_largest_difference_of_pandas_objects():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    other = frame.copy()
    assert largest_difference(frame, other) == 0.0
    other.loc[1, "a"] = 2.5
    assert largest_difference(frame, other) == 0.5
    other.loc[0, "b"] = "z"
    assert math.isinf(largest_difference(frame, other))
    assert math.isinf(largest_difference(frame, frame.rename(columns={"a": "c"})))
    assert largest_difference(frame["a"], frame["a"] + 1) == 1.0


def test_freeze_copies_mutable_values():
    array = np.zeros(2)
    frozen = freeze({"x": array, "t": torch.zeros(2)})
    array += 1
    assert frozen["x"].tolist() == [0.0, 0.0]
    assert isinstance(frozen["t"], np.ndarray)


# -- the example notebook ---------------------------------------------------------------------------
@pytest.mark.notebook
def test_reproducibility_notebook_runs(tmp_path: Path):
    from tests.notebooks import execute_notebook, outputs_text

    notebook = execute_notebook("reproducibility.ipynb", tmp_path, timeout=300)
    text = outputs_text(notebook)
    assert "seed_everything(42)" in text
    assert "reproducible: 2 runs" in text
    assert "NOT reproducible" in text
    assert "the result depends on: NumPy, torch CPU" in text
    assert "over 3 seeds" in text
