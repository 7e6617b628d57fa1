"""Faults of the storage, on real files and real processes (issue 10: nothing lost, nothing leaked).

- a journal cut mid-line by a crash, or poisoned the old way (a write glued to the cut line);
- a journal with a garbled line in the middle;
- a file that is no journal, or a folder where the journal should be;
- the ``.ipytune`` folder removed between two cells;
- several processes creating one new SQLite storage at once;
- a storage URL's password, wherever a URL is shown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest
from IPython.core.error import UsageError
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from ipytune.errors import IpytuneWarning
from ipytune.search.storage import Heartbeat, mask_url, open_storage
from tests.conftest import run

JOURNAL = Path(".ipytune") / "studies.journal"
TRIVIAL = "x = tune.float(0, 1)\nx"
PASSWORD_URL = "postgresql://user:secret@127.0.0.1:1/db"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def write_studies(folder: Path, studies: dict[str, int]) -> None:
    """Another process writes ``studies`` (name -> trials, values 0, 1, ...) to ``folder``'s default journal."""
    code = textwrap.dedent(
        f"""
        import optuna
        from ipytune.search.storage import open_storage
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = open_storage(None)
        for name, n in {studies!r}.items():
            study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
            for i in range(n):
                trial = study.ask()
                trial.suggest_float("x", 0, 1)
                study.tell(trial, float(i))
        """
    )
    subprocess.run([sys.executable, "-c", code], cwd=folder, check=True, timeout=120)


def plain_optuna_values(path: Path) -> dict[str, list[float | None]]:
    """Every study of the journal at ``path`` as Optuna alone reads it."""
    storage = JournalStorage(JournalFileBackend(str(path)))
    return {
        s.study_name: [t.value for t in optuna.load_study(study_name=s.study_name, storage=storage).trials]
        for s in storage.get_all_studies()
    }


def values(path: Path) -> dict[str, list[float | None]]:
    """Every study of the journal at ``path`` as ipytune reads it (in this process)."""
    storage = open_storage(str(path))
    return {
        s.study_name: [t.value for t in optuna.load_study(study_name=s.study_name, storage=storage).trials]
        for s in storage.get_all_studies()
    }


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


# -- item 1: a journal cut mid-line ------------------------------------------------------------------
def test_a_journal_cut_mid_line_is_repaired_with_one_line_and_every_study_kept(ip: Any, tmp_path: Path) -> None:
    write_studies(tmp_path, {"a": 3, "b": 3})
    journal = tmp_path / JOURNAL
    whole = journal.read_bytes()
    journal.write_bytes(whole[:-40])  # the machine crashed during the last write: its end never reached the disk

    with pytest.warns(IpytuneWarning) as warned:
        run(ip, f"%%tune --study a --trials 2 --quiet --no-track\n{TRIVIAL}")

    assert len(warned) == 1
    message = str(warned[0].message)
    assert "\n" not in message
    assert str(journal) in message
    assert "cut off" in message
    assert journal.read_bytes().endswith(b"\n")
    studies = plain_optuna_values(journal)  # the new trials were appended as whole lines: Optuna alone reads them
    assert studies["b"] == [0.0, 1.0, None]  # the cut write was b's last trial's value: that trial stays unfinished
    assert studies["a"][:3] == [0.0, 1.0, 2.0]
    assert len(studies["a"]) == 5
    assert all(v is not None for v in studies["a"])


