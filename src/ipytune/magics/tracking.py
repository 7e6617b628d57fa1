"""``%compare_runs`` and ``%trackio_show``: look at tracked runs from the notebook."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ipytune.magics._shell import check_line, in_kernel

LOCALHOST = "127.0.0.1"


@magics_class
class TrackingMagics(Magics):
    """Magics over trackio projects (any project, not only ipytune's)."""

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self._dashboard: Any = None
        self.dashboard_url: str | None = None

    @magic_arguments()
    @argument("project", nargs="?", default=None, help="trackio project (default: the last tracked search's).")
    @argument("--sort", default=None, metavar="METRIC", help="Column to sort by (default: the search's objective).")
    @argument("--ascending", action="store_true", help="Sort smallest first (default: largest first).")
    @argument("--all", action="store_true", help="Also show env.* columns and run ids.")
    @argument("--tags", default=None, metavar="T1,T2,...", help="Only the runs with every one of these tags.")
    @line_magic
    def compare_runs(self, line: str) -> Any:
        """Show a trackio project's runs as a table: name, group, state, config, final metrics."""
        from ipytune.tracking.runs import runs

        check_line(line)
        args = parse_argstring(self.compare_runs, line)
        project = _project(args.project)
        table = runs(project, tags=args.tags)
        if table.empty:
            return table
        column, ascending = _sort_key(table, args.sort, args.ascending)  # a bad --sort fails here, either way
        if in_kernel(self.shell):
            from ipytune.widgets.compare import compare_runs

            numeric = args.sort is not None and column is not None and _numeric(table[column])
            objective: dict[str, Any] = {"objective": column, "maximize": not ascending} if numeric else {}
            if args.tags is not None:
                return _tagged_comparison(project, table, args.tags, objective)
            return compare_runs(project, **objective)
        if column is not None:
            table = table.sort_values(column, ascending=ascending, kind="stable", na_position="last")
        if not args.all:
            table = table.drop(columns=[c for c in table.columns if c.startswith("env.") or c == "id"])
        return table.reset_index(drop=True)

    @magic_arguments()
    @argument("project", nargs="?", default=None, help="Project to open (default: trackio's project list).")
    @argument("--port", type=int, default=None, help="Port to serve on (default: trackio's, from 7860).")
    @argument("--stop", action="store_true", help="Stop the dashboard this magic started.")
    @line_magic
    def trackio_show(self, line: str) -> Any:
        """Open trackio's dashboard on this machine only (127.0.0.1, never a public share link)."""
        check_line(line)
        args = parse_argstring(self.trackio_show, line)
        if args.port is not None and not 1024 <= args.port <= 65535:
            raise UsageError(f"--port {args.port}: choose a free port from 1024 to 65535 (default: trackio's).")
        self._stop_dashboard()
        if args.stop:
            return None
        from ipytune.tracking import _trackio  # before trackio: it loads rich without moving Python's random

        _trackio.use(_trackio.trackio_dir())
        import trackio

        # trackio.show's documented result: (app, url, share_url, full_url); full_url adds a write token
        self._dashboard, self.dashboard_url, share_url, _ = trackio.show(
            project=args.project,
            host=LOCALHOST,
            share=False,
            server_port=args.port,
            open_browser=False,
            block_thread=False,
        )
        assert share_url is None, "trackio opened a public share link"  # share=False above: never expected
        print(f"trackio dashboard: {self.dashboard_url}" + (f"?project={args.project}" if args.project else ""))
        return None

    def _stop_dashboard(self) -> None:
        if self._dashboard is not None:
            try:
                self._dashboard.close()
            finally:
                self._dashboard = self.dashboard_url = None


def _project(name: str | None) -> str:
    if name:
        return name
    from ipytune.tracking.observer import last_tracked_project

    project = last_tracked_project()
    if project is None:
        from ipytune.tracking.runs import projects

        known = ", ".join(projects()) or "none yet"
        raise UsageError(f"%compare_runs needs a project name (no search was tracked yet); projects: {known}.")
    return project


def _tagged_comparison(project: str, table: Any, tags: str, objective: dict[str, Any]) -> Any:
    """The run-comparison widget on the tagged runs only."""
    from ipytune.tracking.runs import metric_history
    from ipytune.widgets.compare import RunComparison

    history = metric_history(project, tags=tags)
    return RunComparison(table, history, title=f"{project} · tags {tags}", **objective)


def _numeric(column: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column))


def _sort_key(table: Any, sort: str | None, ascending: bool) -> tuple[str | None, bool]:
    """--sort, else the objective of an ipytune search in its own direction, else newest first."""
    if sort is not None:
        if sort not in table.columns:
            metrics = ", ".join(str(c) for c in table.columns if c not in ("name", "group", "state", "created", "id"))
            raise UsageError(f"--sort {sort!r}: no such column; choose from {metrics}.")
        return sort, ascending
    if "search.metric" in table.columns:
        metric = table["search.metric"].dropna()
        if not metric.empty and metric.iloc[0] in table.columns:
            direction = table.get("search.direction")
            minimize = direction is not None and (direction == "minimize").any()
            return str(metric.iloc[0]), bool(minimize)
    return ("created", False) if "created" in table.columns else (None, ascending)
