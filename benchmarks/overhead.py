"""What ``%%tune`` costs per trial against hand-written loops on the same work (issue 2, item 10).

Every comparison runs side by side in this one process, alternating the
contenders round by round (ABAB...) so a busy machine slows them alike; the
figure reported is the median over rounds. The objective is trivial,
``(x - 2) ** 2``, so what is measured is the search machinery itself.

    python benchmarks/overhead.py            # full run (a few minutes)
    python benchmarks/overhead.py --quick    # fewer trials and rounds
    python benchmarks/overhead.py --readme   # also write the figures into benchmarks/README.md

Figures are printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from readme_block import (  # benchmarks/ is the script's folder, first on sys.path
    METHOD,
    Results,
    Row,
    load_average,
    machine,
    table,
    write_block,
)

README = Path(__file__).with_name("README.md")
SECTION = "## Overhead (issue 2)"


# --------------------------------------------------------------------------------------
# Contenders: ipytune through a real IPython shell, and the loops a user would write.
# --------------------------------------------------------------------------------------
class Shell:
    """A real ``InteractiveShell`` with ``%load_ext ipytune``; cells run from a chosen folder."""

    def __init__(self) -> None:
        from IPython.core.interactiveshell import InteractiveShell

        self.ip = InteractiveShell.instance()
        self.ip.run_line_magic("load_ext", "ipytune")
        self.no_track = "--no-track" if _has_option("--no-track") else ""
        # Warm up: the first search imports the engine, Optuna, bayes_opt and pandas; no loop pays that twice.
        for method in ("tpe", "random", "gp"):  # 12 trials: past the random start of tpe and gp
            self.run(f"--method {method} --trials 12 --seed 0 --storage memory", TRIVIAL)
        self.run("--method grid --seed 0 --storage memory", "x = tune.int(0, 2)\nx")

    def run(self, line: str, body: str, folder: str | None = None, namespace: dict[str, Any] | None = None) -> float:
        """Seconds to run ``%%tune line`` + ``body``, its summary display included."""
        self.ip.user_ns.update(namespace or {})
        cell = f"%%tune {line} --quiet --no-refit {self.no_track}\n{body}"
        previous = os.getcwd()
        if folder is not None:
            os.chdir(folder)
        try:
            gc.collect()
            with contextlib.redirect_stdout(io.StringIO()):
                start = time.perf_counter()
                result = self.ip.run_cell(cell)
                elapsed = time.perf_counter() - start
        finally:
            os.chdir(previous)
        result.raise_error()
        self.last_best = self.ip.user_ns["tune"].last.best_value
        self.ip.displayhook.flush()  # Out[n] would keep every study of the run alive, and the heap growing
        return elapsed


def _has_option(flag: str) -> bool:
    from ipytune.magics import options

    return any(flag in getattr(a, "args", ((),))[0] for a in getattr(options, "_ARGUMENTS", []))


def quiet_optuna() -> None:
    import optuna

    # ipytune silences Optuna's per-trial log line; a fair hand-written loop does too.
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def make_storage(kind: str, folder: str) -> Any:
    """memory; journal (Optuna's stock journal file, an fsync per write); flushed (ipytune's journal storage)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from ipytune.search._optuna import indexed_journal_storage, journal_file_backend

    if kind == "memory":
        return optuna.storages.InMemoryStorage()
    path = os.path.join(folder, "studies.journal")
    if kind == "journal":
        return JournalStorage(JournalFileBackend(path))
    return indexed_journal_storage(journal_file_backend(path))


def optuna_loop(method: str, n_trials: int, seed: int, storage_kind: str, folder: str) -> float:
    """The ask/tell loop a user would write for the same search."""
    import optuna

    start = time.perf_counter()
    sampler = optuna.samplers.TPESampler(seed=seed) if method == "tpe" else optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler, storage=make_storage(storage_kind, folder))
    for _ in range(n_trials):
        trial = study.ask()
        x = trial.suggest_float("x", -10, 10)
        study.tell(trial, (x - 2) ** 2)
    elapsed = time.perf_counter() - start
    HAND_BEST[method] = study.best_value
    return elapsed