def test_a_journal_poisoned_the_old_way_reads_again_and_names_the_line(ip: Any, tmp_path: Path) -> None:
    """The bug: a crash cut the last line, the next write was glued to it, and every study became unreadable."""
    write_studies(tmp_path, {"a": 3, "b": 3})
    journal = tmp_path / JOURNAL
    cut_at = len(journal.read_bytes())
    with journal.open("ab") as f:
        f.write(b'{"op_code":6,"worker_id":"crashed","trial_id":5,"sta')  # the crash, mid-write
    plain = textwrap.dedent(
        """
        import sys, optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
        storage = JournalStorage(JournalFileBackend(".ipytune/studies.journal"))
        optuna.create_study(study_name=sys.argv[1], storage=storage)
        """
    )
    for name in ("c", "d"):  # two more processes, with Optuna alone: c is glued to the cut line, then d fails on it
        glued = subprocess.run([sys.executable, "-c", plain, name], cwd=tmp_path, capture_output=True, timeout=120)
        assert glued.returncode != 0
    with pytest.raises(json.JSONDecodeError):
        plain_optuna_values(journal)  # the file is poisoned: Optuna alone reads no study of it
    glued_line = len(lines(journal)) - 1
    before = journal.read_bytes()

    with pytest.warns(IpytuneWarning) as warned:
        run(ip, f"%%tune --study b --trials 1 --quiet --no-track\n{TRIVIAL}")

    assert [str(w.message) for w in warned] == [
        f"{journal}: line {glued_line} cannot be read (damaged): skipped what was lost there; "
        f"every other record and study is read."
    ]
    studies = values(journal)
    assert studies["a"] == [0.0, 1.0, 2.0]
    assert studies["b"][:3] == [0.0, 1.0, 2.0]
    assert len(studies["b"]) == 4
    assert studies["c"] == []  # the study glued after the cut write is kept
    assert studies["d"] == []
    assert journal.read_bytes().startswith(before)  # the damaged line stays; new records come after it
    assert len(before) > cut_at


@pytest.mark.parametrize("op_code", [0, 4, 5, 6], ids=["create-study", "create-trial", "set-param", "set-state"])
def test_a_garbled_line_in_the_middle_is_skipped_and_named_and_the_other_studies_read(
    ip: Any, tmp_path: Path, op_code: int
) -> None:
    write_studies(tmp_path, {"a": 3, "b": 3, "c": 3})
    journal = tmp_path / JOURNAL
    content = lines(journal)
    b_id = 1
    b_lines = [  # study b's records: its creation, then its trials' (trial ids 3, 4, 5)
        i
        for i, line in enumerate(content)
        if json.loads(line).get("study_id") == b_id
        or json.loads(line).get("trial_id") in (3, 4, 5)
        or json.loads(line).get("study_name") == "b"
    ]
    index = next(i for i in b_lines[1:] + b_lines[:1] if json.loads(content[i])["op_code"] == op_code)
    line = bytearray(content[index])
    line[15:40] = b"\x00\xff garbled \xfe" + b"\x00" * 12  # bytes lost in the worker id: not JSON any more
    content[index] = bytes(line)
    journal.write_bytes(b"".join(content))
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        plain_optuna_values(journal)  # Optuna alone reads none of the studies

    with pytest.warns(IpytuneWarning) as warned:
        run(ip, f"%%tune --study c --trials 1 --quiet --no-track\n{TRIVIAL}")

    assert [str(w.message) for w in warned] == [
        f"{journal}: line {index + 1} cannot be read (damaged): skipped what was lost there; "
        f"every other record and study is read."
    ]
    studies = values(journal)
    assert studies["a"] == [0.0, 1.0, 2.0]
    assert studies["c"][:3] == [0.0, 1.0, 2.0]
    assert len(studies["c"]) == 4
    expected_b = {0: [0.0, 1.0, 2.0], 4: [0.0, 1.0, 2.0], 5: [0.0, 1.0, 2.0], 6: [None, 1.0, 2.0]}[op_code]
    assert studies["b"] == expected_b  # a lost parameter or state costs that record only


@pytest.mark.parametrize("content", ["folder", "binary", "binary-no-newline"])
def test_a_storage_that_cannot_be_read_is_one_line_and_left_as_it_is(ip: Any, tmp_path: Path, content: str) -> None:
    journal = tmp_path / JOURNAL
    journal.parent.mkdir()
    garbage = bytes(range(256)) * 20
    if content == "folder":
        journal.mkdir()
    else:
        journal.write_bytes(garbage if content == "binary" else garbage.replace(b"\n", b"."))
    before = b"" if content == "folder" else journal.read_bytes()

    with pytest.raises(UsageError) as raised:
        run(ip, f"%%tune --trials 1 --quiet --no-track\n{TRIVIAL}")

    message = str(raised.value)
    assert "\n" not in message
    assert str(journal) in message
    assert "move it away" in message
    assert journal.is_dir() if content == "folder" else journal.read_bytes() == before


