"""examples/widgets.ipynb runs top to bottom in a real kernel, fast, and every widget is in its outputs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.notebooks import execute_notebook, outputs_text

pytestmark = pytest.mark.notebook

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_widgets_notebook_runs_fast_with_every_widget(tmp_path: Path, trackio_dir: Path) -> None:
    started = time.monotonic()
    notebook = execute_notebook("widgets.ipynb", tmp_path, timeout=300, store_widget_state=True)
    elapsed = time.monotonic() - started
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
    views = sum(WIDGET_VIEW in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    # coverage ×2, GP explorer ×3, dashboard ×2 (one live, one rebuilt; the TPE search runs captured), run comparison ×2
    assert views >= 9
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    ids = {m["state"].get("_anywidget_id") for m in state.values()}
    assert {
        "ipytune.widgets.gp.GPExplorer",
        "ipytune.widgets.coverage.CoverageExplorer",
        "ipytune.widgets.dashboard.SearchDashboard",
        "ipytune.widgets.compare.ParallelCoordinates",
        "ipytune.widgets.compare.Curves",
    } <= ids
    assert "explorer frame: 0 | coverage budget: 9" in outputs_text(notebook)
    assert elapsed < 90, f"the notebook took {elapsed:.0f} s; keep it under 90 s"
