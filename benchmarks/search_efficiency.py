"""Search efficiency: best value after 10, 20 and 40 trials, per method, over several seeds.

Problems: two scikit-learn datasets (breast_cancer, digits) with a RandomForest
scored by 3-fold CV accuracy (maximise), and two synthetic functions, Branin
and Hartmann-6 (minimise; optima 0.397887 and -3.32237).

ipytune's grid, random, gp and tpe run through ``ipytune.honest.compare`` (the code
behind ``%%tune --compare``), so each is an ordinary Optuna study. On the
datasets, scikit-learn's GridSearchCV and RandomizedSearchCV run on the same
budget, the same parameter ranges and the same CV folds.

Grid at budget B is the grid of at most B points that ``--compare`` builds
(``ipytune.honest.compare.budget_grid``); run whole, it does not depend on the seed,
so it runs once per budget. The other methods run 40 trials per seed and are
read at 10, 20 and 40 trials (best so far).

    python benchmarks/search_efficiency.py --seeds 10 --out benchmarks/search_efficiency.json
    python benchmarks/search_efficiency.py --report benchmarks/search_efficiency.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from typing import Any

BUDGETS = (10, 20, 40)
METHODS = ("grid", "random", "gp", "tpe")

BRANIN = """\
import math
x1 = tune.float(-5.0, 10.0)
x2 = tune.float(0.0, 15.0)
b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
(x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
"""

HARTMANN6 = """\
import numpy as np
x0, x1, x2 = tune.float(0.0, 1.0, name="x0"), tune.float(0.0, 1.0, name="x1"), tune.float(0.0, 1.0, name="x2")
x3, x4, x5 = tune.float(0.0, 1.0, name="x3"), tune.float(0.0, 1.0, name="x4"), tune.float(0.0, 1.0, name="x5")
x = np.array([x0, x1, x2, x3, x4, x5])
-(HARTMANN_ALPHA * np.exp(-(HARTMANN_A * (x - HARTMANN_P) ** 2).sum(axis=1))).sum()
"""

FOREST = """\
from sklearn.ensemble import RandomForestClassifier
RandomForestClassifier(
    n_estimators=tune.int(10, 60),
    max_depth=tune.int(2, 20),
    min_samples_leaf=tune.int(1, 10),
    max_features=tune.float(0.1, 1.0),
    random_state=0,
)
"""
FOREST_RANGES = {"n_estimators": (10, 60), "max_depth": (2, 20), "min_samples_leaf": (1, 10)}
CV = 3


def hartmann_constants() -> dict[str, Any]:
    import numpy as np

    return {
        "HARTMANN_ALPHA": np.array([1.0, 1.2, 3.0, 3.2]),
        "HARTMANN_A": np.array(
            [
                [10, 3, 17, 3.5, 1.7, 8],
                [0.05, 10, 17, 0.1, 8, 14],
                [3, 3.5, 1.7, 10, 17, 8],
                [17, 8, 0.05, 10, 0.1, 14],
            ]
        ),
        "HARTMANN_P": 1e-4
        * np.array(
            [
                [1312, 1696, 5569, 124, 8283, 5886],
                [2329, 4135, 8307, 3736, 1004, 9991],
                [2348, 1451, 3522, 2883, 3047, 6650],
                [4047, 8828, 8732, 5743, 1091, 381],
            ]
        ),
    }


def problems() -> dict[str, dict[str, Any]]:
    from sklearn.datasets import load_breast_cancer, load_digits

    cancer = load_breast_cancer(return_X_y=True)
    digits = load_digits(return_X_y=True)
    return {
        "branin": {"cell": BRANIN, "ns": {}, "direction": "minimize"},
        "hartmann6": {"cell": HARTMANN6, "ns": hartmann_constants(), "direction": "minimize"},
        "breast_cancer": {"cell": FOREST, "ns": {"X": cancer[0], "y": cancer[1]}, "direction": "maximize"},
        "digits": {"cell": FOREST, "ns": {"X": digits[0], "y": digits[1]}, "direction": "maximize"},
    }


def run_ipytune(problem: dict[str, Any], method: str, budget: int, seed: int) -> tuple[list[float], float]:
    """Best-so-far curve and wall time of one ipytune search."""
    from ipytune.honest.compare import compare_methods
    from ipytune.search.cell import parse_cell
    from ipytune.search.declarations import tune
    from ipytune.search.settings import Scoring, SearchSettings

    program = parse_cell(problem["cell"])
    namespace = dict(problem["ns"], tune=tune)
    data = ("X", "y") if "X" in namespace else None
    settings = SearchSettings(
        method=method,
        n_trials=budget,
        direction=problem["direction"],
        seed=seed,
        storage="memory",
        scoring=Scoring(data=data, cv=CV),
    )
    comparison = compare_methods(program, namespace, settings, [method])
    run = comparison.runs[0]
    return run.curve, run.seconds


def run_sklearn(problem: dict[str, Any], kind: str, budget: int, seed: int) -> tuple[list[float], float]:
    """GridSearchCV on the same grid as ipytune's grid, or RandomizedSearchCV on the same ranges."""
    import numpy as np
    from scipy.stats import randint, uniform
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from ipytune.honest.compare import budget_grid
    from ipytune.search.cell import parse_cell
    from ipytune.search.declarations import tune

    X, y = problem["ns"]["X"], problem["ns"]["y"]
    model = RandomForestClassifier(random_state=0)
    started = time.perf_counter()
    if kind == "GridSearchCV":
        params = parse_cell(FOREST).static_space({"tune": tune}, "grid", require=True)
        grid = {p.name: values for p, values in zip(params, budget_grid(params, budget), strict=True)}
        search: Any = GridSearchCV(model, grid, cv=CV, refit=False)  # ipytune's time has no refit either
    else:
        distributions = {name: randint(low, high + 1) for name, (low, high) in FOREST_RANGES.items()}
        distributions["max_features"] = uniform(0.1, 0.9)
        search = RandomizedSearchCV(model, distributions, n_iter=budget, cv=CV, random_state=seed, refit=False)
    search.fit(X, y)
    seconds = time.perf_counter() - started
    scores = search.cv_results_["mean_test_score"]
    return list(np.maximum.accumulate(scores)), seconds


def at(curve: list[float], budget: int) -> float:
    """Best so far after ``budget`` trials (the last value when the search ran fewer)."""
    return curve[min(budget, len(curve)) - 1] if curve else math.nan


def measure(seeds: int, only: list[str] | None, methods: list[str] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, problem in problems().items():
        if only and name not in only:
            continue
        rows: dict[str, Any] = {}
        contenders = list(METHODS) + (["GridSearchCV", "RandomizedSearchCV"] if "X" in problem["ns"] else [])
        for method in contenders:
            if methods and method not in methods:
                continue
            best: dict[int, list[float]] = {b: [] for b in BUDGETS}
            trials: dict[int, int] = {}
            seconds: list[float] = []
            if method in ("grid", "GridSearchCV"):  # a whole grid per budget: the seed does not matter
                for budget in BUDGETS:
                    runner = run_ipytune if method == "grid" else run_sklearn
                    curve, wall = runner(problem, method, budget, 0)
                    best[budget].append(curve[-1])
                    trials[budget] = len(curve)
                    if budget == BUDGETS[-1]:
                        seconds.append(wall)
            else:
                for seed in range(seeds):
                    runner = run_ipytune if method in METHODS else run_sklearn
                    curve, wall = runner(problem, method, BUDGETS[-1], seed)
                    for budget in BUDGETS:
                        best[budget].append(at(curve, budget))
                    seconds.append(wall)
            rows[method] = {
                "best": {str(b): v for b, v in best.items()},
                "trials": {str(b): n for b, n in trials.items()},
                "seconds": seconds,
            }
            print(f"{name:14s} {method:19s} {summarise(rows[method], problem['direction'])}", flush=True)
        results[name] = {"direction": problem["direction"], "methods": rows}
    return results


def summarise(row: dict[str, Any], direction: str) -> str:
    cells = []
    for budget in BUDGETS:
        values = row["best"][str(budget)]
        ran = row.get("trials", {}).get(str(budget))
        cells.append(_cell(values) + (f" ({ran} trials)" if ran is not None and ran != budget else ""))
    wall = statistics.median(row["seconds"])
    return " | ".join(cells) + (f" | {wall:.2f}" if wall < 10 else f" | {wall:.1f}")


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.median(values):.4f} [{min(values):.4f}, {max(values):.4f}]"


def report(results: dict[str, Any]) -> str:
    lines = []
    for name, problem in results.items():
        goal = "higher is better" if problem["direction"] == "maximize" else "lower is better"
        lines += [
            f"**{name}** ({goal}; median [min, max] over seeds; grid runs once)",
            "",
            "| method | after 10 | after 20 | after 40 | wall s (40 trials, median) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for method, row in problem["methods"].items():
            lines.append(f"| {method} | " + summarise(row, problem["direction"]) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--problems", default=None, help="comma-separated subset of problems")
    parser.add_argument("--methods", default=None, help="comma-separated subset of methods")
    parser.add_argument("--out", default=None, help="write the raw results (JSON) here")
    parser.add_argument("--report", default=None, help="print the Markdown tables of a results file and exit")
    args = parser.parse_args()
    if args.report:
        with open(args.report) as handle:
            print(report(json.load(handle)["results"]))
        return
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("optuna").setLevel(logging.WARNING)
    results = measure(
        args.seeds,
        args.problems.split(",") if args.problems else None,
        args.methods.split(",") if args.methods else None,
    )
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"seeds": args.seeds, "results": results}, handle, indent=1)
    print()
    print(report(results))


if __name__ == "__main__":
    main()
