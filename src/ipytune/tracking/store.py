"""Write runs into trackio's own SQLite storage, many runs per transaction.

``trackio.init`` + ``finish`` cost about 10 ms per run (more under load) and
print a banner each time; a search may finish hundreds of trials a second. So
the writer thread writes rows the way trackio's ``SQLiteStorage.bulk_log``
does (same tables, same serialisation, same cross-process lock), but for a
whole batch of runs in one transaction. The result is an ordinary trackio
project: its dashboard and ``trackio.Api`` read it like any other.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ipytune.tracking import home
from ipytune.tracking.records import RunRows

_ready: set[Path] = set()  # databases whose schema init_db has checked in this process


def write_runs(folder: Path, project: str, runs: Sequence[RunRows]) -> None:
    """Write ``runs`` (all of one project) in one transaction; raises whatever trackio or SQLite raised."""
    from trackio.sqlite_storage import SQLiteStorage
    from trackio.utils import serialize_values, to_json_safe

    def dumps(values: dict[str, Any]) -> bytes:
        # trackio's own encoding: NaN/inf become strings, everything else plain JSON (trackio reads it with orjson)
        safe = serialize_values(to_json_safe(values))  # type: ignore[no-untyped-call]
        return json.dumps(safe, separators=(",", ":"), allow_nan=False).encode()

    metric_rows = [
        (timestamp, run.run_id, run.name, step, dumps(metrics), uuid.uuid4().hex)
        for run in runs
        for step, metrics, timestamp in run.rows
    ]
    config_rows = [
        (run.run_id, run.name, dumps(config), run.created) for run in runs if (config := run.full_config()) is not None
    ]
    with home.pointed_at(folder):
        SQLiteStorage.validate_project_name(project)
        db_path = SQLiteStorage.get_project_db_path(project)
        if db_path not in _ready or not db_path.exists():
            SQLiteStorage.init_db(project)  # creates or migrates the schema; ~20 ms, so once
            _ready.add(db_path)
        with SQLiteStorage._get_process_lock(project), SQLiteStorage._get_connection(db_path) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO metrics (timestamp, run_id, run_name, step, metrics, log_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                metric_rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO configs (run_id, run_name, config, created_at) VALUES (?, ?, ?, ?)",
                config_rows,
            )
