"""Run comparison: the runs table with parallel coordinates (one front-end, ``js/parcoords.js``),
metric curves of the selected runs and best-so-far per group (bqplot).

Brushing an axis filters the table in the browser; the selection and the filter sync
back to Python, which redraws the metric curves of the selected runs.
"""

from __future__ import annotations

import math
from typing import Any

import anywidget
import ipywidgets
import traitlets

from ipytune.widgets._bundle import bundle, stylesheet
from ipytune.widgets._state import Presentable

RUN_NAME_COLUMNS = ("run", "name", "run_name")  # the first one in the runs table names each run
GROUP_COLUMNS = ("group", "study")
OBJECTIVE_COLUMNS = ("objective", "value", "score")
META = {"project", "id", "run_id", "created", "created_at", "timestamp", "state", "status", "duration", "direction"}
META_PREFIXES = ("env", "_", "system", "git", "python", "package", "search.", "seed")
MAX_PARAM_AXES = 8
MAX_CURVES = 12


class ParallelCoordinates(Presentable, anywidget.AnyWidget):
    _esm = bundle("parcoords")
    _css = stylesheet("parcoords")
    title = traitlets.Unicode("").tag(sync=True)
    runs = traitlets.List(traitlets.Unicode()).tag(sync=True)
    groups = traitlets.List(traitlets.Unicode()).tag(sync=True)
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)  # {name, kind, values, labels?}
    brushes = traitlets.Dict().tag(sync=True)  # axis name -> [low, high], set by the front-end
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    filtered = traitlets.List(traitlets.Unicode()).tag(sync=True)  # runs inside every brush


class RunComparison(ipywidgets.VBox):  # type: ignore[misc]
    """Table + parallel coordinates, metric curves of the selected runs, best-so-far per group."""

    def __init__(
        self,
        runs: Any,
        history: Any = None,
        objective: str | None = None,
        maximize: bool | None = None,
        title: str = "",
        metric: str | None = None,
    ) -> None:
        self.table = runs.reset_index(drop=True)
        self.history = history
        names = _first(self.table, RUN_NAME_COLUMNS)
        if names is None:
            raise ValueError(
                f"compare_runs: the runs table has no run-name column (one of {', '.join(RUN_NAME_COLUMNS)})."
            )
        self.run_names = [str(v) for v in self.table[names]]
        group = _first(self.table, GROUP_COLUMNS)
        self.groups = [("" if _missing(v) else str(v)) for v in self.table[group]] if group else [""] * len(self.table)
        metrics = set() if history is None or len(history) == 0 else set(history["metric"].unique())
        self.objective = (
            objective
            or _search_metric(self.table)
            or _first(self.table, OBJECTIVE_COLUMNS)
            or _first_numeric(self.table, metrics)
        )
        if self.objective is None or self.objective not in self.table:
            raise ValueError(
                f"compare_runs: objective={objective!r} is not a column of the runs table "
                f"({', '.join(map(str, self.table.columns))})."
            )
        self.maximize = _direction(self.table) if maximize is None else maximize
        excluded = {names, group, self.objective}
        self.params = _param_columns(self.table, excluded, metrics)
        self.parcoords = ParallelCoordinates(
            title=title or "Runs",
            runs=self.run_names,
            groups=self.groups,
            columns=[_column(self.table, p, "param") for p in self.params]
            + [_column(self.table, self.objective, "objective")],
            filtered=self.run_names,
        )
        options = sorted(metrics, key=lambda m: (m != self.objective, m)) or [self.objective]
        if metric is not None and metric not in options:
            raise ValueError(f"compare_runs: metric={metric!r} was not logged; choose from {', '.join(options)}.")
        self.metric = ipywidgets.Dropdown(
            options=options, value=metric or options[0], description="metric", layout={"width": "260px"}
        )
        self.curves = _figure("metric of the selected runs", "step")
        self.best = _figure(f"best {self.objective} so far, per group", "run (in order)")
        self._draw_best()
        self._draw_curves()
        self.parcoords.observe(lambda _: self._draw_curves(), names=["selected", "filtered"])
        self.metric.observe(lambda _: self._draw_curves(), names="value")
        super().__init__(
            [self.parcoords, self.metric, ipywidgets.HBox([self.curves, self.best])],
            layout={"width": "100%"},
        )
        self.add_class("ipytune-compare")

    # -- bqplot panels --------------------------------------------------------------------------------
    def _draw_curves(self) -> None:
        shown = self.parcoords.selected or self.parcoords.filtered or self.run_names
        shown = list(shown)[:MAX_CURVES]
        metric = self.metric.value
        xs, ys, labels = [], [], []
        if self.history is not None and len(self.history):
            h = self.history[(self.history["metric"] == metric) & self.history["run"].astype(str).isin(shown)]
            for run in shown:
                part = h[h["run"].astype(str) == run].sort_values("step")
                if len(part):
                    xs.append(part["step"].astype(float).tolist())
                    ys.append(part["value"].astype(float).tolist())
                    labels.append(run)
        self._set_lines(self.curves, xs, ys, labels)
        self.curves.title = f"{metric}: {len(labels)} run{'s' * (len(labels) != 1)}"

    def _draw_best(self) -> None:
        xs, ys, labels = [], [], []
        for group in dict.fromkeys(self.groups):
            values = [
                float(v)
                for v, g in zip(self.table[self.objective], self.groups, strict=True)
                if g == group and not _missing(v)
            ]
            if not values:
                continue
            best, running = [], None
            for v in values:
                running = v if running is None else (max(running, v) if self.maximize else min(running, v))
                best.append(running)
            xs.append([float(i) for i in range(1, len(best) + 1)])
            ys.append(best)
            labels.append(group or "(no group)")
        self._set_lines(self.best, xs, ys, labels)

    @staticmethod
    def _set_lines(fig: Any, xs: list[list[float]], ys: list[list[float]], labels: list[str]) -> None:
        import numpy as np

        line = fig.marks[0]
        if not xs:
            line.x, line.y, line.labels = np.zeros(0), np.zeros(0), []
            return
        width = max(len(x) for x in xs)
        pad = [x + [np.nan] * (width - len(x)) for x in xs]
        pady = [y + [np.nan] * (width - len(y)) for y in ys]
        with line.hold_sync():
            line.x, line.y, line.labels = np.array(pad, dtype=float), np.array(pady, dtype=float), labels

    def __repr__(self) -> str:
        return summary(self)


