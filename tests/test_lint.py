"""The house style is checked in CI: ruff's lint rules and formatting, and mypy strict (pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "benchmarks"]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the dev extra")
@pytest.mark.parametrize("command", [["ruff", "check", *PATHS], ["ruff", "format", "--check", *PATHS]])
def test_ruff(command):
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy is in the dev extra")
def test_mypy_strict():
    done = subprocess.run(["mypy"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is in the dev extra")
def test_imports_flow_down_the_layers_only():
    # the layers contract in pyproject.toml: no upward import, no cycle between layers
    done = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
