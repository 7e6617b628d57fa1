"""Which folder trackio writes to, following ``TRACKIO_DIR`` as it is now.

trackio reads ``TRACKIO_DIR`` once, when it is imported, into module
constants. A notebook (or a test) that sets the variable afterwards would
otherwise write somewhere else than it asked; ipytune points trackio's
constants at the current value before every write or read.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CONSTANTS = {"TRACKIO_DIR": "", "MEDIA_DIR": "media", "ARTIFACTS_DIR": "artifacts"}
_lock = threading.RLock()


def trackio_dir() -> Path:
    """The folder trackio uses now: ``$TRACKIO_DIR``, else trackio's default in the Hugging Face cache.

    Resolved without importing trackio (about a second), as huggingface_hub does.
    """
    configured = os.environ.get("TRACKIO_DIR")
    if configured:  # absolute: the writer thread must not follow later os.chdir calls
        return Path(configured).expanduser().absolute()
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface"
    )
    return Path(os.path.expanduser(os.path.expandvars(hf_home))) / "trackio"


def use(folder: Path) -> None:
    """Point every loaded trackio module at ``folder`` (no-op when it already is)."""
    import trackio.utils

    with _lock:
        current = trackio.utils.TRACKIO_DIR
        if current == folder:
            return
        old = {name: current / sub if sub else current for name, sub in _CONSTANTS.items()}
        new = {name: folder / sub if sub else folder for name, sub in _CONSTANTS.items()}
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "trackio" or name.startswith("trackio.")):
                continue
            for constant, value in old.items():
                if getattr(module, constant, None) == value:
                    setattr(module, constant, new[constant])


@contextmanager
def pointed_at(folder: Path) -> Iterator[None]:
    """Hold trackio on ``folder`` while reading or writing (the writer thread and the notebook share it)."""
    with _lock:
        use(folder)
        yield
