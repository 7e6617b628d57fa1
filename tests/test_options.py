"""One path from a magic's line to the settings: parsed and validated once, shared by %%tune and %automl.

Parsing is tested here with nothing run; the searches themselves are tested elsewhere.
"""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

from ipytune.magics.options import parse_tune_line
from ipytune.search.settings import Scoring, SearchSettings


def test_a_tune_line_becomes_the_engines_and_the_trackers_settings() -> None:
    options = parse_tune_line(
        "--method gp --trials 7 --minimize --seeds 3,4 --data X y --cv 4 --prune median --project p --metric-name loss"
    )
    assert options.settings() == SearchSettings(
        method="gp",
        n_trials=7,
        direction="minimize",
        seed=3,  # the first of --seeds seeds the sampler
        seeds=(3, 4),
        scoring=Scoring(data=("X", "y"), cv=4),
        prune="median",
    )
    tracking = options.tracking()
    assert tracking is not None
    assert (tracking.method, tracking.project, tracking.metric_name, tracking.seeds) == ("gp", "p", "loss", (3, 4))
    assert parse_tune_line("--no-track").tracking() is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SearchSettings(method="annealing"), "--method 'annealing' is not one of"),  # type: ignore[arg-type]
        (lambda: SearchSettings(n_trials=0), "--trials 0"),
        (lambda: SearchSettings(timeout=-1), "--timeout -1"),
        (lambda: SearchSettings(prune="sometimes"), "--prune 'sometimes'"),  # type: ignore[arg-type]
        (lambda: Scoring(cv=1), "--cv 1"),
    ],
)
def test_settings_check_themselves_where_they_are_made(make: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make()


def test_automl_line_uses_the_shared_flags_and_the_tune_magics_defaults(
    ip: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipytune.honest.automl

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(ipytune.honest.automl, "automl", lambda X, y, **kwargs: calls.append(kwargs))
    ip.user_ns.update(X=[[0.0]] * 10, y=[0, 1] * 5)  # type: ignore[attr-defined]
    ip.run_line_magic("config", "TuneMagics.default_method = 'random'")  # type: ignore[attr-defined]
    ip.run_line_magic("config", "TuneMagics.storage = 'memory'")  # type: ignore[attr-defined]
    try:
        ip.run_line_magic("automl", "--data X y --families knn,svm --trials 3 --cv 4 --study zoo --quiet")  # type: ignore[attr-defined]
    finally:
        ip.run_line_magic("config", "TuneMagics.default_method = 'tpe'")  # type: ignore[attr-defined]
        ip.run_line_magic("config", "TuneMagics.storage = ''")  # type: ignore[attr-defined]
    (kwargs,) = calls
    assert kwargs["method"] == "random"  # %config TuneMagics.* reaches %automl too
    assert kwargs["storage"] == "memory"
    assert (kwargs["families"], kwargs["trials"], kwargs["cv"], kwargs["study"]) == (("knn", "svm"), 3, 4, "zoo")
    (_progress, tracker) = kwargs["observers_for"]("knn")
    assert (tracker.settings.method, tracker.settings.project) == ("random", "zoo")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--data X y --method annealing", "invalid choice"),
        ("--data X y --seed -1", "--seed"),
        ("--data X y --nested 1", "--nested 1"),
        ("--data X y --project registry-x", "--project"),
    ],
)
def test_automl_misuse_is_one_line(ip: object, line: str, message: str) -> None:
    outcome = ip.run_cell(f"%automl {line}")  # type: ignore[attr-defined]
    assert isinstance(outcome.error_in_exec, UsageError)
    assert message in str(outcome.error_in_exec)


def test_a_notebook_kernel_is_recognised_by_type_not_by_name() -> None:
    from ipykernel.zmqshell import ZMQInteractiveShell
    from IPython.core.interactiveshell import InteractiveShell

    from ipytune.magics._shell import in_kernel

    class ColabLikeShell(ZMQInteractiveShell):  # Colab's google.colab._shell.Shell is such a subclass
        pass

    assert in_kernel(object.__new__(ColabLikeShell))
    assert not in_kernel(object.__new__(InteractiveShell))


def test_settings_never_show_the_storage_url() -> None:
    settings = SearchSettings(storage="postgresql://user:secret@127.0.0.1/db")
    assert "secret" not in repr(settings)
    assert settings.storage == "postgresql://user:secret@127.0.0.1/db"
