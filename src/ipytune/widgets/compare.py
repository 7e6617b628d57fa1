"""Run comparison: the runs table with parallel coordinates (``js/parcoords.js``), and line charts
(``js/curves.js``) of the selected runs' metric and of best-so-far per search.

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
from ipytune.widgets._state import Presentable, rounded

RUN_NAME_COLUMNS = ("run", "name", "run_name")  # the first one in the runs table names each run
RUN_ID_COLUMNS = ("id", "run_id")  # the first one identifies each run; without one, the name does
GROUP_COLUMNS = ("group", "study")
OBJECTIVE_COLUMNS = ("objective", "value", "score")
TRIAL_COLUMN = "search.trial"  # an ipytune trial's number in its search
META = {"project", "id", "run_id", "created", "created_at", "timestamp", "state", "status", "duration", "direction"}
META_PREFIXES = ("env", "_", "system", "git", "python", "package", "search.", "seed")
MAX_PARAM_AXES = 8


class ParallelCoordinates(Presentable, anywidget.AnyWidget):
    _esm = bundle("parcoords")
    _css = stylesheet("parcoords")
    title = traitlets.Unicode("").tag(sync=True)
    runs = traitlets.List(traitlets.Unicode()).tag(sync=True)  # run ids: unique, what selection holds
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)  # what the table shows for each run
    groups = traitlets.List(traitlets.Unicode()).tag(sync=True)
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)  # {name, kind, values, labels?}
    brushes = traitlets.Dict().tag(sync=True)  # axis name -> [low, high], set by the front-end
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)  # run ids
    filtered = traitlets.List(traitlets.Unicode()).tag(sync=True)  # run ids inside every brush


class Curves(Presentable, anywidget.AnyWidget):
    """Line charts side by side: ``panels`` = [{title, xlabel, ylabel, integer_x, lines: [{name, x, y}]}]."""

    _esm = bundle("curves")
    _css = stylesheet("curves")
    panels = traitlets.List(traitlets.Dict()).tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the menu of the first panel
    metric = traitlets.Unicode("").tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)


class RunComparison(ipywidgets.VBox):  # type: ignore[misc]
    """Table + parallel coordinates, metric curves of the selected runs, best-so-far per group.

    Runs are told apart by their id: a run logged twice under one name (a notebook run again) is
    two rows, numbered in run order (#1, #2), and the same run read twice is one row.
    """

    def __init__(
        self,
        runs: Any,
        history: Any = None,
        objective: str | None = None,
        maximize: bool | None = None,
        title: str = "",
        metric: str | None = None,
        present: bool | None = None,
    ) -> None:
        names = _first(runs, RUN_NAME_COLUMNS)
        if names is None:
            raise ValueError(
                f"compare_runs: the runs table has no run-name column (one of {', '.join(RUN_NAME_COLUMNS)})."
            )
        ids = _first(runs, RUN_ID_COLUMNS) or names
        self.table = runs.drop_duplicates(subset=[ids], keep="last").reset_index(drop=True)
        self.history = history
        self.run_ids = [str(v) for v in self.table[ids]]
        self.run_names = [str(v) for v in self.table[names]]
        self._history_key = "id" if history is not None and "id" in getattr(history, "columns", ()) else "run"
        self._keys = self.run_ids if self._history_key == "id" else self.run_names
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
        excluded = {names, ids, group, self.objective}
        self.params = _param_columns(self.table, excluded, metrics)
        extra = {} if present is None else {"present": bool(present)}
        self.parcoords = ParallelCoordinates(
            title=title or "Runs",
            runs=self.run_ids,
            labels=_labels(self.run_names, self.groups),
            groups=self.groups,
            columns=[_column(self.table, p, "param") for p in self.params]
            + [_column(self.table, self.objective, "objective")],
            filtered=self.run_ids,
            **extra,
        )
        options = sorted(metrics, key=lambda m: (m != self.objective, m)) or [self.objective]
        if metric is not None and metric not in options:
            raise ValueError(f"compare_runs: metric={metric!r} was not logged; choose from {', '.join(options)}.")
        self.curves = Curves(
            metrics=options, metric=metric or options[0], note="select runs in the table to draw theirs", **extra
        )
        self._panels: list[dict[str, Any]] = [{}, self._best_panel()]
        self._draw_curves()
        self.parcoords.observe(lambda _: self._draw_curves(), names=["selected", "filtered"])
        self.curves.observe(lambda _: self._draw_curves(), names="metric")
        super().__init__([self.parcoords, self.curves], layout={"width": "100%"})
        self.add_class("ipytune-compare")

    @property
    def selected_runs(self) -> Any:
        """The rows of the runs table selected in the front-end (by run id)."""
        chosen = set(self.parcoords.selected)
        return self.table[[r in chosen for r in self.run_ids]]

    # -- line charts ------------------------------------------------------------------------------------
    def _draw_curves(self) -> None:
        shown = set(self.parcoords.selected or self.parcoords.filtered or self.run_ids)
        metric = self.curves.metric
        rows = [k for k, r in enumerate(self.run_ids) if r in shown]
        series: dict[int, Any] = {}
        if self.history is not None and len(self.history):
            h = self.history[self.history["metric"] == metric]
            by_run = {key: part.sort_values("step") for key, part in h.groupby(h[self._history_key].astype(str))}
            series = {k: by_run[self._keys[k]] for k in rows if self._keys[k] in by_run}
        if series and max(len(part) for part in series.values()) > 1:  # curves: the metric against step
            lines = [
                _line(self.parcoords.labels[k], part["step"].tolist(), part["value"].tolist())
                for k, part in series.items()
            ]
            title, xlabel = f"{metric}: {len(lines)} run{'s' * (len(lines) != 1)}", "step"
        else:  # one number per run (an ipytune trial): the metric against trial, one line per search
            values = {k: float(part["value"].iloc[-1]) for k, part in series.items()}
            if not series and metric in self.table:
                values = {k: float(v) for k in rows if not _missing(v := self.table[metric].iloc[k])}
            members = self._by_group([k for k in rows if k in values])
            lines = [
                _line(group or "(no group)", [self._trial(k) for k in ks], [values[k] for k in ks])
                for group, ks in members.items()
            ]
            n = sum(len(ks) for ks in members.values())
            title, xlabel = f"{metric} per trial: {n} run{'s' * (n != 1)}", self._order
        self._panels[0] = {"title": title, "xlabel": xlabel, "ylabel": metric, "integer_x": True, "lines": lines}
        self.curves.panels = list(self._panels)

    def _best_panel(self) -> dict[str, Any]:
        lines = []
        column = self.table[self.objective]
        for group, members in self._by_group(range(len(self.run_ids))).items():
            done = [k for k in members if not _missing(column.iloc[k])]
            if not done:
                continue
            best, running = [], None
            for k in done:
                v = float(column.iloc[k])
                running = v if running is None else (max(running, v) if self.maximize else min(running, v))
                best.append(running)
            lines.append(_line(group or "(no group)", [self._trial(k) for k in done], best))
        return {
            "title": f"best {self.objective} so far, per search",
            "xlabel": self._order,
            "ylabel": f"{self.objective} ({'max' if self.maximize else 'min'})",
            "integer_x": True,
            "lines": lines,
        }

    @property
    def _order(self) -> str:
        """The x axis of one number per run: ipytune's trial numbers, or the runs' order."""
        return "trial" if TRIAL_COLUMN in self.table else "run, in order"

    def _by_group(self, rows: Any) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for k in rows:
            out.setdefault(self.groups[k], []).append(k)
        for members in out.values():
            members.sort(key=self._trial)
        return out

    def _trial(self, k: int) -> float:
        """Run k's trial number in its search, or its place in its group."""
        if TRIAL_COLUMN in self.table and not _missing(v := self.table[TRIAL_COLUMN].iloc[k]):
            return float(v)
        return float(self.groups[: k + 1].count(self.groups[k]) - 1)

    # ipywidgets 7 (Colab's) displays a widget through _ipython_display_, without metadata: use the bundle
    _ipython_display_ = None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, with the metadata Colab's custom widget manager needs (anywidget's own)."""
        try:
            from anywidget._util import repr_mimebundle  # anywidget's bundle, Colab metadata included
        except ImportError:  # an anywidget that moved it: the plain ipywidgets bundle
            return super()._repr_mimebundle_(**kwargs)
        return repr_mimebundle(model_id=self.model_id, repr_text=repr(self))

    def __repr__(self) -> str:
        return summary(self)


def compare_runs(
    project: str,
    objective: str | None = None,
    maximize: bool | None = None,
    metric: str | None = None,
    present: bool | None = None,
) -> RunComparison:
    """Compare the tracked runs of a trackio ``project`` (any project, not only ipytune's).

    ``objective`` is the column on the last parallel axis and in best-so-far (default: the
    search's metric), ``maximize`` its direction, ``metric`` the curves shown first,
    ``present=True`` slide size (default: :func:`ipytune.widgets.presentation`).
    """
    from ipytune.tracking.runs import metric_history, runs

    table = runs(project)
    if table is None or len(table) == 0:
        raise ValueError(f"compare_runs: project {project!r} has no runs (is TRACKIO_DIR the folder that holds it?).")
    history = metric_history(project)
    return RunComparison(
        table, history, objective=objective, maximize=maximize, title=project, metric=metric, present=present
    )


# -- helpers ----------------------------------------------------------------------------------------
def _labels(names: list[str], groups: list[str]) -> list[str]:
    """What the table shows: the run name, numbered in run order where runs of one group share it
    (the group column already tells runs of different searches apart)."""
    keys = list(zip(names, groups, strict=True))
    return [
        f"{n} #{keys[: k + 1].count(key)}" if keys.count(key) > 1 else n
        for k, (n, key) in enumerate(zip(names, keys, strict=True))
    ]


def _line(name: str, x: list[Any], y: list[Any]) -> dict[str, Any]:
    return {"name": name, "x": rounded(x), "y": rounded(y)}


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