HAND_BEST: dict[str, float] = {}  # best value of the last hand-written run, per method


def bayes_opt_loop(n_trials: int, seed: int, n_startup: int = 5) -> float:
    """bayes_opt's suggest/register loop, with the same random start as ipytune's gp sampler."""
    from bayes_opt import BayesianOptimization

    start = time.perf_counter()
    optimizer = BayesianOptimization(
        f=None, pbounds={"x": (-10, 10)}, random_state=seed, verbose=0, allow_duplicate_points=True
    )
    for i in range(n_trials):
        point = optimizer.random_sample(1)[0] if i < n_startup else optimizer.suggest()
        x = float(point["x"])
        optimizer.register(params=point, target=-((x - 2) ** 2))  # bayes_opt maximises
    return time.perf_counter() - start


def optuna_grid_loop(axes: dict[str, list[int]], seed: int, stamps: list[float]) -> None:
    """Optuna's GridSampler driven by hand; ``stamps`` gets a time per finished trial."""
    import optuna

    sampler = optuna.samplers.GridSampler(axes, seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    size = 1
    for values in axes.values():
        size *= len(values)
    stamps.append(time.perf_counter())
    for _ in range(size):
        trial = study.ask()
        x, y = trial.suggest_int("x", 0, len(axes["x"]) - 1), trial.suggest_int("y", 0, len(axes["y"]) - 1)
        stamps.append(time.perf_counter())
        with contextlib.suppress(RuntimeError):  # GridSampler calls study.stop() on the last point
            study.tell(trial, (x - 2) ** 2 + y)


def median(values: list[float]) -> float:
    return statistics.median(values)


def alternate(contenders: dict[str, Callable[[int], float]], rounds: int) -> dict[str, float]:
    """Run every contender once per round, order rotating each round; median seconds of each."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # each goes first in turn: AB, BA, ...
        for name in order:
            gc.collect()
            times[name].append(contenders[name](r))
    return {name: median(values) for name, values in times.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


# --------------------------------------------------------------------------------------
# The benchmarks
# --------------------------------------------------------------------------------------
TRIVIAL = "x = tune.float(-10, 10)\n(x - 2) ** 2"


def bench_optuna_methods(shell: Shell, results: Results, n_trials: int, rounds: int, seed: int) -> None:
    """tpe and random: ipytune vs ask/tell, in memory and on the default persistent storage (journal)."""
    for method in ("tpe", "random"):
        print(f"{method}: {n_trials} trials, {rounds} rounds", flush=True)
        line = f"--method {method} --trials {n_trials} --seed {seed} --minimize"

        def ipytune_run(storage: str, trials: int = n_trials, line: str = line) -> Callable[[int], float]:
            def run(r: int) -> float:
                command = line.replace(f"--trials {n_trials}", f"--trials {trials}")
                if storage == "memory":
                    return shell.run(command + " --storage memory", TRIVIAL)
                if storage == "no seed":
                    return shell.run(command.replace(f"--seed {seed}", "") + " --storage memory", TRIVIAL)
                with tempfile.TemporaryDirectory() as folder:  # a fresh .ipytune/studies.journal each time
                    return shell.run(command, TRIVIAL, folder=folder)

            return run

        def hand_run(storage: str, trials: int = n_trials, method: str = method) -> Callable[[int], float]:
            def run(r: int) -> float:
                with tempfile.TemporaryDirectory() as folder:
                    return optuna_loop(method, trials, seed, storage, folder)

            return run

        contenders = {
            "ipytune memory": ipytune_run("memory"),
            "optuna memory": hand_run("memory"),
            "ipytune default": ipytune_run("default"),
            "optuna flushed journal": hand_run("flushed"),
            "optuna journal": hand_run("journal"),
        }
        if method == "random":  # cheap enough to also show what a search costs once, and what --seed costs
            contenders |= {
                "ipytune no seed": ipytune_run("no seed"),
                "ipytune 1 trial": ipytune_run("memory", 1),
                "optuna 1 trial": hand_run("memory", 1),
            }
        t = alternate(contenders, rounds)
        per = {k: v / n_trials for k, v in t.items()}
        shell.run(line + " --storage memory", TRIVIAL)
        optuna_loop(method, n_trials, seed, "memory", "")
        same = "the same" if shell.last_best == HAND_BEST[method] else "NOT the same"
        results.notes.append(
            f"`{method}`: ipytune and the hand-written loop found {same} best value "
            f"({shell.last_best:.6g} vs {HAND_BEST[method]:.6g}): same sampler, same seed, same trials."
        )
        ratio = per["ipytune memory"] / per["optuna memory"]
        results.add(
            Row(
                f"`{method}`, {n_trials} trials, `--storage memory` vs ask/tell in memory",
                ms(per["ipytune memory"]),
                ms(per["optuna memory"]),
                f"{ratio:.2f}×",
                "≤ 1.15×",
                ratio <= 1.15,
            )
        )
        ratio = per["ipytune default"] / per["optuna flushed journal"]
        results.add(
            Row(
                f"`{method}`, {n_trials} trials, default storage (`.ipytune/studies.journal`) vs ask/tell "
                f"on the same journal storage",
                ms(per["ipytune default"]),
                ms(per["optuna flushed journal"]),
                f"{ratio:.2f}×",
                "≤ 1.15×",
                ratio <= 1.15,
            )
        )
        added = per["ipytune default"] - per["ipytune memory"]
        results.add(
            Row(
                f"`{method}`: default persistent storage over `--storage memory`, per trial "
                f"(reference: ask/tell on Optuna's stock `JournalFileBackend` over memory)",
                f"+{ms(added)}",
                f"+{ms(per['optuna journal'] - per['optuna memory'])}",
                "—",
                "≤ +3 ms",
                added <= 3e-3,
            )
        )
        if method == "random":
            results.add(
                Row(
                    f"`random`, {n_trials} trials, `--storage memory` without `--seed` (no per-trial reseeding "
                    f"of the Python/NumPy/torch RNGs) vs ask/tell in memory",
                    ms(per["ipytune no seed"]),
                    ms(per["optuna memory"]),
                    f"{per['ipytune no seed'] / per['optuna memory']:.2f}×",
                    "—",
                )
            )
            slope = {k: (t[f"{k} memory"] - t[f"{k} 1 trial"]) / (n_trials - 1) for k in ("ipytune", "optuna")}
            results.add(
                Row(
                    f"`random`, `--storage memory`: each trial after the first (the {n_trials}-trial search minus "
                    f"the 1-trial one, / {n_trials - 1}), `--seed` included",
                    ms(slope["ipytune"]),
                    ms(slope["optuna"]),
                    f"{slope['ipytune'] / slope['optuna']:.2f}×",
                    "—",
                )
            )
            results.add(
                Row(
                    "once per search: a 1-trial `%%tune` (parse, study, summary display) vs a 1-trial ask/tell",
                    ms(t["ipytune 1 trial"]),
                    ms(t["optuna 1 trial"]),
                    f"+{ms(t['ipytune 1 trial'] - t['optuna 1 trial'])}",
                    "—",
                )
            )


def bench_gp(shell: Shell, results: Results, n_trials: int, rounds: int, seed: int) -> None:
    print(f"gp: {n_trials} trials, {rounds} rounds", flush=True)
    line = f"--method gp --trials {n_trials} --seed {seed} --minimize --storage memory"
    from threadpoolctl import threadpool_limits

    # One BLAS thread for both: on a shared 2-core machine, multithreaded GP fits vary by ±20 % run to run.
    with threadpool_limits(limits=1):
        t = alternate(
            {
                "ipytune": lambda r: shell.run(line, TRIVIAL),
                "bayes_opt": lambda r: bayes_opt_loop(n_trials, seed),
            },
            rounds,
        )
    ratio = t["ipytune"] / t["bayes_opt"]
    results.add(
        Row(
            f"`gp`, {n_trials} trials, `--storage memory` vs bayes_opt suggest/register",
            ms(t["ipytune"] / n_trials),
            ms(t["bayes_opt"] / n_trials),
            f"{ratio:.2f}×",
            "≤ 1.15×",
            ratio <= 1.15,
        )
    )


GRID_BODY = "x = tune.int(0, {nx})\ny = tune.int(0, {ny})\n_stamps.append(_clock())\n(x - 2) ** 2 + y"


def grid_window(stamps: list[float], window: int) -> tuple[float, float]:
    """Mean seconds per trial over the first and the last ``window`` trials."""
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return statistics.fmean(gaps[:window]), statistics.fmean(gaps[-window:])


def bench_grid(shell: Shell, results: Results, size: int, big: int, rounds: int, seed: int) -> None:
    """Per-trial cost at the start and the end of the grid, from a time stamp taken in every trial."""
    window = max(size // 10, 10)
    ny = 10
    print(f"grid: {size} points ({window}-trial windows), {rounds} rounds; {big} points for ipytune alone", flush=True)

    def ipytune_grid(points: int, folder: str | None, storage: str, window: int) -> tuple[float, float]:
        stamps: list[float] = []
        body = GRID_BODY.format(nx=points // ny - 1, ny=ny - 1)
        namespace = {"_stamps": stamps, "_clock": time.perf_counter}
        shell.run(f"--method grid --seed {seed} --minimize {storage}", body, folder=folder, namespace=namespace)
        assert len(stamps) == points, (len(stamps), points)
        return grid_window(stamps, window)

    def in_memory(points: int, window: int = window) -> tuple[float, float]:
        return ipytune_grid(points, None, "--storage memory", window)

    def on_default(points: int, window: int = window) -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as folder:
            return ipytune_grid(points, folder, "", window)

    def optuna_grid(points: int) -> tuple[float, float]:
        stamps: list[float] = []
        optuna_grid_loop({"x": list(range(points // ny)), "y": list(range(ny))}, seed, stamps)
        return grid_window(stamps, window)

    runs: dict[str, list[tuple[float, float]]] = {"ipytune memory": [], "ipytune default": [], "optuna GridSampler": []}
    contenders = {"ipytune memory": in_memory, "ipytune default": on_default, "optuna GridSampler": optuna_grid}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            if name == "optuna GridSampler" and r > 0:
                continue  # about a minute and a half per run, and its growth is not in doubt
            gc.collect()
            runs[name].append(contenders[name](size))
    first = {k: median([a for a, _ in v]) for k, v in runs.items()}
    last = {k: median([b for _, b in v]) for k, v in runs.items()}
    reference = f"{ms(first['optuna GridSampler'])} → {ms(last['optuna GridSampler'])}"
    for name, label in (("ipytune memory", "`--storage memory`"), ("ipytune default", "default storage")):
        growth = last[name] / first[name]
        results.add(
            Row(
                f"`grid`, {size} points, {label}: per trial, first → last {window} trials (vs Optuna GridSampler in memory)",
                f"{ms(first[name])} → {ms(last[name])}",
                reference,
                f"{growth:.2f}× growth (Optuna {last['optuna GridSampler'] / first['optuna GridSampler']:.2f}×)",
                "< 2 ms, not growing",
                last[name] < 2e-3 and first[name] < 2e-3 and growth < 1.5,
            )
        )
    big_window = max(big // 10, 10)
    big_runs: dict[str, list[tuple[float, float]]] = {"memory": [], "default": []}
    for _ in range(3):  # three runs each, alternating, median: one run is at the mercy of the shared machine
        big_runs["memory"].append(in_memory(big, big_window))
        big_runs["default"].append(on_default(big, big_window))
    for kind, values in big_runs.items():
        a, b = median([v[0] for v in values]), median([v[1] for v in values])
        results.add(
            Row(
                f"`grid`, {big} points, ipytune alone, {'`--storage memory`' if kind == 'memory' else 'default storage'}: "
                f"first → last {big_window} trials (3 runs, median)",
                f"{ms(a)} → {ms(b)}",
                "—",
                f"{b / a:.2f}× growth",
                "< 2 ms, not growing",
                b < 2e-3 and a < 2e-3 and b / a < 1.5,
            )
        )


def bench_tracking(shell: Shell, results: Results, n_trials: int, rounds: int, seed: int) -> None:
    """Issue 3: the same search with a trackio run per trial (written off the critical path) and with --no-track."""
    print(f"tracking: {n_trials} trials, {rounds} rounds", flush=True)
    line = f"--method random --trials {{trials}} --seed {seed} --minimize --storage memory"
    saved = shell.no_track

    def search(track: bool, trials: int = n_trials) -> float:
        shell.no_track = "" if track else "--no-track"
        try:  # the magic returns only once every run is written, so this is the whole cost
            return shell.run(line.format(trials=trials), TRIVIAL)
        finally:
            shell.no_track = saved

    previous = os.environ.get("TRACKIO_DIR")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TRACKIO_DIR"] = folder  # never the real trackio home
        try:
            cold_on, cold_off = search(True, 20), search(False, 20)  # first tracked search: trackio is imported
            t = alternate({"on": lambda r: search(True), "off": lambda r: search(False)}, rounds)
            by_hand = trackio_run_by_hand(20)
        finally:
            if previous is None:
                os.environ.pop("TRACKIO_DIR", None)
            else:
                os.environ["TRACKIO_DIR"] = previous
    added = (t["on"] - t["off"]) / n_trials
    results.add(
        Row(
            f"`random`, {n_trials} trials of a trivial objective, `--storage memory`: tracking on (a trackio run "
            f"per trial, all written before the magic returns) vs `--no-track`, per trial",
            ms(t["on"] / n_trials),
            ms(t["off"] / n_trials),
            f"+{ms(added)}",
            "≤ +2 ms",
            added <= 2e-3,
        )
    )
    results.add(
        Row(
            "reference: one run written by hand with `trackio.init` / `log` / `finish` (`embed=False`), per run",
            "—",
            ms(by_hand),
            "—",
            "—",
        )
    )
    results.add(
        Row(
            "once per session: the first tracked search (20 trials; trackio's import and schema) vs the same "
            "search with `--no-track`",
            ms(cold_on),
            ms(cold_off),
            f"+{ms(cold_on - cold_off)}",
            "—",
        )
    )


def trackio_run_by_hand(runs: int) -> float:
    """Median seconds per run of the lecture's trackio.init / log / finish pattern."""
    import trackio

    from ipytune.tracking import _trackio

    _trackio.use(_trackio.trackio_dir())  # trackio read TRACKIO_DIR when first imported
    times = []
    for i in range(runs):
        with contextlib.redirect_stdout(io.StringIO()):  # its banner, once per run
            start = time.perf_counter()
            trackio.init(project="by-hand", name=f"x={i}", config={"x": i}, embed=False, auto_log_cpu=False)
            trackio.log({"objective": float(i)})
            trackio.finish()
            times.append(time.perf_counter() - start)
    return median(times)


LOAD_IPYTHON = (
    "import time; t = time.perf_counter()\n"
    "from IPython.core.interactiveshell import InteractiveShell\n"
    "ip = InteractiveShell.instance()\n"
)
LOAD_EXT = "s = time.perf_counter(); ip.run_line_magic('load_ext', 'ipytune'); print(time.perf_counter() - s)\n"


def bench_load_ext(results: Results, repetitions: int) -> None:
    """Wall time of a fresh process: IPython alone vs IPython + ``%load_ext ipytune``."""
    print(f"%load_ext: {repetitions} fresh processes each, alternating", flush=True)
    alone: list[float] = []
    loaded: list[float] = []
    inside: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, IPYTHONDIR=home)  # no user profile or startup files
        for r in range(repetitions):
            for with_ext in (r % 2 == 0, r % 2 != 0):
                code = LOAD_IPYTHON + (LOAD_EXT if with_ext else "")
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
                elapsed = time.perf_counter() - start
                if with_ext:
                    loaded.append(elapsed)
                    inside.append(float(done.stdout.strip().splitlines()[-1]))
                else:
                    alone.append(elapsed)
    extra = median(loaded) - median(alone)
    results.add(
        Row(
            f"fresh process: IPython + `%load_ext ipytune` vs IPython alone ({repetitions} each, median)",
            f"{ms(median(loaded))} (load_ext itself {ms(median(inside))})",
            ms(median(alone)),
            f"{extra * 1e3:+.3f} ms",
            "≤ +50 ms",
            extra <= 0.050,
        )
    )


