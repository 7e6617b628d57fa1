"""Where the built front-ends are, and a clear error when they were not built."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static"


class MissingBundleError(ImportError):
    """The esbuild bundle of a widget front-end is not in ``ipytune/static``."""


def bundle(name: str) -> Path:
    """The built ES module ``ipytune/static/<name>.js``; a clear error when it is missing."""
    path = STATIC / f"{name}.js"
    if not path.is_file():
        raise MissingBundleError(
            f"ipytune's widget front-end {path} is missing: the package was installed without "
            f"building its JavaScript. Reinstall from a checkout with node and npm on PATH "
            f"(pip install -e .), or build it by hand: npm --prefix js install && npm --prefix js run build"
        )
    return path
