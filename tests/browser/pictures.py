"""Widgets as a person sees them: a few cells run in a real kernel, exported to HTML, opened in
chromium at slide size in a light or a dark theme.

The dark themes are JupyterLab Dark's (nbconvert's dark template) and VS Code's Dark Modern
(its --vscode-* variables, set on the page as VS Code's notebook webview sets them); ipytune's
stylesheet must read them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SLIDE = {"width": 1280, "height": 720}

# JupyterLab Dark is nbconvert's own dark theme (JupyterLab's theme-dark-extension variables); VS Code
# is emulated as its notebook webview does it: its Dark Modern --vscode-* variables on the page.
VSCODE_DARK = """:root {
  --vscode-editor-foreground: #cccccc; --vscode-editor-background: #1f1f1f;
  --vscode-descriptionForeground: #9d9d9d; --vscode-editorWidget-background: #202020;
  --vscode-editorWidget-border: #454545; --vscode-list-activeSelectionBackground: #04395e;
  --vscode-list-activeSelectionForeground: #ffffff;
  --vscode-inputValidation-warningBackground: #352a05;
  --vscode-inputValidation-warningBorder: #b89500; }
body, .jp-Notebook, .jp-Cell, .jp-OutputArea-output { background: #1f1f1f !important; color: #cccccc; }"""
THEMES = ("light", "jupyterlab-dark", "vscode-dark")


def run_cells(cells: list[str], workdir: Path) -> Any:
    """Run ``cells`` in a fresh kernel and return the notebook, its widget state stored."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()  # fmt: skip
    return notebook


def export(notebook: Any, target: Path, theme: str = "light") -> Path:
    """``notebook`` as exported HTML in ``theme`` (nbconvert's light or dark JupyterLab theme)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(theme="dark" if theme == "jupyterlab-dark" else "light").from_notebook_node(notebook)
    target.write_text(body)
    return target


def open_page(
    browser: Any, html: Path, theme: str = "light", viewport: dict[str, int] | None = None
) -> tuple[Any, Any, list[str]]:
    """An exported page (VS Code's dark variables added for "vscode-dark"), CDN requests answered
    from npm; console errors collected."""
    from tests.browser.cdn import NpmCdn

    page = browser.new_page(viewport=viewport or SLIDE)
    cdn = NpmCdn()
    page.route("https://**/*", cdn)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not _probe(m.text) else None)
    page.goto(html.as_uri())
    if theme == "vscode-dark":
        page.add_style_tag(content=VSCODE_DARK)
    return page, cdn, errors


def _probe(text: str) -> bool:
    # The html-manager first looks for each module beside the page, then falls back to the CDN
    # (ERR_FILE_NOT_FOUND); requests no CDN answers here (MathJax, fonts) are aborted (ERR_FAILED).
    return bool(re.fullmatch(r"Failed to load resource: net::ERR_(FILE_NOT_FOUND|FAILED)", text))
