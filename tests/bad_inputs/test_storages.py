"""--storage values and studies that cannot be opened or resumed as asked: one line, nothing run, no secret shown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bad_inputs.harness import SECRET, Case, check_refused, tune_cell

RUN_ONCE = "%%tune --method random --trials 1 --study s --storage s.journal --no-track --quiet\nx = tune.int(1, 3)\nx"


def stored(storage: str, says: str, setup: str = "", flags: str = "--trials 2 --no-track") -> Case:
    return Case(tune_cell(f"{flags} --storage {storage}"), says, setup)


CASES = [
    stored("nosuch://x", "--storage").param("unknown-scheme"),
    stored("sqlite:////no/such/folder/s.db", "--storage").param("sqlite-missing-folder"),
    stored(f"postgresql://me:{SECRET}@127.0.0.1:1/db", "--storage").param("postgres-refused"),
    stored(f"mysql://me:{SECRET}@127.0.0.1:1/db", "--storage").param("mysql-no-driver"),
    stored("folder", "--storage", "import os\nos.mkdir('folder')").param("a-folder"),
    stored("notes.txt/studies.journal", "--storage", "open('notes.txt', 'w').close()").param("under-a-file"),
    stored("/proc/studies.journal", "--storage").param("not-writable"),
    stored("s.journal --study s --minimize", "study 's' was created to maximize", RUN_ONCE).param(
        "resume-other-direction"
    ),
    stored("s.journal --study s --method tpe", "study 's' was run with --method random", RUN_ONCE).param(
        "resume-other-method"
    ),
    stored(
        "s.journal --study g --method grid",
        "study 'g' was a grid over x=1..4",
        "%%tune --method grid --trials 1 --study g --storage s.journal --no-track --quiet\nx = tune.int(1, 4)\nx",
    ).param("resume-grid-with-another-space"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_storage_that_cannot_be_used_is_one_line_and_nothing_runs(ip: Any, trackio_dir: Any, case: Case) -> None:
    check_refused(ip, case)


def test_a_password_is_never_shown(ip: Any, trackio_dir: Any) -> None:
    ip.run_line_magic("config", f"TuneMagics.storage = 'postgresql://me:{SECRET}@127.0.0.1:1/db'")
    try:
        check_refused(ip, Case(tune_cell("--trials 2 --no-track"), "--storage"))
    finally:
        ip.run_line_magic("config", "TuneMagics.storage = ''")
