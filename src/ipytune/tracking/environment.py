"""What a run was made with: Python and package versions, git commit, seed.

Captured once per study (on the writer thread, since ``git`` costs tens of
milliseconds) and stored in every run's config under ``env.*`` keys.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

from ipytune.seeding import SEED_ENV

# Distribution names as pip shows them; versions come from metadata, so
# nothing (torch least of all) is imported to learn them.
PACKAGES = ("ipytune", "numpy", "scikit-learn", "optuna", "bayesian-optimization", "torch", "trackio")


def capture_environment(seed: int | None = None, cwd: str | None = None) -> dict[str, Any]:
    """``env.*`` config entries: versions, git commit and dirty flag, the seed in force."""
    env: dict[str, Any] = {
        "env.python": platform.python_version(),
        "env.platform": f"{sys.platform}-{platform.machine()}",
    }
    for name in PACKAGES:
        version = _version(name)
        if version is not None:  # torch is optional: absent means not installed
            env[f"env.{name}"] = version
    commit, dirty = git_state(cwd)
    env["env.git_commit"] = commit
    env["env.git_dirty"] = dirty
    env["env.seed"] = seed if seed is not None else _recorded_seed()
    return env


def git_state(cwd: str | None = None) -> tuple[str | None, bool | None]:
    """The commit checked out in ``cwd`` and whether tracked files have uncommitted changes."""
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return commit, None if status is None else bool(status)


def _git(args: list[str], cwd: str | None) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd or os.getcwd(), capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):  # no git, or a hung filesystem
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _recorded_seed() -> int | None:
    value = os.environ.get(SEED_ENV)
    try:
        return int(value) if value else None
    except ValueError:
        return None
