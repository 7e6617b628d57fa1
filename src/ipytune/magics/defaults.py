"""The defaults every search magic shares, as one ``Configurable``.

Set them with ``%config TuneMagics.<name> = ...`` (or ``c.TuneMagics.<name>`` in
``ipython_config.py``): ``%%tune`` and ``%automl`` both read that section.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics
from traitlets import Bool, Integer, Unicode

CONFIG_SECTION = "TuneMagics"  # the documented name of the section every search magic reads


class SearchMagics(Magics):
    """Base of the search magics: the defaults a user may change for every search."""

    default_method = Unicode("tpe", help="Search method when --method is not given.").tag(config=True)
    storage = Unicode("", help="Default --storage ('' means .ipytune/studies.journal).").tag(config=True)
    cv = Integer(5, help="Default --cv folds for an estimator.").tag(config=True)
    refit = Bool(True, help="Re-run the cell with the best parameters after a search.").tag(config=True)
    quiet = Bool(False, help="Hide live progress by default.").tag(config=True)
    track = Bool(True, help="Record every trial as a trackio run (--no-track turns it off for one search).").tag(
        config=True
    )
    save_model = Bool(True, help="Save the refitted best model in trackio (--no-save-model for one search).").tag(
        config=True
    )

    @classmethod
    def section_names(cls) -> list[str]:
        # every search magic also reads the TuneMagics section; its own section, last, overrides it
        *parents, own = super().section_names()
        return [*parents, own] if own == CONFIG_SECTION else [*parents, CONFIG_SECTION, own]

    def defaults(self) -> dict[str, Any]:
        """The defaults as the option parsers take them."""
        return {
            "method": self.default_method,
            "storage": self.storage,
            "cv": self.cv,
            "refit": self.refit,
            "quiet": self.quiet,
            "track": self.track,
            "save_model": self.save_model,
        }
