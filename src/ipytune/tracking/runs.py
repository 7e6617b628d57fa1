"""Read any trackio project back: its runs as a table, its metrics as histories.

This is the data layer of ``%compare_runs`` and of the run-comparison
widget. It reads trackio's local storage the way trackio's dashboard does
(see :mod:`._trackio`), so it works on every trackio project, ipytune's or not.

- :func:`projects` -> the project names in ``TRACKIO_DIR``;
- :func:`runs` -> one row per run: ``name``, ``group``, ``state``,
  ``created``, the config (one column per key, nested dicts flattened with
  ``.``; ``tags`` and ``notes`` when given), the final value of every metric
  (pictures left out), and ``id``; ``tags=`` keeps the runs with every tag given;
- :func:`metric_history` -> long format ``run, id, step, metric, value``, one
  row per logged number, for plotting curves.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ipytune.tracking import _trackio

if TYPE_CHECKING:
    import pandas as pd

# The columns of runs() that describe a run itself; its config and final metrics follow, and "id" comes last.
RUN_INFO_COLUMNS = ("name", "group", "state", "created")
_NOT_METRICS = {"timestamp", "step", "state"}


def projects() -> list[str]:
    """The trackio projects stored in ``TRACKIO_DIR`` (trackio's registries left out)."""
    return _trackio.project_names(_ready())


def runs(project: str, tags: str | Iterable[str] | None = None) -> pd.DataFrame:
    """One row per run of ``project``: name, group, state, created, config columns, final metrics, id.

    ``tags`` (``"baseline"``, ``"baseline,final"`` or a list) keeps the runs that have every one of them.
    """
    import pandas as pd

    wanted = _tags(tags)
    stored = _read(project)
    rows = []
    for record in stored.records:
        run_id = record["id"]
        config = stored.configs.get(run_id) or stored.configs.get(record["name"]) or {}
        if not wanted <= set(_run_tags(config)):
            continue
        final = _final_values(stored.logs.get(run_id, []))
        row: dict[str, Any] = {
            "name": record["name"],
            "group": _trackio.group(config),
            "state": final.pop("state", None),
            "created": pd.Timestamp(record["created_at"]) if record.get("created_at") else None,
        }
        row.update(_flatten(_trackio.user_config(config)))
        for key, value in final.items():
            row[key if key not in row else f"{key} (metric)"] = value
        row["id"] = run_id
        rows.append(row)
    if wanted and not rows:
        known = sorted({tag for config in stored.configs.values() for tag in _run_tags(config or {})})
        raise UsageError(
            f"no run of project {project!r} has the tags {', '.join(sorted(wanted))}; "
            f"tags there: {', '.join(known) or 'none'}."
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*RUN_INFO_COLUMNS, "id"])
    return frame[[c for c in frame.columns if c != "id"] + ["id"]]


def metric_history(
    project: str,
    run: str | None = None,
    metric: str | Iterable[str] | None = None,
    tags: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every number logged in ``project`` as rows ``run, id, step, metric, value``.

    ``run`` keeps one run (its name or id); ``metric`` keeps one metric name or several;
    ``tags`` the runs with every tag given. Non-numeric values (``state``, lists) are left out:
    this is for curves.
    """
    import pandas as pd

    tagged = _tags(tags)
    stored = _read(project)
    records = [
        r
        for r in stored.records
        if tagged <= set(_run_tags(stored.configs.get(r["id"]) or stored.configs.get(r["name"]) or {}))
    ]
    wanted = None if metric is None else ({metric} if isinstance(metric, str) else set(metric))
    chosen = [r for r in records if run is None or run in (r["name"], r["id"])]
    if run is not None and not chosen:
        names = ", ".join(sorted({str(r["name"]) for r in records})[:10]) or "none"
        raise UsageError(f"project {project!r} has no run {run!r}; its runs: {names}.")
    rows = []
    for record in chosen:
        for entry in stored.logs.get(record["id"], []):
            for key, value in entry.items():
                if key in _NOT_METRICS or (wanted is not None and key not in wanted):
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    rows.append((record["name"], record["id"], entry["step"], key, float(value)))
    return pd.DataFrame(rows, columns=["run", "id", "step", "metric", "value"])


# -- reading ------------------------------------------------------------------------
def _ready() -> Path:
    """Make what was just logged readable: wait for the writer, follow TRACKIO_DIR."""
    from ipytune.tracking.writer import writer

    writer.flush()
    return _trackio.trackio_dir()


def _read(project: str) -> _trackio.Project:
    if not isinstance(project, str) or not project:
        raise UsageError("give a trackio project name, e.g. runs('my-study'); projects() lists them.")
    folder = _ready()
    stored = _trackio.read_project(folder, project)
    if stored is None:
        known = ", ".join(_trackio.project_names(folder)) or "none"
        raise UsageError(f"no trackio project {project!r} in {folder}; projects there: {known}.")
    return stored


def _final_values(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The last value of every metric, by step then by the order rows were written (pictures left out)."""
    final: dict[str, Any] = {}
    for entry in sorted(entries, key=lambda e: e.get("step", 0)):  # stable: same step keeps write order
        for key, value in entry.items():
            if key not in ("timestamp", "step") and not (isinstance(value, dict) and "_type" in value):
                final[key] = value
    return final


def _tags(tags: str | Iterable[str] | None) -> set[str]:
    if tags is None:
        return set()
    from ipytune.tracking.records import parse_tags

    try:
        return set(parse_tags(tags, "tags"))
    except ValueError as error:
        raise UsageError(str(error)) from None


def _run_tags(config: dict[str, Any]) -> list[str]:
    tags = config.get("tags")
    return [str(t) for t in tags] if isinstance(tags, list) else []


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
