"""Widgets load lazily, ship a built front-end with one version, and degrade to text."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import ipytune
from ipytune.widgets._bundle import STATIC, MissingBundleError, bundle, stylesheet
from tests.built import built

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("optuna", "sklearn", "bqplot", "bayes_opt", "pandas", "anywidget", "ipywidgets")


def test_importing_the_widgets_package_imports_nothing_heavy() -> None:
    probe = (
        "import json, sys; import ipytune.widgets as w; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules] + [sorted(w.__all__)[0]]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == ["CoverageExplorer"]


def test_js_package_version_is_the_python_version() -> None:
    package = json.loads((ROOT / "js" / "package.json").read_text())
    assert package["version"] == ipytune.__version__


def test_every_front_end_is_built_and_used() -> None:
    from ipytune.widgets.compare import Curves, ParallelCoordinates
    from ipytune.widgets.coverage import CoverageExplorer
    from ipytune.widgets.dashboard import SearchDashboard
    from ipytune.widgets.gp import GPExplorer

    shared = (ROOT / "js" / "styles.css").read_text()
    for widget, name in [
        (GPExplorer, "gp_explorer"),
        (CoverageExplorer, "coverage"),
        (SearchDashboard, "dashboard"),
        (ParallelCoordinates, "parcoords"),
        (Curves, "curves"),
    ]:
        source = (STATIC / f"{name}.js").read_text()
        assert "export" in source and "render" in source  # noqa: PT018
        assert widget()._esm == source  # _esm points at the built file
        css = (STATIC / f"{name}.css").read_text()
        own = (ROOT / "js" / f"{name}.css").read_text()
        for sheet in (shared, own):  # the shared kit and the widget's own rules, both bundled
            first_rule = next(line for line in sheet.splitlines() if line.startswith("."))
            assert first_rule in css, (name, first_rule)
        assert widget()._css == css  # _css points at the built stylesheet
        assert "<style" not in source.lower()  # no stylesheet injected by the views any more


def test_the_build_hook_ensures_and_skips_on_every_built_file() -> None:
    """pyproject's ensured-targets, skip-if-exists and wheel artifacts name what the widgets load."""
    text = (ROOT / "pyproject.toml").read_text()
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        pytest.skip("tomllib needs Python 3.11")
    config = tomllib.loads(text)
    hook = config["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    built = {
        f"src/ipytune/static/{n}.{ext}"
        for n in ("gp_explorer", "coverage", "dashboard", "parcoords", "curves")
        for ext in ("js", "css")
    }
    assert set(hook["ensured-targets"]) == built
    assert set(hook["skip-if-exists"]) == built
    artifacts = config["tool"]["hatch"]["build"]["targets"]["wheel"]["artifacts"]
    assert {"src/ipytune/static/*.js", "src/ipytune/static/*.css"} <= set(artifacts)


def test_the_built_wheel_and_sdist_carry_every_bundle() -> None:
    """What `python -m build` makes (the wheel from the sdist) holds the bundles this checkout built."""
    with zipfile.ZipFile(built("wheel")) as archive:
        wheel = {name: archive.read(name) for name in archive.namelist()}
    with tarfile.open(built("sdist")) as archive:
        sdist = {name.split("/", 1)[1] for name in archive.getnames()}
    for widget in ("gp_explorer", "coverage", "dashboard", "parcoords", "curves"):
        for ext in ("js", "css"):
            assert f"src/ipytune/static/{widget}.{ext}" in sdist
            assert wheel[f"ipytune/static/{widget}.{ext}"] == (STATIC / f"{widget}.{ext}").read_bytes()


@pytest.mark.parametrize("find", [bundle, stylesheet])
def test_a_missing_bundle_is_a_clear_error(find: Callable[[str], Path]) -> None:
    with pytest.raises(MissingBundleError, match="npm --prefix js install && npm --prefix js run build"):
        find("no-such-widget")


def test_terminal_ipython_shows_text_summaries(tmp_path: Path) -> None:
    """Plain terminal IPython has no widget front-end: each widget prints a summary, nothing crashes."""
    lines = "import ipytune.widgets as w\nw.coverage_explorer(budget=9)\nw.gp_explorer(n_iter=1)\nexit\n"
    out = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--simple-prompt", "--colors=NoColor"],
        input=lines, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "grid" in out.stdout and "3 distinct important" in out.stdout  # noqa: PT018
    assert "step 2: 4 observed" in out.stdout


def test_public_names_survive_importing_the_submodules_first() -> None:
    """Regression: a submodule named like a function (widgets.gp_explorer) replaced it with a module."""
    probe = (
        "import ipytune.widgets.gp, ipytune.widgets.coverage, ipytune.widgets.compare, ipytune.widgets.dashboard\n"
        "import ipytune.widgets as w\n"
        "print(all(callable(getattr(w, n)) for n in w.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True"
