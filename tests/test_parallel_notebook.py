"""examples/parallel.ipynb runs top to bottom in a real kernel: --n-jobs 2, then --cluster on a Dask LocalCluster.

The cluster part needs PostgreSQL: the kernel reads IPYTUNE_TEST_POSTGRES (set by .ci/postgres.sh). Without it
the notebook says its cluster cells are skipped and this test checks that it says so, except in CI, where
the cluster part must run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.notebooks import execute_notebook, outputs_text

pytestmark = pytest.mark.notebook


def errors(notebook: Any) -> list[str]:
    """Each error a cell showed, as ``ename: evalue``."""
    return [
        f"{output['ename']}: {output['evalue']}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def test_parallel_notebook(tmp_path: Path) -> None:
    database = os.environ.get("IPYTUNE_TEST_POSTGRES")
    if not database and os.environ.get("CI"):
        pytest.fail('CI is set but IPYTUNE_TEST_POSTGRES is not: eval "$(.ci/postgres.sh start)" (.ci/run does it)')

    started = time.monotonic()
    notebook = execute_notebook("parallel.ipynb", tmp_path, timeout=300)
    elapsed = time.monotonic() - started
    text = outputs_text(notebook)

    assert "in the notebook: 12 trials in 1 process(es)" in text
    assert "with --n-jobs 2: 12 trials in 2 process(es)" in text
    assert (  # IPython shows a UsageError as one line, not as a traceback
        "UsageError: --n-jobs: variable 'lock' (_thread.lock) cannot be sent to the worker processes "
        "(TypeError: cannot pickle '_thread.lock' object); create it inside the cell, or run this search "
        "without --n-jobs." in text
    )
    assert errors(notebook) == []
    assert "the same 8 configurations, with the same values: True" in text
    if database:
        assert "2 Dask workers, scheduler at tcp://127.0.0.1:" in text
        assert "on the Dask cluster: 12 trials in 2 process(es)" in text
        assert "skipped" not in text
    else:
        assert "No database: the cluster cells below will be skipped." in text
        assert text.count("skipped: no database") == 3
    assert elapsed < 90, f"the notebook took {elapsed:.0f} s"
