"""What ``seed_everything`` did, one row per seed source: the value ``%seed_everything`` shows.

Displayed like ipytune's other results (:class:`ipytune._format.Summarised`):
``repr()`` is one line, the full table is what IPython shows and ``print()``
writes, and notebooks get an HTML table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from ipytune._format import Summarised


@dataclass
class SeedRow:
    key: str
    source: str
    setting: str
    status: str
    note: str = ""


@dataclass(repr=False)
class SeedReport(Summarised):
    """What ``seed_everything`` did: ``seed``, ``deterministic``, ``warn_only`` and one row per source."""

    seed: int
    deterministic: bool
    warn_only: bool = False
    rows: list[SeedRow] = field(default_factory=list)
    quiet: bool = False  # returned by `%seed_everything --quiet`: displays as nothing

    def __int__(self) -> int:
        return self.seed

    def __getitem__(self, key: str) -> SeedRow:
        """The row for ``key`` (``"python"``, ``"numpy"``, ``"torch"``, ... or a source label)."""
        for row in self.rows:
            if key in (row.key, row.source):
                return row
        raise KeyError(key)

    def status(self, key: str) -> str:
        return self[key].status

    def headline(self) -> str:
        mode = "seeds and determinism switches" if self.deterministic else "seeds only (--no-deterministic)"
        if self.deterministic and self.warn_only:
            mode += ", deterministic algorithms warn only"
        return f"seed_everything({self.seed}): {mode}"

    def table(self) -> Any:
        """The rows as a pandas DataFrame (source, setting, status, note)."""
        import pandas as pd

        return pd.DataFrame(
            [(r.source, r.setting, r.status, r.note) for r in self.rows],
            columns=["source", "setting", "status", "note"],
        )

    def to_text(self) -> str:
        width = [max((len(getattr(r, f)) for r in self.rows), default=0) for f in ("source", "setting", "status")]
        lines = [self.headline()]
        for r in self.rows:
            text = f"  {r.source:<{width[0]}}  {r.setting:<{width[1]}}  {r.status:<{width[2]}}  {r.note}"
            lines.append(text.rstrip())
        return "\n".join(lines)

    def _ipython_display_(self) -> None:
        if not self.quiet:
            from IPython.display import display

            display({"text/plain": self.to_text(), "text/html": self._repr_html_()}, raw=True)  # type: ignore[no-untyped-call]

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(r.source)}</td><td><code>{html.escape(r.setting)}</code></td>"
            f"<td>{html.escape(r.status)}</td><td>{html.escape(r.note)}</td></tr>"
            for r in self.rows
        )
        return (
            f"<div class='ipytune-seed'><b>{html.escape(self.headline())}</b>"
            "<table><thead><tr><th>source</th><th>setting</th><th>status</th><th>note</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
