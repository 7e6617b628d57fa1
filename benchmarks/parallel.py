"""What ``%%tune --n-jobs 2`` and ``%%tune --cluster`` deliver, side by side with what the machine allows (issue 9).

Every comparison runs in this one process, alternating the contenders round by round
(each goes first in turn) so a busy machine slows them alike; figures are medians over
rounds. Parts (``--only``):

- ``throughput``: a CPU-bound, GIL-holding objective of about 100 ms per trial. ipytune's
  ``--n-jobs 2`` against the same run's *ceiling*: two independent processes doing the same
  trials at once (on a shared 2-core machine two processes reach only 1.2-1.8x one, so the
  ceiling is measured, not assumed to be 2x).
- ``dispatch``: a trivial objective, so only the machinery is measured: ``--n-jobs 2``
  against a hand-written loky loop (the same warm processes and the same journal storage),
  ``--n-jobs 2 --threads`` against Optuna's own ``study.optimize(n_jobs=2)``; and the
  once-per-session start of the worker processes.
- ``data``: a cell that reads a 40 MB NumPy array: what it adds per trial under
  ``--n-jobs 2`` (the namespace travels once per worker and search), against the naive
  pattern (one loky task per trial, the array captured by the objective).
- ``cluster``: a Dask ``LocalCluster`` (2 worker processes, one thread each, on 127.0.0.1)
  with the study on PostgreSQL: throughput and dispatch against the same searches with
  ``--n-jobs 2``. Needs a PostgreSQL URL (``--postgres``, default ``$IPYTUNE_TEST_POSTGRES``;
  ``eval "$(.ci/postgres.sh start)"`` starts a throwaway one on 127.0.0.1).

    python benchmarks/parallel.py                    # every part (several minutes)
    python benchmarks/parallel.py --only dispatch    # one part
    python benchmarks/parallel.py --quick            # fewer trials and rounds (a smoke run)
    python benchmarks/parallel.py --readme           # also write the figures into benchmarks/README.md

Figures are printed, never asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import itertools
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
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
SECTION = "## Parallel and distributed search (issue 9)"
BEGIN, END = "<!-- parallel.py writes from here -->", "<!-- parallel.py writes up to here -->"
PARTS = ("throughput", "dispatch", "data", "cluster")


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.01 else f"{seconds * 1e3:.1f} ms"


def cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and every process it started that is alive:
    the kernel, loky's workers, the ceiling's processes, a LocalCluster's scheduler, nannies and workers."""
    try:
        import psutil
    except ImportError:
        return math.nan
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


class Timing(float):
    """Wall-clock seconds that also carry the CPU seconds of the same span (``cpu``)."""

    cpu: float


def timing(wall: float, cpu: float) -> Timing:
    value = Timing(wall)
    value.cpu = cpu
    return value


@dataclass
class Timed:
    """Per contender, one value per round: wall-clock seconds and CPU seconds (all our processes)."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]

    def __getitem__(self, name: str) -> list[float]:
        return self.wall[name]

    def median(self, name: str) -> float:
        return median(self.wall[name])

    def ratios(self, a: str, b: str) -> list[float]:
        """``a``'s wall time over ``b``'s, round by round (the two ran one after the other)."""
        return [x / y for x, y in zip(self.wall[a], self.wall[b], strict=True)]


def alternate(contenders: dict[str, Callable[[], float]], rounds: int) -> Timed:
    """Run every contender once per round, the order rotating (each goes first in turn)."""
    timed = Timed({name: [] for name in contenders}, {name: [] for name in contenders})
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            before = cpu_seconds()
            wall = contenders[name]()
            after = cpu_seconds()
            timed.wall[name].append(wall)
            timed.cpu[name].append(getattr(wall, "cpu", after - before))  # a Timing knows its own span
        print(f"    round {r + 1}/{rounds}: " + ", ".join(f"{n} {timed.wall[n][-1]:.2f} s" for n in names), flush=True)
    return timed


def plus(seconds: float) -> str:
    """A difference in milliseconds, with its sign."""
    return f"{seconds * 1e3:+.2f} ms" if abs(seconds) < 0.01 else f"{seconds * 1e3:+.1f} ms"


def spread(values: list[float]) -> str:
    """The median of ratios, with their range over rounds, as percentages."""
    return f"{median(values):.0%} (rounds {min(values):.0%}–{max(values):.0%})"


# --------------------------------------------------------------------------------------
# Contenders: ipytune through a real IPython shell, and what a user would write instead.
# --------------------------------------------------------------------------------------
BURN = '''
def burn(n):
    """Pure-Python work that holds the GIL: the cost of a typical notebook objective."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
