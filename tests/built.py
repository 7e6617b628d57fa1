"""The sdist and wheel `python -m build` makes of this checkout (the wheel built from the sdist),
built once per test session, offline (--no-isolation: the dev extra has build and the hooks)."""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _dist() -> Path:
    out = Path(tempfile.mkdtemp(prefix="ipytune-dist-"))
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def built(kind: str) -> Path:
    """The built ``"wheel"`` or ``"sdist"``; skips where the build tools are not installed."""
    for module in ("build", "hatchling", "hatch_jupyter_builder"):
        pytest.importorskip(module, reason=f"building needs the dev extra's {module}")
    (found,) = _dist().glob("ipytune-*.whl" if kind == "wheel" else "ipytune-*.tar.gz")
    return found
