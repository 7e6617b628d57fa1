"""Trials whose process died: who runs each trial, and failing a dead process's trials when a study opens.

Optuna's journal file and SQLite storages have no heartbeat: a trial whose process is
killed (``kill -9``, a crashed kernel, a dead worker process) stays RUNNING for ever,
and a grid point it held is never run again. So a worker's trial records its *owner*
in its system attributes as soon as it is asked for: the host name, the process id,
the parallel run it belongs to and the worker's index. A search in the kernel runs
one trial at a time and does not pay a write per trial: it registers its process on
the study once (:func:`register_process`), and a RUNNING trial with no owner of its
own is failed when every process registered on the study is on this host and gone
(a kernel killed mid-trial); while any may be alive, or one is elsewhere, it is left. When a study is
opened (:func:`ipytune.search.engine.open_study`), the RUNNING trials whose owner is
on this host and whose process is gone are failed, with a ``fail_reason`` saying so;
a grid search then runs their points again.

A trial owned by another host is left alone: its process cannot be checked from here
(a cluster's storage has heartbeats for that), and so is a trial with no owner in a
study no registered process explains (an older ipytune's). A recycled process id reads as alive: the trial then stays RUNNING,
which is the safe mistake.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from ipytune.search.settings import FAIL_REASON

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

OWNER = "ipytune:owner"  # system attr: {"host": str, "pid": int, "run": str | None, "worker": int | None}

HOST = socket.gethostname()


def owner(run: str | None = None, worker: int | None = None) -> dict[str, Any]:
    """This process, as a trial's owner; ``run`` and ``worker`` name a parallel search and its worker."""
    return {"host": HOST, "pid": os.getpid(), "run": run, "worker": worker}


def record_owner(study: optuna.Study, trial: optuna.Trial, run: str | None = None, worker: int | None = None) -> None:
    """Write this process into ``trial``'s system attributes (one storage write)."""
    from ipytune.search._optuna import set_trial_system_attr

    set_trial_system_attr(study, trial, OWNER, owner(run, worker))


PROCESS = "ipytune:process:"  # study system attr prefix: one key per process that ran trials of the study


def register_process(study: optuna.Study) -> None:
    """Write this process into the study's system attributes (one storage write per search)."""
    key = f"{PROCESS}{HOST}:{os.getpid()}"
    storage, study_id = study._storage, study._study_id
    if key not in storage.get_study_system_attrs(study_id):
        storage.set_study_system_attr(study_id, key, True)


def _registered_all_dead(study: optuna.Study) -> list[str]:
    """The pids of the study's registered processes if every one is a gone process of this host, else []."""
    keys = study._storage.get_study_system_attrs(study._study_id)
    found = [key[len(PROCESS) :].rpartition(":") for key in keys if key.startswith(PROCESS)]
    if all(host == HOST and pid.isdigit() and not is_alive(int(pid)) for host, _, pid in found):
        return [pid for _, _, pid in found]
    return []


def owner_of(trial: FrozenTrial) -> dict[str, Any]:
    """The owner recorded on ``trial`` ({} when none was)."""
    found = trial.system_attrs.get(OWNER)
    return found if isinstance(found, dict) else {}


def is_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:  # Linux: a killed child not yet reaped by its parent is a zombie
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_dead(trial: FrozenTrial) -> bool:
    """Whether ``trial``'s recorded owner is a process of this host that no longer exists."""
    found = owner_of(trial)
    pid = found.get("pid")
    return found.get("host") == HOST and isinstance(pid, int) and pid != os.getpid() and not is_alive(pid)


def fail_trials(study: optuna.Study, trials: list[FrozenTrial], reason: str) -> list[int]:
    """Tell each of ``trials`` FAIL with ``reason`` (skipping any that finished meanwhile); their numbers."""
    from optuna.trial import TrialState

    from ipytune.search._optuna import set_trial_user_attr

    failed = []
    for trial in trials:
        try:
            set_trial_user_attr(study, trial, FAIL_REASON, reason)
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        except (RuntimeError, ValueError):  # it finished in the meantime (another process told it)
            continue
        failed.append(trial.number)
    return failed


def fail_dead_trials(study: optuna.Study) -> list[int]:
    """Fail the RUNNING trials whose process, on this host, is gone; returns their numbers."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    dead = [t for t in running if is_dead(t)]
    failed = [number for t in dead for number in fail_trials(study, [t], died(t))]
    unowned = [t for t in running if not owner_of(t)]
    gone = _registered_all_dead(study) if unowned else []
    if gone:
        failed += fail_trials(study, unowned, f"its process (pid {' or '.join(gone)} on {HOST}) died while it ran")
    return failed


def died(trial: FrozenTrial) -> str:
    """The ``fail_reason`` of a trial whose process died."""
    found = owner_of(trial)
    return f"its process (pid {found.get('pid')} on {found.get('host')}) died while it ran"
