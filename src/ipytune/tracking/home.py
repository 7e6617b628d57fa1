"""Old home of ``trackio_dir``, ``use`` and ``pointed_at``, now in :mod:`ipytune.tracking._trackio`.

Kept so that code not yet switched keeps working; import from ``_trackio``.
"""

from ipytune.tracking._trackio import pointed_at, trackio_dir, use

__all__ = ["pointed_at", "trackio_dir", "use"]
