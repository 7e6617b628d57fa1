"""examples/colab.ipynb, the notebook to open in Colab: it installs ipytune first, then runs the
flagship demo. Here the install cell is left out (no network; ipytune is already installed) and
the rest runs in a real kernel; CI runs it again with Colab's packages (.ci/extra-envs.sh)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from tests.notebooks import EXAMPLES, outputs_text

pytestmark = pytest.mark.notebook


def test_the_first_code_cell_installs_ipytune() -> None:
    notebook = nbformat.read(EXAMPLES / "colab.ipynb", as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    assert "install" in first.metadata.get("tags", [])
    assert re.search(r"^%pip install .*\bipytune\b", first.source, re.MULTILINE)


def test_the_colab_notebook_runs_the_flagship_demo(tmp_path: Path) -> None:
    from nbclient import NotebookClient

    assert "TRACKIO_DIR" in os.environ  # conftest: tracked runs go to a temporary folder
    notebook = nbformat.read(EXAMPLES / "colab.ipynb", as_version=4)
    notebook.cells = [c for c in notebook.cells if "install" not in c.metadata.get("tags", [])]
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
    best = re.search(r"best CV accuracy (0\.\d+) with \{'n_estimators'", outputs_text(notebook))
    assert best, outputs_text(notebook)[-2000:]
    assert float(best.group(1)) > 0.85
    assert (tmp_path / ".ipytune" / "studies.journal").exists()