def compare_runs(
    project: str, objective: str | None = None, maximize: bool | None = None, metric: str | None = None
) -> RunComparison:
    """Compare the tracked runs of a trackio ``project`` (any project, not only ipytune's).

    ``objective`` is the column on the last parallel axis and in best-so-far (default: the
    search's metric), ``maximize`` its direction, ``metric`` the curves shown first.
    """
    from ipytune.tracking.runs import metric_history, runs

    table = runs(project)
    if table is None or len(table) == 0:
        raise ValueError(f"compare_runs: project {project!r} has no runs (is TRACKIO_DIR the folder that holds it?).")
    history = metric_history(project)
    return RunComparison(table, history, objective=objective, maximize=maximize, title=project, metric=metric)


# -- helpers ----------------------------------------------------------------------------------------
def _figure(title: str, xlabel: str) -> Any:
    import bqplot

    x, y = bqplot.LinearScale(), bqplot.LinearScale()

    line = bqplot.Lines(x=[], y=[], scales={"x": x, "y": y}, display_legend=True, marker="circle", marker_size=16)
    axes = [bqplot.Axis(scale=x, label=xlabel), bqplot.Axis(scale=y, orientation="vertical", tick_format=".3g")]
    return bqplot.Figure(
        marks=[line],
        axes=axes,
        title=title,
        legend_location="bottom-right",
        layout={"width": "48%", "height": "300px", "min_width": "320px"},
        fig_margin={"top": 40, "bottom": 40, "left": 55, "right": 15},
    )


def _first(table: Any, candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in table.columns), None)


def _first_numeric(table: Any, metrics: set[str]) -> str | None:
    import pandas as pd

    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    return next((c for c in numeric if c in metrics), numeric[0] if numeric else None)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _search_metric(table: Any) -> str | None:
    """The objective an ipytune search recorded in each run's config."""
    if "search.metric" in table.columns:
        names = table["search.metric"].dropna()
        if len(names) and str(names.iloc[0]) in table.columns:
            return str(names.iloc[0])
    return None


def _direction(table: Any) -> bool:
    for column in ("search.direction", "direction", "config.direction"):
        if column in table.columns:
            values = {str(v).lower() for v in table[column].dropna()}
            if values and values <= {"minimize"}:
                return False
    return True


def _param_columns(table: Any, excluded: set[str | None], metrics: set[str]) -> list[str]:
    out = []
    for column in table.columns:
        name = str(column)
        if column in excluded or name in metrics or name.lower() in META or name.lower().startswith(META_PREFIXES):
            continue
        values = table[column].dropna()
        if len(values) == 0 or values.astype(str).nunique() < 2:
            continue  # nothing to compare on this axis
        if values.map(lambda v: isinstance(v, (dict, list))).any():
            continue
        out.append(name)
    return out[:MAX_PARAM_AXES]


def _column(table: Any, name: str, kind: str) -> dict[str, Any]:
    import pandas as pd

    series = table[name]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = [None if _missing(v) else float(v) for v in series]
        present = [v for v in values if v is not None]
        if kind == "param" and present and min(present) > 0 and max(present) / min(present) >= 100:
            # a learning rate over decades: equal ratios get equal room on the axis
            return {
                "name": f"log10({name})",
                "kind": kind,
                "values": [None if v is None else math.log10(v) for v in values],
            }
        return {"name": name, "kind": kind, "values": values}
    labels = list(dict.fromkeys(str(v) for v in series if not _missing(v)))
    return {
        "name": name,
        "kind": kind,
        "labels": labels,
        "values": [None if _missing(v) else float(labels.index(str(v))) for v in series],
    }


def summary(comparison: RunComparison) -> str:
    """The comparison as text: the runs, best first."""
    table = comparison.table
    columns = [c for c in [*RUN_NAME_COLUMNS, *GROUP_COLUMNS] if c in table.columns][:2]
    ranked = table.sort_values(comparison.objective, ascending=not comparison.maximize, na_position="last")
    head = ranked[[*columns, comparison.objective, *comparison.params]].head(10)
    return f"{len(table)} runs · objective {comparison.objective}\n{head.to_string(index=False)}"
