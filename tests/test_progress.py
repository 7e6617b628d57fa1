"""Live progress: redraws are throttled however fast trials finish, and the final state is always drawn."""

from __future__ import annotations

import io

import optuna

from ipytune.search.progress import TextProgress, format_params


def test_text_progress_is_throttled_and_ends_with_the_final_state():
    study = optuna.create_study(direction="minimize", storage=optuna.storages.InMemoryStorage())
    stream = io.StringIO()
    progress = TextProgress("random", stream=stream)
    progress.start(study, total=1000)
    for i in range(1000):
        trial = study.ask()
        frozen = study.tell(trial, float(1000 - i))
        progress.update(study, frozen)
    progress.finish(study, "completed")
    draws = stream.getvalue().split("\r")[1:]
    assert len(draws) < 20  # 1,000 fast trials, a handful of redraws
    assert draws[-1] == "[random] trial 1000/1000 · " + draws[-1].split(" · ", 1)[1]
    assert "best 1 (trial 999)" in draws[-1]
    assert draws[-1].endswith("\n")


def test_resumed_study_starts_from_its_best():
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=5.0))
    stream = io.StringIO()
    progress = TextProgress("tpe", stream=stream)
    progress.start(study, total=0)
    progress.finish(study, "completed")
    assert "best 5 (trial 0)" in stream.getvalue()


def test_long_parameter_lists_are_shortened():
    text = format_params({f"p{i}": i * 1.23456789 for i in range(40)}, limit=60)
    assert len(text) == 60
    assert text.endswith("…")
    assert format_params({"lr": 0.000123456}) == "lr=0.0001235"