# -- item 3: the storage folder removed mid-session ----------------------------------------------
def test_removing_the_storage_folder_between_cells_starts_a_new_journal(ip: Any, tmp_path: Path) -> None:
    run(ip, f"%%tune --study s --trials 2 --quiet --no-track\n{TRIVIAL}")
    shutil.rmtree(tmp_path / ".ipytune")  # "start over"

    result: Any = run(ip, f"%%tune --study s --trials 3 --quiet --no-track\n{TRIVIAL}")

    assert len(result.study.trials) == 3
    assert [len(v) for v in plain_optuna_values(tmp_path / JOURNAL).values()] == [3]


@pytest.mark.parametrize("removed", [".ipytune", "studies.journal"])
def test_the_journal_removed_during_a_search_is_one_line_then_the_next_cell_works(
    ip: Any, tmp_path: Path, removed: str
) -> None:
    ip.user_ns["trials_run"] = []
    cell = (
        "%%tune --study s --trials 4 --quiet --no-track\n"
        "import shutil\n"
        "x = tune.float(0, 1)\n"
        "trials_run.append(x)\n"
        "if len(trials_run) == 2:\n"
        f"    shutil.rmtree('.ipytune') if {removed!r} == '.ipytune' else os.remove('.ipytune/studies.journal')\n"
        "x"
    )

    run(ip, "import os")
    with pytest.raises(UsageError) as raised:
        run(ip, cell)
    result: Any = run(ip, f"%%tune --study s --trials 2 --quiet --no-track\n{TRIVIAL}")

    assert str(raised.value) == (
        f"{tmp_path / JOURNAL} was removed while the search ran: this search stopped there. "
        f"Run the cell again to start a new journal."
    )
    assert len(result.study.trials) == 2


def test_a_journal_replaced_between_cells_is_read_anew(ip: Any, tmp_path: Path) -> None:
    run(ip, f"%%tune --study s --trials 2 --quiet --no-track\n{TRIVIAL}")
    other = tmp_path / "other"
    other.mkdir()
    write_studies(other, {"s": 5})
    (tmp_path / JOURNAL).unlink()
    shutil.copy(other / JOURNAL, tmp_path / JOURNAL)

    result: Any = run(ip, f"%%tune --study s --trials 1 --quiet --no-track\n{TRIVIAL}")

    assert [t.value for t in result.study.trials][:5] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(result.study.trials) == 6


