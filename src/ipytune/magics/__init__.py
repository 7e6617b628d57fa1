"""IPython magics of ipytune, one module per magic family."""

from __future__ import annotations

from typing import Any


def register(shell: Any) -> None:
    """Register every ipytune magic on ``shell`` and put ``tune`` in its namespace."""
    from ipytune.declarations import tune
    from ipytune.magics.automl import AutoMLMagics
    from ipytune.magics.seeding import SeedingMagics
    from ipytune.magics.tracking import TrackingMagics
    from ipytune.magics.tune import TuneMagics

    shell.register_magics(TuneMagics(shell))
    shell.register_magics(AutoMLMagics(shell))
    shell.register_magics(SeedingMagics(shell))
    shell.register_magics(TrackingMagics(shell))
    shell.push({"tune": tune}, interactive=False)