'''
TRIVIAL = "x = tune.float(-10, 10)\n(x - 2) ** 2"
CPU_CELL = "x = tune.float(0, 1)\nburn({n}) * 0 + x"
FLAGS = "--quiet --no-refit --no-track"


class Shell:
    """A real ``InteractiveShell`` with ``%load_ext ipytune``; each search in a fresh folder under ``base``.

    The folders stay until the end: a worker process keeps the working directory it was started in
    (the folder of the first search), and loky's workers outlive a search.
    """

    def __init__(self, base: str) -> None:
        from IPython.core.interactiveshell import InteractiveShell

        self.base = base
        self.ip = InteractiveShell.instance()
        self.ip.run_line_magic("load_ext", "ipytune")
        self.ip.run_cell(BURN).raise_error()
        self.last: Any = None

    def run(self, line: str, body: str, namespace: dict[str, Any] | None = None) -> Timing:
        """Seconds to run ``%%tune line`` + ``body`` (its summary display included), in a fresh folder:
        the default storage is then a new ``.ipytune/studies.journal`` each time. Its ``cpu``: what every
        process of ours used meanwhile (not the garbage collections around it)."""
        self.ip.user_ns.update(namespace or {})
        cell = f"%%tune {line} {FLAGS}\n{body}"
        previous = os.getcwd()
        os.chdir(tempfile.mkdtemp(dir=self.base))
        try:
            gc.collect()
            with contextlib.redirect_stdout(io.StringIO()):
                cpu = cpu_seconds()
                start = time.perf_counter()
                result = self.ip.run_cell(cell)
                elapsed = time.perf_counter() - start
                cpu = cpu_seconds() - cpu
        finally:
            os.chdir(previous)
        result.raise_error()
        self.last = self.ip.user_ns["tune"].last
        self.ip.displayhook.flush()  # Out[n] would keep every study alive
        return timing(elapsed, cpu)


PROCESS = (
    BURN
    + """
import sys, time
for line in sys.stdin:
    n, count = map(int, line.split())
    for _ in range(count):
        burn(n)
    print("done", flush=True)
"""
)


class Processes:
    """Independent warm Python processes that each run ``burn(n)`` a given number of times on request."""

    def __init__(self, count: int) -> None:
        self.procs = [
            subprocess.Popen([sys.executable, "-c", PROCESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        self.run(1000, [1] * count)  # started and warm

    def run(self, n: int, counts: list[int]) -> Timing:
        """Seconds until every process has run its ``counts[i]`` calls (all start at once)."""
        cpu = cpu_seconds()
        start = time.perf_counter()
        for proc, count in zip(self.procs, counts, strict=False):
            assert proc.stdin is not None
            proc.stdin.write(f"{n} {count}\n")
            proc.stdin.flush()
        for proc, _ in zip(self.procs, counts, strict=False):
            assert proc.stdout is not None
            proc.stdout.readline()
        elapsed = time.perf_counter() - start
        return timing(elapsed, cpu_seconds() - cpu)

    def close(self) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(10)


def calibrate(target_s: float) -> int:
    """``n`` such that ``burn(n)`` takes about ``target_s`` seconds here (median of 5)."""
    namespace: dict[str, Any] = {}
    exec(BURN, namespace)
    burn = namespace["burn"]
    n = 100_000
    times = []
    for _ in range(5):
        start = time.perf_counter()
        burn(n)
        times.append(time.perf_counter() - start)
    return max(10_000, int(round(n * target_s / median(times), -4)))


def loky_pool() -> Any:
    """ipytune's own warm loky executor (same processes, same settings: loky would otherwise restart it)."""
    from ipytune.search.transports.processes import executor

    return executor(2)


def loky_search(folder: str, name: str, seed: int, n_trials: int) -> int:
    """One hand-written worker: open the study, run its share (what a user writes around loky)."""
    import optuna

    from ipytune.search._optuna import open_journal

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=name,
        storage=open_journal(os.path.join(folder, "studies.journal")),
        sampler=optuna.samplers.RandomSampler(seed=seed),
    )
    study.optimize(lambda trial: (trial.suggest_float("x", -10, 10) - 2) ** 2, n_trials=n_trials)
    return os.getpid()


def hand_loky(n_trials: int, seed: int) -> float:
    """The hand-written loky loop: a journal study, one long task per worker running half of the trials."""
    import optuna

    from ipytune.search._optuna import open_journal

    pool = loky_pool()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        study = optuna.create_study(storage=open_journal(os.path.join(folder, "studies.journal")), direction="minimize")
        futures = [pool.submit(loky_search, folder, study.study_name, seed + i, n_trials // 2) for i in range(2)]
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - start
        assert len(study.get_trials(deepcopy=False)) == n_trials
    return elapsed


def optuna_threads(n_trials: int, seed: int) -> float:
    """Optuna's own ``study.optimize(n_jobs=2)`` (threads) in memory."""
    import optuna

    start = time.perf_counter()
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(lambda trial: (trial.suggest_float("x", -10, 10) - 2) ** 2, n_trials=n_trials, n_jobs=2)
    return time.perf_counter() - start


def where_the_time_goes(result: Any, wall: float) -> str:
    """From a finished parallel search's trials: how busy its workers were, and the gap between trials."""
    from ipytune.search.recovery import OWNER

    trials = [t for t in result.study.get_trials(deepcopy=False) if t.datetime_complete is not None]
    by_worker: dict[Any, list[Any]] = {}
    for t in trials:
        by_worker.setdefault(t.system_attrs.get(OWNER, {}).get("pid"), []).append(t)
    inside = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in trials)
    gaps = []
    for own in by_worker.values():
        own.sort(key=lambda t: t.datetime_start)
        gaps += [(b.datetime_start - a.datetime_complete).total_seconds() for a, b in itertools.pairwise(own)]
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    span = (last - first).total_seconds()
    return (
        f"{len(trials)} trials on {len(by_worker)} workers; inside trials {inside:.2f} s of "
        f"{len(by_worker)} × {wall:.2f} s wall ({inside / (len(by_worker) * wall):.0%}); "
        f"median gap between a worker's trials {ms(median(gaps)) if gaps else '—'}; "
        f"first trial to last {span:.2f} s, so {wall - span:.2f} s of the cell's wall is before the first "
        f"trial and after the last (ship, start, summary)"
    )


# --------------------------------------------------------------------------------------
# The benchmarks
# --------------------------------------------------------------------------------------
def bench_throughput(shell: Shell, results: Results, n_trials: int, rounds: int, seed: int) -> None:
    n = calibrate(0.1)
    cell = CPU_CELL.format(n=n)
    print(f"throughput: {n_trials} trials of burn({n}) (~100 ms), {rounds} rounds", flush=True)
    line = f"--method random --trials {n_trials} --seed {seed}"
    pair, single = Processes(2), Processes(1)
    try:
        shell.run(f"--method random --trials 4 --seed {seed} --n-jobs 2", cell)  # workers started and warm
        runs: list[tuple[float, Any]] = []  # (wall, result) of each --n-jobs 2 run

        def parallel() -> float:
            wall = shell.run(f"{line} --n-jobs 2", cell)
            runs.append((wall, shell.last))
            return wall

        t = alternate(
            {
                "ipytune --n-jobs 2": parallel,
                "ceiling": lambda: pair.run(n, [n_trials // 2, n_trials - n_trials // 2]),
                "1 process": lambda: single.run(n, [n_trials]),
                "ipytune in the kernel": lambda: shell.run(line, cell),
            },
            rounds,
        )
    finally:
        pair.close()
        single.close()
    ratios = t.ratios("ceiling", "ipytune --n-jobs 2")
    ours, ceiling = t.median("ipytune --n-jobs 2"), t.median("ceiling")
    results.add(
        Row(
            f"throughput, `random`, {n_trials} trials of a ~{ms(t.median('1 process') / n_trials)} pure-Python "
            "objective: `--n-jobs 2` (default journal storage) vs the ceiling (2 independent processes doing the "
            "same trials at once), trials/s; ratio = ceiling's time / `--n-jobs 2`'s, round by round",
            f"{n_trials / ours:.2f}/s ({ours:.2f} s)",
            f"{n_trials / ceiling:.2f}/s ({ceiling:.2f} s)",
            f"{spread(ratios)} of the ceiling",
            "≥ 85 %",
            median(ratios) >= 0.85,
        )
    )
    cpu_ours, cpu_ceiling = median(t.cpu["ipytune --n-jobs 2"]), median(t.cpu["ceiling"])
    if not math.isnan(cpu_ours):
        results.add(
            Row(
                "the same rounds, CPU time per trial (user + system) of our processes: `--n-jobs 2` (kernel + 2 "
                "workers) vs the ceiling's 2 processes",
                ms(cpu_ours / n_trials),
                ms(cpu_ceiling / n_trials),
                f"{cpu_ours / cpu_ceiling - 1:+.1%}",
                "—",
            )
        )
    results.add(
        Row(
            "reference, same rounds: `--n-jobs 2` over the same search in the kernel; the ceiling over 1 process "
            "(what 2 processes reach on this machine now)",
            f"{median(t.ratios('ipytune in the kernel', 'ipytune --n-jobs 2')):.2f}× "
            f"(kernel {t.median('ipytune in the kernel'):.2f} s)",
            f"{median(t.ratios('1 process', 'ceiling')):.2f}× (1 process {t.median('1 process'):.2f} s)",
            "—",
            "—",
        )
    )
    wall, last = runs[-1]
    results.note(f"throughput: where `--n-jobs 2`'s time went (its last round): {where_the_time_goes(last, wall)}.")


def bench_dispatch(shell: Shell, results: Results, n_trials: int, rounds: int, seed: int) -> None:
    print(f"dispatch: {n_trials} trials of a trivial objective, {rounds} rounds", flush=True)
    line = f"--method random --trials {n_trials} --seed {seed} --minimize"
    two = f"--method random --trials 2 --seed {seed} --minimize"
    shell.run(line + " --n-jobs 2", TRIVIAL)  # warm
    hand_loky(20, seed)
    t = alternate(
        {
            "ipytune --n-jobs 2": lambda: shell.run(line + " --n-jobs 2", TRIVIAL),
            "hand-written loky": lambda: hand_loky(n_trials, seed),
            "ipytune --threads memory": lambda: shell.run(line + " --n-jobs 2 --threads --storage memory", TRIVIAL),
            "optuna n_jobs=2": lambda: optuna_threads(n_trials, seed),
            "ipytune in the kernel": lambda: shell.run(line, TRIVIAL),
            "2 trials --n-jobs 2": lambda: shell.run(two + " --n-jobs 2", TRIVIAL),
            "2 trials in the kernel": lambda: shell.run(two, TRIVIAL),
        },
        rounds,
    )
    per = {k: median(v) / n_trials for k, v in t.wall.items()}
    for mine, theirs, what in (
        (
            "ipytune --n-jobs 2",
            "hand-written loky",
            "`--n-jobs 2` (processes, default journal storage) vs a hand-written loky loop (the same 2 warm "
            "processes, one `study.optimize` task per worker, the same journal storage)",
        ),
        (
            "ipytune --threads memory",
            "optuna n_jobs=2",
            "`--n-jobs 2 --threads --storage memory` vs Optuna's `study.optimize(n_jobs=2)` in memory",
        ),
    ):
        results.add(
            Row(
                f"dispatch, `random`, {n_trials} trials of `(x - 2) ** 2`: {what}, per trial (whole search / trials)",
                ms(per[mine]),
                ms(per[theirs]),
                plus(per[mine] - per[theirs]),
                "—",
            )
        )
    results.add(
        Row(
            "reference: the same search in the kernel (no `--n-jobs`, default journal storage), per trial",
            ms(per["ipytune in the kernel"]),
            "—",
            "—",
            "—",
        )
    )
    once, once_kernel = t.median("2 trials --n-jobs 2"), t.median("2 trials in the kernel")
    results.add(
        Row(
            "once per search: a 2-trial `--n-jobs 2` search (ship the cell, submit, poll, summary) vs the same "
            "search in the kernel",
            ms(once),
            ms(once_kernel),
            plus(once - once_kernel),
            "—",
        )
    )
    # Once per session (or after 5 idle minutes): starting the 2 worker processes. With --seed and torch
    # installed, each new worker also imports torch to seed it, as the kernel does on its first seeded trial.
    cold: dict[str, list[float]] = {"seed": [], "no seed": [], "warm": []}
    twenty = line.replace(f"--trials {n_trials}", "--trials 20") + " --n-jobs 2"
    for _ in range(max(2, rounds // 2)):
        loky_pool().shutdown(wait=True, kill_workers=True)
        cold["no seed"].append(shell.run(twenty.replace(f"--seed {seed} ", ""), TRIVIAL))
        loky_pool().shutdown(wait=True, kill_workers=True)
        cold["seed"].append(shell.run(twenty, TRIVIAL))
        cold["warm"].append(shell.run(twenty, TRIVIAL))  # the same workers, torch imported
    warm = median(cold["warm"])
    results.add(
        Row(
            f"once per session: a 20-trial `--n-jobs 2` search that starts the 2 worker processes, without / with "
            f"`--seed` (with it, each new worker imports torch to seed it, when torch is installed), vs the same "
            f"search on warm workers ({len(cold['warm'])} each, median)",
            f"{ms(median(cold['no seed']))} / {ms(median(cold['seed']))}",
            ms(warm),
            f"{plus(median(cold['no seed']) - warm)} / {plus(median(cold['seed']) - warm)}",
            "—",
        )
    )


DATA_CELL = "i = tune.int(0, 7)\nfloat(data[i])"


def bench_data(shell: Shell, results: Results, n_trials: int, rounds: int, seed: int) -> None:
    import numpy as np

    from ipytune.search.cell import parse_cell
    from ipytune.search.declarations import tune
    from ipytune.search.transports.payload import ship

    big = np.random.default_rng(0).random(5_000_000)  # 40 MB of float64
    small = np.zeros(8)
    print(f"data: a cell reading a {big.nbytes / 1e6:.0f} MB array, {n_trials} trials, {rounds} rounds", flush=True)
    line = f"--method random --trials {n_trials} --seed {seed} --n-jobs 2"
    shell.run(line, DATA_CELL, {"data": small})  # warm
    t = alternate(
        {
            "40 MB": lambda: shell.run(line, DATA_CELL, {"data": big}),
            "64 bytes": lambda: shell.run(line, DATA_CELL, {"data": small}),
        },
        rounds,
    )
    added = t.median("40 MB") - t.median("64 bytes")
    shipping = []
    for _ in range(3):  # the kernel's part: pickling the cell and the array once (ipytune's ship)
        start = time.perf_counter()
        ship(parse_cell(DATA_CELL), {"data": big, "tune": tune})
        shipping.append(time.perf_counter() - start)

    # The naive pattern: one loky task per trial, the objective (a notebook function) carrying the array.
    shell.ip.run_cell("def objective(i):\n    return float(data[i])").raise_error()
    naive_trials = max(4, n_trials // 4)

    def naive(data: Any) -> float:
        shell.ip.user_ns["data"] = data
        objective = shell.ip.user_ns["objective"]
        pool = loky_pool()
        start = time.perf_counter()
        for future in [pool.submit(objective, i % 8) for i in range(naive_trials)]:
            future.result()
        return time.perf_counter() - start

    n = alternate({"naive 40 MB": lambda: naive(big), "naive 64 bytes": lambda: naive(small)}, rounds)
    naive_added = (n.median("naive 40 MB") - n.median("naive 64 bytes")) / naive_trials
    shell.ip.user_ns.pop("data", None)
    per_trial = added / n_trials
    results.add(
        Row(
            f"a cell reading a 40 MB array, `--n-jobs 2`, {n_trials} trials: added per trial over the same cell "
            f"reading 8 floats (reference: one loky task per trial, the objective carrying the array, "
            f"{naive_trials} trials)",
            f"{plus(per_trial)} ({plus(added)} per search)",
            plus(naive_added),
            f"{naive_added / max(per_trial, 1e-9):.0f}× less",
            "≤ +20 ms",
            per_trial <= 0.020,
        )
    )
    results.note(
        f"40 MB array: the cost is per search, not per trial: {ms(added)} per `--n-jobs 2` search, of which "
        f"{ms(median(shipping))} is the kernel pickling the cell's names once (`ship`); the rest is loky sending "
        f"the job to each of the 2 workers and each unpickling it. Per trial that is under 20 ms from "
        f"{math.ceil(added / 0.020)} trials per search up."
    )


def bench_cluster(shell: Shell, results: Results, url: str, n_cpu: int, n_trivial: int, rounds: int, seed: int) -> None:
    import distributed

    print(f"cluster: LocalCluster 2 workers, PostgreSQL; {n_cpu} CPU-bound and {n_trivial} trivial trials", flush=True)
    n = calibrate(0.1)
    cell = CPU_CELL.format(n=n)
    starts = []
    for attempt in range(3):
        start = time.perf_counter()
        local = distributed.LocalCluster(  # everything on 127.0.0.1, its web page too
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        )
        client = distributed.Client(local, set_as_default=False)
        client.wait_for_workers(2)
        starts.append(time.perf_counter() - start)
        if attempt < 2:
            client.close()
            local.close()
    pair = Processes(2)
    try:
        shell.ip.user_ns["client"] = client
        storage = f"--storage {url}"
        cluster = f"--cluster client {storage}"
        shell.run(f"--method random --trials 4 --seed {seed} {cluster}", cell)  # warm: ipytune imported there
        shell.run(f"--method random --trials 4 --seed {seed} --n-jobs 2 {storage}", cell)
        cpu = f"--method random --trials {n_cpu} --seed {seed}"
        runs: list[tuple[float, Any]] = []  # (wall, result) of each --cluster run

        def on_cluster() -> float:
            wall = shell.run(f"{cpu} {cluster}", cell)
            runs.append((wall, shell.last))
            return wall

        t = alternate(
            {
                "--cluster": on_cluster,
                "--n-jobs 2 PostgreSQL": lambda: shell.run(f"{cpu} --n-jobs 2 {storage}", cell),
                "--n-jobs 2 journal": lambda: shell.run(f"{cpu} --n-jobs 2", cell),
                "ceiling": lambda: pair.run(n, [n_cpu // 2, n_cpu - n_cpu // 2]),
            },
            rounds,
        )
        trivial = f"--method random --trials {n_trivial} --seed {seed} --minimize"
        two = f"--method random --trials 2 --seed {seed} --minimize"
        d = alternate(
            {
                "--cluster": lambda: shell.run(f"{trivial} {cluster}", TRIVIAL),
                "--n-jobs 2 PostgreSQL": lambda: shell.run(f"{trivial} --n-jobs 2 {storage}", TRIVIAL),
                "--n-jobs 2 journal": lambda: shell.run(f"{trivial} --n-jobs 2", TRIVIAL),
                "2 trials --cluster": lambda: shell.run(f"{two} {cluster}", TRIVIAL),
                "2 trials --n-jobs 2 PostgreSQL": lambda: shell.run(f"{two} --n-jobs 2 {storage}", TRIVIAL),
            },
            rounds,
        )
    finally:
        pair.close()
        shell.ip.user_ns.pop("client", None)
        client.close()
        local.close()
    m = {k: t.median(k) for k in t.wall}
    of_ceiling = {
        k: median(t.ratios("ceiling", k)) for k in ("--cluster", "--n-jobs 2 PostgreSQL", "--n-jobs 2 journal")
    }
    results.add(
        Row(
            f"`--cluster` (Dask LocalCluster, 2 workers × 1 thread, study on PostgreSQL): throughput, `random`, "
            f"{n_cpu} trials of the ~100 ms objective vs `--n-jobs 2` on the same PostgreSQL, trials/s "
            "(share of the same rounds' ceiling)",
            f"{n_cpu / m['--cluster']:.2f}/s ({m['--cluster']:.2f} s; {of_ceiling['--cluster']:.0%})",
            f"{n_cpu / m['--n-jobs 2 PostgreSQL']:.2f}/s ({m['--n-jobs 2 PostgreSQL']:.2f} s; "
            f"{of_ceiling['--n-jobs 2 PostgreSQL']:.0%})",
            f"{median(t.ratios('--n-jobs 2 PostgreSQL', '--cluster')):.2f}×",
            "—",
        )
    )
    results.add(
        Row(
            "reference, same rounds: `--n-jobs 2` on the default journal storage; the ceiling (2 processes)",
            f"{n_cpu / m['--n-jobs 2 journal']:.2f}/s ({m['--n-jobs 2 journal']:.2f} s; "
            f"{of_ceiling['--n-jobs 2 journal']:.0%})",
            f"{n_cpu / m['ceiling']:.2f}/s ({m['ceiling']:.2f} s)",
            "—",
            "—",
        )
    )
    cpu_cluster, cpu_jobs = median(t.cpu["--cluster"]), median(t.cpu["--n-jobs 2 PostgreSQL"])
    if not math.isnan(cpu_cluster):
        results.add(
            Row(
                "the same runs, CPU time per trial of our processes (kernel and workers; `--cluster`: also the "
                "scheduler and nannies; not PostgreSQL's server): `--cluster` vs `--n-jobs 2` on PostgreSQL "
                f"(the ceiling: {ms(median(t.cpu['ceiling']) / n_cpu)})",
                ms(cpu_cluster / n_cpu),
                ms(cpu_jobs / n_cpu),
                f"{cpu_cluster / cpu_jobs - 1:+.1%}",
                "—",
            )
        )
    per = {k: d.median(k) / n_trivial for k in ("--cluster", "--n-jobs 2 PostgreSQL", "--n-jobs 2 journal")}
    results.add(
        Row(
            f"`--cluster` dispatch: `random`, {n_trivial} trials of `(x - 2) ** 2`, per trial (whole search / "
            f"trials) vs `--n-jobs 2` on the same PostgreSQL (reference: `--n-jobs 2` on the default journal "
            f"{ms(per['--n-jobs 2 journal'])})",
            ms(per["--cluster"]),
            ms(per["--n-jobs 2 PostgreSQL"]),
            plus(per["--cluster"] - per["--n-jobs 2 PostgreSQL"]),
            "—",
        )
    )
    once, once_jobs = d.median("2 trials --cluster"), d.median("2 trials --n-jobs 2 PostgreSQL")
    results.add(
        Row(
            "once per search: a 2-trial `--cluster` search vs a 2-trial `--n-jobs 2` search on the same PostgreSQL",
            ms(once),
            ms(once_jobs),
            plus(once - once_jobs),
            "—",
        )
    )
    results.add(
        Row(
            "once: `LocalCluster(n_workers=2)` + `Client` until both workers are up (3 starts, median)",
            "—",
            ms(median(starts)),
            "—",
            "—",
        )
    )
    wall, last = runs[-1]
    results.note(f"`--cluster`: where its time went (its last round): {where_the_time_goes(last, wall)}.")


# --------------------------------------------------------------------------------------
def versions(postgres: str | None) -> str:
    import IPython
    import joblib
    import optuna

    versions = f"Python {platform.python_version()}, IPython {IPython.__version__}, optuna {optuna.__version__}, "
    versions += f"joblib/loky {joblib.__version__}"
    with contextlib.suppress(ImportError):
        import distributed

        versions += f", dask.distributed {distributed.__version__}"
    if postgres:
        with contextlib.suppress(Exception):
            import sqlalchemy

            engine = sqlalchemy.create_engine(postgres)
            with engine.connect() as connection:
                version = connection.execute(sqlalchemy.text("show server_version")).scalar()
            engine.dispose()
            versions += f", PostgreSQL {version} on 127.0.0.1 (`.ci/postgres.sh`: fsync off)"
    return versions


def code_state() -> str:
    """The commit measured, and whether ipytune's source had uncommitted changes."""
    import ipytune

    src = Path(ipytune.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=src, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=src, capture_output=True, text=True, check=True
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):  # a copy (git archive) with its commit in a COMMIT file
        marks = [folder / "COMMIT" for folder in src.parents if (folder / "COMMIT").is_file()]
        if marks:
            return f"commit {marks[0].read_text().strip()} (a clean copy of it, on PYTHONPATH)"
        return f"ipytune from {src} (not a git checkout)"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return f"commit {head}" + (f", with uncommitted changes in {', '.join(changed)}" if changed else "")


def write_readme(results: Results, command: str, started: str, postgres: str | None, load: str) -> None:
    """Rewrite the generated part of this benchmark's section; other sections and the text after END stay."""
    generated = "\n".join(
        [
            BEGIN,
            f"Command: `{command}` (run {started}; {code_state()}).",
            "",
            f"Machine: {machine(versions(postgres), load)}. {METHOD}",
            "",
            "ipytune runs through a real `IPython` `InteractiveShell` (`%load_ext ipytune`, "
            f"`%%tune ... {FLAGS}`), its summary display included, each search in a fresh folder (a new default "
            "journal). Worker processes are warm (started by an earlier search) unless a row says otherwise.",
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
    parser.add_argument("--only", nargs="*", choices=PARTS, default=None, help="run only these parts")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("IPYTUNE_TEST_POSTGRES"),
        help="PostgreSQL URL for the cluster part (default: $IPYTUNE_TEST_POSTGRES)",
    )
    parser.add_argument("--readme", action="store_true", help="write the results into benchmarks/README.md")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (2 if quick else 7)
    parts = set(args.only or PARTS)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = load_average()
    command = "python benchmarks/parallel.py " + " ".join(argv if argv is not None else sys.argv[1:])
    command = command.replace(args.postgres or "\0", "$IPYTUNE_TEST_POSTGRES")

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    results = Results()
    print(f"machine: {machine(versions(args.postgres), load)}\ncode: {code_state()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ipytune-parallel-") as base:
        shell = Shell(base)
        try:
            if "throughput" in parts:
                bench_throughput(shell, results, 20 if quick else 40, rounds, args.seed)
            if "dispatch" in parts:
                bench_dispatch(shell, results, 100 if quick else 200, rounds, args.seed)
            if "data" in parts:
                bench_data(shell, results, 20 if quick else 40, rounds, args.seed)
            if "cluster" in parts and args.postgres:
                n_cpu, n_trivial = (20, 50) if quick else (40, 100)
                bench_cluster(shell, results, args.postgres, n_cpu, n_trivial, rounds, args.seed)
            elif "cluster" in parts:
                results.note('cluster: not run: no PostgreSQL (eval "$(.ci/postgres.sh start)", or --postgres URL).')
        finally:
            loky_pool().shutdown(wait=True, kill_workers=True)  # the worker processes this run started

    print()
    print(table(results))
    if args.readme:
        write_readme(results, command.strip(), started, args.postgres, f"{load} / {load_average()}")


if __name__ == "__main__":
    main()