# -- item 4: two processes creating one new SQLite storage ----------------------------------------
RACE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ipytune.search.storage import open_storage
    import optuna.storages  # everything imported before the start
    folder = Path(sys.argv[2])
    (folder / f"ready-{sys.argv[3]}").touch()
    while not (folder / "go").exists():
        time.sleep(0.0005)
    try:
        open_storage(sys.argv[1])
        print("ok")
    except BaseException as error:
        print(f"{type(error).__name__}: {error}")
    """
)


def test_processes_opening_a_new_sqlite_storage_at_once_all_open_it(tmp_path: Path) -> None:
    processes, rounds = 3, 4
    for n in range(rounds):
        folder = tmp_path / f"round-{n}"
        folder.mkdir()
        url = f"sqlite:///{folder / 'studies.db'}"
        running = [
            subprocess.Popen([sys.executable, "-c", RACE, url, str(folder), str(i)], stdout=subprocess.PIPE, text=True)
            for i in range(processes)
        ]
        deadline = time.monotonic() + 120
        while len(list(folder.glob("ready-*"))) < processes and time.monotonic() < deadline:
            time.sleep(0.01)
        (folder / "go").touch()
        outputs = [p.communicate(timeout=120)[0].strip() for p in running]

        assert outputs == ["ok"] * processes, f"round {n}: {outputs}"


# -- item 5: a storage URL's password -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (PASSWORD_URL, "postgresql://user:***@127.0.0.1:1/db"),
        (
            "postgresql+psycopg://u:s%40cret@h:5432/db?sslmode=require",
            "postgresql+psycopg://u:***@h:5432/db?sslmode=require",
        ),
        ("postgresql://u:se@cr/et@h/db", "postgresql://u:***@h/db"),  # unescaped: SQLAlchemy itself shows 'cr/et'
        ("mysql+pymysql://:secret@h/db", "mysql+pymysql://:***@h/db"),
        ("postgresql://h/db?user=u&password=secret", "postgresql://h/db?user=u&password=***"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db"),
        ("sqlite:///studies.db", "sqlite:///studies.db"),
        (".ipytune/studies.journal", ".ipytune/studies.journal"),
        ("memory", "memory"),
    ],
)
def test_mask_url_hides_every_password_and_nothing_else(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_password_in_a_storage_error_is_masked_heartbeat_storage_too() -> None:
    for heartbeat in (None, Heartbeat()):
        with pytest.raises(UsageError) as raised:
            open_storage(PASSWORD_URL, heartbeat=heartbeat)
        message = str(raised.value)
        assert "secret" not in message
        assert "\n" not in message
        assert message.startswith("--storage postgresql://user:***@127.0.0.1:1/db: cannot open it")


@pytest.mark.parametrize("where", ["--storage", "%config", "%automl"])
def test_a_password_never_shows_in_a_magics_storage_error(
    ip: Any, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "%config":
        ip.run_line_magic("config", f"TuneMagics.storage = {PASSWORD_URL!r}")
    cell = {
        "--storage": f"%%tune --trials 1 --quiet --no-track --storage {PASSWORD_URL}\n{TRIVIAL}",
        "%config": f"%%tune --trials 1 --quiet --no-track\n{TRIVIAL}",
        "%automl": (
            "import numpy as np\nX = np.arange(40.0).reshape(20, 2)\ny = np.arange(20) % 2\n"
            f"%automl --data X y --trials 1 --quiet --no-track --storage {PASSWORD_URL}"
        ),
    }[where]
    try:
        result = ip.run_cell(cell)
    finally:
        ip.run_line_magic("config", "TuneMagics.storage = ''")

    error = result.error_in_exec or result.error_before_exec
    assert isinstance(error, UsageError)
    shown = capsys.readouterr()
    assert "user:***@127.0.0.1:1/db" in str(error)
    assert "secret" not in str(error) + shown.out + shown.err


def test_the_study_and_the_tracked_runs_never_hold_the_password(ip: Any, postgres_url: str, trackio_dir: Path) -> None:
    scheme, rest = postgres_url.split("://", 1)
    userinfo, host = rest.rsplit("@", 1) if "@" in rest else ("postgres", rest)
    url = f"{scheme}://{userinfo.split(':')[0]}:secret-{uuid.uuid4().hex[:6]}@{host}"  # trust auth: any password
    secret = url.split(":")[2].split("@")[0]
    name = f"pw-{uuid.uuid4().hex[:8]}"

    result: Any = run(ip, f"%%tune --study {name} --trials 2 --quiet --storage {url}\n{TRIVIAL}")

    study = result.study
    storage = open_storage(url)
    study_id = storage.get_study_id_from_name(name)
    recorded = [storage.get_study_user_attrs(study_id), storage.get_study_system_attrs(study_id)]
    recorded += [(t.user_attrs, t.system_attrs) for t in study.trials]
    assert secret not in repr(recorded) + repr(result) + str(result)
    tracked = b"".join(p.read_bytes() for p in trackio_dir.rglob("*") if p.is_file())
    assert name.encode() in tracked  # the runs were written...
    assert secret.encode() not in tracked  # ...without the password


def test_the_parsed_options_never_show_the_password(ip: Any) -> None:
    from ipytune.magics.options import parse_automl_line, parse_tune_line

    tune = parse_tune_line(f"--storage {PASSWORD_URL}")
    automl = parse_automl_line(f"--data X y --storage {PASSWORD_URL}", {}, magic=ip.find_line_magic("automl"))

    assert tune.storage == automl.storage == PASSWORD_URL  # kept to open the storage...
    assert "secret" not in repr(tune) + repr(automl)  # ...never shown
