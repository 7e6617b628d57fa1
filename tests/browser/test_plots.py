"""result.plot(kind) draws in JupyterLab (plotly's own mimetype) and in exported HTML (the HTML beside
it, plotly.js from its CDN, answered here from npm as the CDN would)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

CELLS = [
    "%load_ext ipytune",
    "%%tune --method random --trials 8 --seed 0 --storage memory --no-track --quiet\n"
    "x = tune.float(0.0, 1.0)\ndepth = tune.int(1, 5)\nx * depth",
    "tune.last.plot('history')",
    "tune.last.plot('contour')",
]


def _notebook(folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    # without a kernelspec JupyterLab asks which kernel to start, and nothing runs
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "plots.ipynb"
    nbformat.write(notebook, path)
    return path


def _plotly_cdn(route: Any) -> None:
    """cdn.plot.ly/plotly-<version>.min.js is npm's plotly.js-dist-min@<version>/plotly.min.js."""
    from tests.browser.cdn import package_dir

    match = re.search(r"/plotly-(\d+\.\d+\.\d+)\.min\.js$", route.request.url)
    if match is None:
        route.abort()
        return
    script = package_dir(f"plotly.js-dist-min@{match.group(1)}") / "plotly.min.js"
    route.fulfill(status=200, body=script.read_bytes(), headers={"content-type": "application/javascript"})


def test_plots_render_in_exported_html(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    import nbformat
    from nbclient import NotebookClient
    from playwright.sync_api import expect

    from tests.browser.cdn import NpmCdn

    path = _notebook(tmp_path)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=180, resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(notebook, path)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path)], check=True, capture_output=True
    )
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("https://**/*", NpmCdn())  # what the page asks of other CDNs (require.js)
    page.route("https://cdn.plot.ly/**", _plotly_cdn)  # the later route answers first
    try:
        page.goto((tmp_path / "plots.html").as_uri())
        expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=60_000)
        expect(page.locator(".js-plotly-plot .scatterlayer .trace").first).to_be_attached()  # the history's points
        expect(page.locator(".js-plotly-plot .contourlayer .contour").first).to_be_attached()
        page.screenshot(path=str(artifacts / "exported-plots.png"), full_page=True)
        assert errors == []
    finally:
        page.close()


def test_plots_render_in_jupyterlab(lab: Any, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    _notebook(lab.root)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    try:
        lab.open_notebook(page, "plots.ipynb")
        lab.run_all(page)
        expect(page.locator(".jp-OutputArea .js-plotly-plot")).to_have_count(2, timeout=180_000)
        expect(page.locator(".js-plotly-plot .contourlayer .contour").first).to_be_attached()
        page.screenshot(path=str(artifacts / "lab-plots.png"), full_page=True)
        lab.shutdown_kernel(page)
    finally:
        page.close()
