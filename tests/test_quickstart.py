"""`ipytune demo` runs examples/quickstart.ipynb in a real kernel and prints the best results."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from ipytune.cli import find_quickstart
from tests.built import ROOT, built

pytestmark = pytest.mark.notebook


def test_demo_runs_the_quickstart_and_prints_every_method(tmp_path: Path):
    notebook = tmp_path / "quickstart.ipynb"
    shutil.copy(find_quickstart(), notebook)
    env = dict(os.environ, TRACKIO_DIR=str(tmp_path / "trackio"))
    done = subprocess.run(
        [sys.executable, "-m", "ipytune.cli", "demo", "--notebook", str(notebook)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "without encryption" not in done.stdout + done.stderr  # ipykernel's TCP warning alarms new users
    assert re.search(r"One-time imports, .* timed apart before any of these: \d+\.\d s\.", done.stdout)
    lines = done.stdout.splitlines()
    table = {line.split()[0]: line for line in lines if re.match(r"\s*(grid|random|gp|tpe|manual)\b", line)}
    assert set(table) == {"manual", "grid", "random", "gp", "tpe"}
    scores = {name: float(re.search(r"\s(0\.\d{4})\s", line).group(1)) for name, line in table.items()}
    assert all(0.85 < s <= 1.0 for s in scores.values())
    assert scores["grid"] == scores["manual"]  # the same 18 combinations, the same best
    executed = tmp_path / "quickstart.executed.ipynb"
    assert f"Executed notebook: {executed}" in done.stdout
    nb = nbformat.read(executed, as_version=4)
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    assert (tmp_path / ".ipytune" / "studies.journal").exists()  # studies persisted next to it


def test_demo_reports_a_missing_notebook(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "ipytune.cli", "demo", "--notebook", str(tmp_path / "nope.ipynb")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_the_built_wheel_ships_the_quickstart_and_the_demo_finds_it(tmp_path: Path):
    """In the wheel, not the checkout: ``ipytune demo`` installed from it runs the packaged copy."""
    wheel = built("wheel")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    packaged = tmp_path / "site" / "ipytune" / "examples" / "quickstart.ipynb"
    assert packaged.read_bytes() == (ROOT / "examples" / "quickstart.ipynb").read_bytes()
    probe = "from ipytune.cli import find_quickstart; print(find_quickstart())"
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert Path(found.stdout.strip()) == packaged


def test_one_version_for_the_command_the_package_and_the_wheel():
    import ipytune

    shown = subprocess.run([sys.executable, "-m", "ipytune.cli", "--version"], capture_output=True, text=True)
    assert shown.stdout.strip() == ipytune.__version__
    assert built("wheel").name.startswith(f"ipytune-{ipytune.__version__}-")  # hatch reads _version.py
