"""IPython magics of ipytune, one module per magic family."""

from __future__ import annotations

from typing import Any


def register(shell: Any) -> None:
    """Register every ipytune magic on ``shell`` and put ``tune`` in its namespace."""
    from ipytune.magics.automl import AutoMLMagics
    from ipytune.magics.repro import SeedingMagics
    from ipytune.magics.tracking import TrackingMagics
    from ipytune.magics.tune import TuneMagics
    from ipytune.search.declarations import tune

    shell.register_magics(TuneMagics(shell))
    shell.register_magics(AutoMLMagics(shell))
    shell.register_magics(SeedingMagics(shell))
    shell.register_magics(TrackingMagics(shell))
    shell.push({"tune": tune}, interactive=False)
