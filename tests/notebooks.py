"""Execute an example notebook top to bottom in a real kernel (nbclient)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def execute_notebook(name: str, workdir: Path, timeout: int = 600, **client_options: Any) -> Any:
    """Run ``examples/<name>`` in ``workdir`` (a temporary folder) and return the executed notebook.

    The copy runs where it can write (studies, trackio runs) without touching the
    repository; TRACKIO_DIR must already point at a temporary folder (conftest does it).
    """
    import nbformat
    from nbclient import NotebookClient

    assert "TRACKIO_DIR" in os.environ, "set TRACKIO_DIR before running notebooks"
    source = EXAMPLES / name
    target = workdir / name
    shutil.copy(source, target)
    notebook = nbformat.read(target, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        **client_options,
    )
    client.execute()
    return notebook


def outputs_text(notebook: Any) -> str:
    """All text a notebook printed or displayed, for assertions."""
    chunks = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                chunks.append(output["text"])
            data = output.get("data", {})
            if "text/plain" in data:
                chunks.append(data["text/plain"])
    return "\n".join(chunks)
