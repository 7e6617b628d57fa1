"""Where a search's trials run when not one after another in the kernel: the engine's ``Transport``\\s.

- :mod:`.payload`: what travels to a worker (the cell and the names it reads), and the check
  that it can, before anything runs;
- :mod:`.worker`: the worker loop, :func:`~.worker.run_worker` (``WorkerJob`` -> ``WorkerReport``),
  the same for every transport;
- :mod:`.samplers`: each worker's sampler (its own seed; pending trials seen by tpe and gp;
  grid points claimed through the study);
- :mod:`.driver`: the kernel's side: jobs out, the study polled (progress, tracking), Stop and
  Ctrl-C, reports in;
- :mod:`.cell_error`: a worker's exception shown as the user's own traceback;
- :mod:`.processes`: ``--n-jobs N``: loky worker processes, or threads (``--threads``).

Nothing heavy is imported here: loky and cloudpickle load when a parallel search runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MEMORY_STORAGE", "LocalTransport"]

MEMORY_STORAGE = (
    "--n-jobs runs the trials in other processes, which cannot open --storage memory: drop --storage "
    "(the default journal file works) or give a journal path, sqlite:///file.db or a database URL; "
    "or add --threads."
)


def __getattr__(name: str) -> Any:
    if name == "LocalTransport":
        from ipytune.search.transports.processes import LocalTransport

        return LocalTransport
    raise AttributeError(name)