# --------------------------------------------------------------------------------------
def versions() -> str:
    import bayes_opt
    import IPython
    import optuna

    return (
        f"Python {platform.python_version()}, IPython {IPython.__version__}, optuna {optuna.__version__}, "
        f"bayesian-optimization {bayes_opt.__version__}"
    )


BEGIN, END = "<!-- overhead.py writes from here -->", "<!-- overhead.py writes up to here -->"


def write_readme(results: Results, command: str, started: str, load: str) -> None:
    """Rewrite the generated part of this benchmark's section; other sections and the text after END stay."""
    generated = "\n".join(
        [
            BEGIN,
            f"Command: `{command}` (run {started}).",
            "",
            f"Machine: {machine(versions(), load)}. {METHOD}",
            "",
            "ipytune runs through a real `IPython` `InteractiveShell` (`%load_ext ipytune`, "
            "`%%tune ... --quiet --no-refit --no-track`), its summary display included; the hand-written loops "
            "are Optuna ask/tell (same sampler, same seed, Optuna's log silenced as ipytune does) and "
            "bayes_opt suggest/register (same 5 random starting points). Objective: `(x - 2) ** 2`. "
            "Per trial = the whole search's time / trials.",
            "",
            table(results),
            "",
            *[f"- {note}" for note in results.notes],
            END,
        ]
    )
    write_block(README, SECTION, END, generated)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials and rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds per comparison")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=("optuna", "gp", "grid", "load", "tracking"),
        default=None,
        help="run only these parts",
    )
    parser.add_argument("--readme", action="store_true", help="write the results into benchmarks/README.md")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (2 if quick else 5)
    parts = set(args.only or ("optuna", "gp", "grid", "load", "tracking"))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = load_average()
    command = "python benchmarks/overhead.py " + " ".join(argv if argv is not None else sys.argv[1:])

    quiet_optuna()
    results = Results()
    print(f"machine: {machine(versions(), load)}", flush=True)
    if parts & {"optuna", "gp", "grid", "tracking"}:
        shell = Shell()
        if shell.no_track:
            results.notes.append("`--no-track` was passed to `%%tune`: tracking is measured in its own section.")
        if "optuna" in parts:
            bench_optuna_methods(shell, results, 100 if quick else 500, rounds, args.seed)
        if "gp" in parts:
            bench_gp(shell, results, 20 if quick else 60, rounds, args.seed)
        if "grid" in parts:
            bench_grid(shell, results, 1000, 2000 if quick else 10_000, rounds, args.seed)
        if "tracking" in parts:
            bench_tracking(shell, results, 100 if quick else 500, rounds, args.seed)
    if "load" in parts:
        bench_load_ext(results, 4 if quick else 10)

    print()
    print(table(results))
    if args.readme:
        write_readme(results, command.strip(), started, f"{load} / {load_average()}")


if __name__ == "__main__":
    main()
