"""Widgets as a person sees them: a few cells run in a real kernel, exported to HTML, opened in
chromium at slide size in a light or a dark theme.

The dark themes are JupyterLab Dark's and VS Code's Dark Modern's own variable values, set on
the exported page as those front-ends set them on theirs; ipytune's stylesheet must read them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SLIDE = {"width": 1280, "height": 720}

# JupyterLab 4's theme-dark-extension (variables.css) and VS Code's Dark Modern, the values the
# widgets' colours come from.
THEMES = {
    "light": "",
    "jupyterlab-dark": """:root {
      --jp-layout-color0: #111111; --jp-layout-color1: #212121; --jp-layout-color2: #424242;
      --jp-ui-font-color0: rgba(255,255,255,1); --jp-ui-font-color1: rgba(255,255,255,0.87);
      --jp-ui-font-color2: rgba(255,255,255,0.54); --jp-border-color1: #616161;
      --jp-border-color2: #424242; --jp-brand-color3: #0d47a1; --jp-warn-color1: #f57c00;
      --jp-warn-color3: #5d3a00; }
      body { background: #111111; color: rgba(255,255,255,0.87); }""",
    "vscode-dark": """:root {
      --vscode-editor-foreground: #cccccc; --vscode-editor-background: #1f1f1f;
      --vscode-descriptionForeground: #9d9d9d; --vscode-editorWidget-background: #202020;
      --vscode-editorWidget-border: #313131; --vscode-list-activeSelectionBackground: #04395e;
      --vscode-list-activeSelectionForeground: #ffffff;
      --vscode-inputValidation-warningBackground: #352a05;
      --vscode-inputValidation-warningBorder: #b89500; }
      body { background: #1f1f1f; color: #cccccc; }""",
}


def export_cells(cells: list[str], workdir: Path, name: str = "pictures") -> Path:
    """Run ``cells`` in a fresh kernel (widget state stored) and export them to ``<name>.html``."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()  # fmt: skip
    body, _ = HTMLExporter().from_notebook_node(notebook)
    target = workdir / f"{name}.html"
    target.write_text(body)
    return target


def open_page(browser: Any, html: Path, theme: str = "light", viewport: dict[str, int] | None = None) -> tuple[Any, Any, list[str]]:
    """The exported page in ``theme``, CDN requests answered from npm; console errors collected."""
    from tests.browser.cdn import NpmCdn

    page = browser.new_page(viewport=viewport or SLIDE)
    cdn = NpmCdn()
    page.route("https://**/*", cdn)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not _probe(m.text) else None)
    page.goto(html.as_uri())
    if THEMES[theme]:
        page.add_style_tag(content=THEMES[theme])
    return page, cdn, errors


def _probe(text: str) -> bool:
    # the html-manager first looks for each module beside the page, then falls back to the CDN
    return bool(re.fullmatch(r"Failed to load resource: net::ERR_FILE_NOT_FOUND", text))
