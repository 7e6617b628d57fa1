"""Where the built front-ends are, and a clear error when they were not built.

``npm --prefix js run build`` (esbuild, run by the Python build through hatch-jupyter-builder)
writes one ES module per widget, ``static/<name>.js``, and beside it the stylesheet that
module imports (``js/styles.css``), ``static/<name>.css``. A widget class sets
``_esm = bundle(name)`` and ``_css = stylesheet(name)``.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static"
REBUILD = "npm --prefix js install && npm --prefix js run build"


class MissingBundleError(ImportError):
    """A built file of a widget front-end is not in ``ipytune/static``."""


def bundle(name: str) -> Path:
    """The built ES module ``ipytune/static/<name>.js``; a clear error when it is missing."""
    return _built(f"{name}.js")


def stylesheet(name: str) -> Path:
    """The built stylesheet ``ipytune/static/<name>.css``; a clear error when it is missing."""
    return _built(f"{name}.css")


def _built(filename: str) -> Path:
    path = STATIC / filename
    if not path.is_file():
        raise MissingBundleError(
            f"ipytune's widget front-end {path} is missing: the package was installed without "
            f"building its JavaScript. Reinstall from a checkout with node and npm on PATH "
            f"(pip install -e .), or build it by hand: {REBUILD}"
        )
    return path
