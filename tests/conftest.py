"""Shared fixtures: a real IPython shell with ipytune loaded, in a temporary working directory.

TRACKIO_DIR points at a temporary folder for the whole session so no test
writes to the real home of whoever runs them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_TRACKIO_TMP = tempfile.mkdtemp(prefix="ipytune-trackio-")
os.environ["TRACKIO_DIR"] = _TRACKIO_TMP


@pytest.fixture
def trackio_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRACKIO_DIR for one test."""
    folder = tmp_path / "trackio"
    folder.mkdir()
    monkeypatch.setenv("TRACKIO_DIR", str(folder))
    return folder


@pytest.fixture
def ip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A real InteractiveShell with ``%load_ext ipytune``, working in ``tmp_path``."""
    from IPython.testing.globalipapp import get_ipython

    monkeypatch.chdir(tmp_path)
    shell = get_ipython()  # one global test shell per process
    shell.run_line_magic("load_ext", "ipytune")
    shell.run_line_magic("reload_ext", "ipytune")  # the shell is shared: register afresh
    yield shell
    shell.reset(new_session=False)
    shell.run_line_magic("reload_ext", "ipytune")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a throwaway PostgreSQL database (IPYTUNE_TEST_POSTGRES, set by .ci/postgres.sh).

    Unset: the test skips, saying how to start one, except in CI, where .ci/run starts it, so it fails.
    """
    url = os.environ.get("IPYTUNE_TEST_POSTGRES")
    if not url:
        message = (
            'no PostgreSQL: eval "$(.ci/postgres.sh start)" sets IPYTUNE_TEST_POSTGRES (.ci/postgres.sh stop after)'
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}")
        pytest.skip(message)
    return url


def run(ip: object, cell: str) -> object:
    """Run a cell and return its result, re-raising anything it raised."""
    result = ip.run_cell(cell)  # type: ignore[attr-defined]
    result.raise_error()
    return result.result
