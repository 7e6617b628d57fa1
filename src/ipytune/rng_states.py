"""Snapshot every generator and switch ``seed_everything`` touches, and put it back.

``%%repro`` seeds and re-seeds many times, and must leave the session as it
found it (Lightning's ``_collect_rng_states`` / ``_set_rng_states``). A torch
not imported yet has no state worth keeping, so this never imports torch.
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

from ipytune.seeding import CUBLAS_ENV, SEED_ENV, numpy_random

_ENV_KEYS = (SEED_ENV, "PYTHONHASHSEED", CUBLAS_ENV)


def collect_rng_states() -> dict[str, Any]:
    """Snapshot every generator and determinism switch that ``seed_everything`` touches."""
    states: dict[str, Any] = {"python": random.getstate(), "env": {k: os.environ.get(k) for k in _ENV_KEYS}}
    numpy = numpy_random(required=False)
    if numpy is not None:
        states["numpy"] = numpy.get_state()
    torch = sys.modules.get("torch")
    if torch is not None:
        states["torch"] = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states["cuda"] = torch.cuda.get_rng_state_all()
        cudnn = torch.backends.cudnn
        states["cudnn"] = (cudnn.deterministic, cudnn.benchmark)
        states["deterministic"] = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
        )
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore a snapshot from :func:`collect_rng_states`."""
    random.setstate(states["python"])
    if "numpy" in states:
        numpy_random().set_state(states["numpy"])
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in states:
        torch.set_rng_state(states["torch"])
        if "cuda" in states:
            torch.cuda.set_rng_state_all(states["cuda"])
        cudnn = torch.backends.cudnn
        cudnn.deterministic, cudnn.benchmark = states["cudnn"]
        enabled, warn_only = states["deterministic"]
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
    for key, value in states["env"].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
