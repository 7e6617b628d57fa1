"""Real-browser fixtures: Debian's chromium driven by Playwright, JupyterLab on 127.0.0.1.

The recipe is ../shared/BROWSER_TESTING.md's. Without chromium the tests skip with a
reason on a developer's machine; in CI (``CI`` set) a missing chromium is a failure,
since .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
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


class Lab:
    """A JupyterLab server on loopback, serving ``root``."""

    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.root, self.port, self.process = root, port, process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open_notebook(self, page: Any, name: str) -> None:
        """Open ``name`` in a fresh workspace and wait until its kernel really is ready."""
        page.goto(f"{self.url}/lab/workspaces/t{uuid.uuid4().hex[:8]}/tree/{name}?reset")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
        page.evaluate(
            """async () => { const nb = window.jupyterapp.shell.currentWidget;
              await nb.context.ready; await nb.sessionContext.ready;
              const k = nb.sessionContext.session.kernel;
              for (let i = 0; i < 100 && !(k.connectionStatus === 'connected' && k.status === 'idle'); i++)
                await new Promise(r => setTimeout(r, 100));
              await k.info; }"""
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
    port = _free_port()
    log = open(root / "lab.log", "wb")  # noqa: SIM115  (open for the server's whole life)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings / 'app'}",
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
                    pytest.fail(f"JupyterLab exited: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.1)
        else:
            pytest.fail("JupyterLab did not answer on /api/status within 60 s")
        yield Lab(root, port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
