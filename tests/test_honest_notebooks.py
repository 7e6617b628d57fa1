"""examples/workflow.ipynb and examples/pruning.ipynb run top to bottom in a real kernel."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.notebooks import execute_notebook, outputs_text

pytestmark = pytest.mark.notebook


def test_workflow_notebook(tmp_path: Path) -> None:
    started = time.monotonic()
    text = outputs_text(execute_notebook("workflow.ipynb", tmp_path))
    assert time.monotonic() - started < 90
    assert "dummy floor:" in text
    assert "nested CV (3 stratified outer folds" in text
    assert "outer (honest) estimate" in text
    assert "DummyClassifier (prior)" in text
    assert "recommended:" in text


def test_pruning_notebook(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    started = time.monotonic()
    text = outputs_text(execute_notebook("pruning.ipynb", tmp_path))
    assert time.monotonic() - started < 90
    pruned = re.search(r"(\d+) of 30 trials pruned", text)
    assert pruned, text[-2000:]
    assert int(pruned.group(1)) > 0
