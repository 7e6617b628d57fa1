"""Real-browser fixtures: Debian's chromium driven by Playwright, JupyterLab on 127.0.0.1.

The recipe is ../shared/BROWSER_TESTING.md's. Without chromium the tests skip with a
reason on a developer's machine; in CI (``CI`` set) a missing chromium is a failure,
since .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/lib/chromium/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must `apt-get install -y chromium`.")
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM}): apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(chromium), headless=True, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterPage:
    """What JupyterLab and Notebook 7 pages share: one application (``window.jupyterapp``), one kernel."""

    @staticmethod
    def wait_for_kernel(page: Any, tenths: int) -> None:
        """Wait (up to ``tenths`` / 10 s) until the current notebook's kernel is connected and idle."""
        page.evaluate(
            """async (tenths) => { const nb = window.jupyterapp.shell.currentWidget;
              await nb.context.ready; await nb.sessionContext.ready;
              const k = nb.sessionContext.session.kernel;
              for (let i = 0; i < tenths && !(k.connectionStatus === 'connected' && k.status === 'idle'); i++)
                await new Promise(r => setTimeout(r, 100));
              await k.info; }""",
            tenths,
        )

    @staticmethod
    def run_all(page: Any) -> None:
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    @staticmethod
    def shutdown_kernel(page: Any) -> None:
        """Delete the session from inside the page (a DELETE from outside fails the XSRF check)."""
        page.evaluate(
            """async () => { const nb = window.jupyterapp.shell.currentWidget;
              const id = nb.sessionContext.session.id;
              const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
              await fetch('/api/sessions/' + id, {method: 'DELETE', headers: {'X-XSRFToken': xsrf}}); }"""
        )


class Lab(JupyterPage):
    """A JupyterLab server on loopback, serving ``root``."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open_notebook(self, page: Any, name: str) -> None:
        """Open ``name`` in a fresh workspace and wait until its kernel really is ready."""
        page.goto(f"{self.url}/lab/workspaces/t{uuid.uuid4().hex[:8]}/tree/{name}?reset")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
        self.wait_for_kernel(page, 100)


@contextmanager
def jupyter_server(app: str, root: Path, env: dict[str, str], *options: str) -> Iterator[int]:
    """``python -m <app>`` on a free loopback port serving ``root``, with no token; yields the port
    once /api/status answers, and stops the server (by its own pid) afterwards."""
    port = _free_port()
    log_path = root / f"{app}.log"
    log = open(log_path, "wb")  # noqa: SIM115  (open for the server's whole life)
    process = subprocess.Popen(
        [
            sys.executable, "-m", app, "--allow-root", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={root}", *options,
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"{app} exited: {log_path.read_text()[-2000:]}")
                time.sleep(0.1)
        else:
            pytest.fail(f"{app} did not answer on /api/status within 60 s")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def write_stop_notebook(folder: Path) -> str:
    """A 400-trial search slow enough to click Stop in, then a cell that prints how it ended."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext ipytune"),
        nbformat.v4.new_code_cell(
            "%%tune --method random --trials 400 --storage memory --no-refit --no-track\n"
            "import time\nx = tune.float(0, 1)\ntime.sleep(0.05)\nx"
        ),
        nbformat.v4.new_code_cell("print('after:', tune.last.stop_reason, len(tune.last.trials))"),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (folder / "stop.ipynb").write_text(json.dumps(notebook))
    return "stop.ipynb"


def click_stop(page: Any) -> Any:
    """Stop the running stop-notebook search from its dashboard; checks it ended early, as stopped,
    and that the next cell ran (the messages read while the search ran were handed back in order).
    Returns the dashboard."""
    from playwright.sync_api import expect

    board = page.locator(".ipytune-dashboard")
    expect(board.locator(".ipytune-stop")).to_be_enabled(timeout=60_000)
    expect(board.locator(".ipytune-trial")).not_to_have_count(0, timeout=30_000)
    board.locator(".ipytune-stop").click()
    out = page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output")
    expect(out).to_contain_text("after: stopped", timeout=60_000)
    trials = int(re.search(r"after: stopped (\d+)", out.inner_text()).group(1))  # type: ignore[union-attr]
    assert trials < 400
    expect(board.locator(".ipytune-progress-text")).to_contain_text("stopped")
    return board


@pytest.fixture(scope="session")
def lab(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "examples" / "widgets.ipynb", root / "widgets.ipynb")
    settings = root / ".lab-settings"  # no "Jupyter news" pop-up over the widgets
    (settings / "app").mkdir(parents=True)
    overrides = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
    (settings / "app" / "overrides.json").write_text(json.dumps(overrides))
    env = dict(os.environ, TRACKIO_DIR=str(root / "trackio"), JUPYTERLAB_SETTINGS_DIR=str(settings / "user"))
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")
    with jupyter_server(
        "jupyterlab", root, env,
        "--LabApp.news_url=None", "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings / 'app'}",
    ) as port:  # fmt: skip
        yield Lab(root, port)
