"""The command lines of ``%%tune`` and ``%automl``, parsed (their flags are declared in :mod:`.arguments`).

This is where a flag is parsed: each line becomes a typed options object, validated here, once,
by building the engine's :class:`~ipytune.search.settings.SearchSettings` (and the
tracker's settings) from it. Parsing is kept apart from running so it can be tested
on its own. Defaults a user may change with ``%config TuneMagics.<name>`` come in
as ``defaults`` (see :mod:`ipytune.magics.defaults`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring

from ipytune.magics.arguments import tune_arguments
from ipytune.search.settings import METHODS, Method, Pruner, Scoring, SearchSettings, check_method

if TYPE_CHECKING:
    from ipytune.search.engine import Transport
    from ipytune.tracking.observer import TrackSettings


@dataclass(frozen=True)
class TuneOptions:
    """A parsed ``%%tune`` line; :meth:`settings` and :meth:`tracking` are what the engine and tracker get."""

    method: Method
    trials: int | None
    timeout: float | None
    direction: str
    seed: int | None
    study: str | None
    storage: str | None = field(repr=False)  # a URL may hold a password: never in a repr
    refit: bool
    data: tuple[str, str] | None
    cv: int
    scoring: str | None
    catch: bool
    quiet: bool
    prune: Pruner = "none"
    nested: int | None = None
    compare: tuple[Method, ...] | None = None
    repeats: int = 1
    seeds: tuple[int, ...] | None = None
    deterministic: bool = False
    n_jobs: int | None = None  # --n-jobs: trials in worker processes (threads with --threads) on this machine
    threads: bool = False
    track: bool = True
    project: str | None = None
    metric_name: str = "objective"
    cluster: str | None = None  # --cluster: a Dask scheduler address or a Client's name in the notebook
    tags: tuple[str, ...] = ()
    notes: str | None = None
    save_model: bool = True

    @property
    def sampler_seed(self) -> int | None:
        """--seed; with only --seeds, the first of them, so the whole search repeats."""
        if self.seed is None and self.seeds:
            return self.seeds[0]
        return self.seed

    def settings(self) -> SearchSettings:
        """The engine's settings (validated as they are made)."""
        return SearchSettings(
            method=self.method,
            n_trials=self.trials,
            timeout=self.timeout,
            direction="minimize" if self.direction == "minimize" else "maximize",
            seed=self.sampler_seed,
            seeds=self.seeds,
            deterministic=self.deterministic,
            study_name=self.study,
            storage=self.storage,
            catch=self.catch,
            scoring=Scoring(data=self.data, cv=self.cv, scoring=self.scoring),
            prune=self.prune,
        )

    def transport(self) -> Transport | None:
        """Where the trials run: None for one after another in the kernel; --n-jobs: worker processes or threads."""
        if self.n_jobs is None:
            return None
        from ipytune.search.transports.processes import LocalTransport

        return LocalTransport(self.n_jobs, threads=self.threads)

    def tracking(self, method: str | None = None, project: str | None = None) -> TrackSettings | None:
        """The tracker's settings (None with --no-track); ``method``/``project`` for one search of several."""
        if not self.track:
            return None
        from ipytune.tracking.observer import TrackSettings

        return TrackSettings(
            method=method or self.method,
            project=project or self.project,
            metric_name=self.metric_name,
            seed=self.sampler_seed,
            seeds=self.seeds,
            tags=self.tags,
            notes=self.notes,
            save_model=self.save_model,
        )


@tune_arguments
def _signature(line: str) -> None:
    """%%tune [options]: run the cell once per trial; its last expression is the objective."""


def parse_tune_line(
    line: str, defaults: dict[str, Any] | None = None, magic: Callable[..., Any] = _signature
) -> TuneOptions:
    """Parse a ``%%tune`` line into validated options; misuse is a one-line ``UsageError``."""
    defaults = defaults or {}
    args = parse_argstring(magic, line)
    _one_direction(line)
    options = TuneOptions(
        method=_method(args.method, defaults),
        trials=args.trials,
        timeout=args.timeout,
        direction=args.direction or "maximize",
        seed=args.seed,
        study=args.study,
        storage=args.storage or defaults.get("storage") or None,
        refit=defaults.get("refit", True) if args.refit is None else args.refit,
        data=_data(args.data),
        cv=args.cv if args.cv is not None else defaults.get("cv", 5),
        scoring=args.scoring,
        catch=args.catch,
        quiet=args.quiet or defaults.get("quiet", False),
        prune=args.prune or "none",
        nested=args.nested,
        compare=_methods(args.compare),
        repeats=args.repeats if args.repeats is not None else 1,
        seeds=_seeds(args.seeds),
        deterministic=args.deterministic,
        n_jobs=args.n_jobs,
        threads=args.threads,
        track=defaults.get("track", True) if args.track is None else args.track,
        project=args.project,
        metric_name=args.metric_name or "objective",
        cluster=args.cluster,
        tags=_tags(args.tags),
        notes=_notes(args.notes),
        save_model=defaults.get("save_model", True) if args.save_model is None else args.save_model,
    )
    _validate_cluster(options)
    _validate_seeds(options)
    options.settings()  # every search setting is checked where it is made
    _validate_honest(options)
    _validate_parallel(options)
    check_tracking(options.project, options.metric_name)
    return options


@dataclass(frozen=True)
class AutoMLOptions:
    """A parsed ``%automl`` line: the data's names, the families, and what every family search shares."""

    data: tuple[str, str]
    task: str | None
    families: tuple[str, ...] | None
    method: Method
    trials: int | None
    timeout: float | None
    cv: int
    scoring: str | None
    nested: int | None
    seed: int | None
    tolerance: float | None
    study: str | None
    project: str | None
    track: bool
    storage: str | None = field(repr=False)  # a URL may hold a password: never in a repr
    quiet: bool

    def tracking(self, project: str) -> TrackSettings | None:
        """Every family's runs go to one project (one group per family); None with --no-track."""
        if not self.track:
            return None
        from ipytune.tracking.observer import TrackSettings

        return TrackSettings(method=self.method, project=self.project or project, seed=self.seed)


def parse_automl_line(line: str, defaults: dict[str, Any], magic: Callable[..., Any]) -> AutoMLOptions:
    """Parse an ``%automl`` line; the search settings themselves are checked by ``ipytune.automl``."""
    args = parse_argstring(magic, line)
    data = _data(args.data)
    if data is None:
        raise UsageError("%automl needs --data X y: the names of the features and the target in the notebook.")
    families = tuple(f.strip() for f in args.families.split(",") if f.strip()) if args.families else None
    if args.families is not None and not families:
        raise UsageError(f"--families {args.families!r}: name them, separated by commas, e.g. --families forest,svm.")
    options = AutoMLOptions(
        data=data,
        task=args.task,
        families=families or None,
        method=_method(args.method, defaults),
        trials=args.trials,
        timeout=args.timeout,
        cv=args.cv if args.cv is not None else defaults.get("cv", 5),
        scoring=args.scoring,
        nested=args.nested,
        seed=args.seed,
        tolerance=args.tolerance,
        study=args.study,
        project=args.project,
        track=defaults.get("track", True) if args.track is None else args.track,
        storage=args.storage or defaults.get("storage") or None,
        quiet=args.quiet or defaults.get("quiet", False),
    )
    check_seed_flag(options.seed)
    check_nested(options.nested)
    check_tracking(options.project)
    return options


def _method(flag: str | None, defaults: dict[str, Any]) -> Method:
    """--method, else the %config default (a bad default is named as what it is, not as a flag never typed)."""
    if flag is not None:
        return check_method(flag)
    return check_method(defaults.get("method", "tpe"), flag="%config TuneMagics.default_method")


def _one_direction(line: str) -> None:
    import shlex

    try:
        words = shlex.split(line)
    except ValueError:  # quoting argparse took but shlex does not
        words = line.split()
    if {"--maximize", "--minimize"} <= set(words):
        raise UsageError("--maximize and --minimize together: keep the one you mean.")


def _data(names: list[str] | None) -> tuple[str, str] | None:
    if not names:
        return None
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"--data {name!r}: give the names of two variables, e.g. --data X y.")
    return names[0], names[1]


# trackio's reserved keys, and the names of ipytune's own per-trial metrics.
_RESERVED_METRICS = ("state", "duration", "step", "timestamp", "time", "project", "run", "metrics")


def check_tracking(project: str | None, metric_name: str = "objective") -> None:
    """--project / --metric-name: names trackio can store (checked without importing trackio)."""
    if project is not None and (
        not any(c.isalnum() or c in "-_" for c in project) or project.strip().startswith("registry-")
    ):
        raise UsageError(
            f"--project {project!r}: give a name with letters, digits, '-' or '_' (not starting with 'registry-')."
        )
    if not metric_name.strip() or metric_name.startswith("_") or metric_name in _RESERVED_METRICS:
        raise UsageError(
            f"--metric-name {metric_name!r}: choose another name (not empty, no leading '_', not state/duration/step/time)."
        )


def _unquoted(text: str) -> str:
    """``"a b"`` -> ``a b``: magic_arguments splits on spaces outside quotes but keeps the quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _tags(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    from ipytune.tracking.records import parse_tags

    try:
        return parse_tags(_unquoted(text))
    except ValueError as error:
        raise UsageError(str(error)) from None


def _notes(text: str | None) -> str | None:
    if text is None:
        return None
    text = _unquoted(text)
    if not text:
        raise UsageError('--notes needs some text, e.g. --notes "baseline with default features".')
    return text


def _methods(text: str | None) -> tuple[Method, ...] | None:
    if text is None:
        return None
    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(
            f"--compare {text!r}: give methods from {', '.join(METHODS)} separated by commas, e.g. --compare random,tpe."
        )
    if len(set(methods)) != len(methods):
        raise UsageError(f"--compare {text!r} names a method twice.")
    return tuple(check_method(m) for m in methods)


def check_nested(k: int | None) -> None:
    if k is not None and k < 2:
        raise UsageError(f"--nested {k}: the outer loop needs at least 2 folds.")


def _validate_honest(options: TuneOptions) -> None:
    """--nested / --compare / --repeats: checks that need no data yet."""
    check_nested(options.nested)
    if options.nested is not None:
        if options.data is None:
            raise UsageError(
                "--nested needs --data X y: the outer folds split that data (the cell ends with an estimator)."
            )
        if options.compare is not None:
            raise UsageError(
                "--nested and --compare do not combine: compare methods first, then nest the one you keep."
            )
    if options.repeats < 1:
        raise UsageError(f"--repeats {options.repeats}: run at least 1 repetition.")
    if options.repeats > 1 and options.compare is None:
        raise UsageError("--repeats goes with --compare (it repeats each method's search); drop it or add --compare.")


def _validate_cluster(options: TuneOptions) -> None:
    """--cluster: one search, on a storage every Dask worker reaches."""
    if options.cluster is None:
        return
    if not options.cluster.strip():
        raise UsageError("--cluster needs a scheduler address (tcp://host:8786) or the name of a Dask Client.")
    if options.n_jobs is not None or options.threads:  # worker processes (threads) on this machine
        raise UsageError("--cluster and --n-jobs do not combine: --cluster runs one worker loop per Dask worker.")
    if options.compare is not None or options.nested is not None:
        raise UsageError("--cluster runs one search: drop --compare / --nested, or run them without --cluster.")
    from ipytune.search.storage import check_shared_storage

    check_shared_storage(options.storage)


def _validate_parallel(options: TuneOptions) -> None:
    """--n-jobs / --threads."""
    if options.threads and options.n_jobs is None:
        raise UsageError("--threads goes with --n-jobs N (N threads instead of N worker processes): add --n-jobs.")
    if options.n_jobs is None:
        return
    if options.n_jobs == 0:
        raise UsageError("--n-jobs 0: give a number of workers (N >= 1, or -1 for one per core).")
    if options.compare is not None or options.nested is not None:
        raise UsageError(
            "--n-jobs does not combine with --compare or --nested yet: run a single search with --n-jobs, or drop it."
        )
    if not options.threads and (options.storage or "").strip() == "memory":
        from ipytune.search.transports import MEMORY_STORAGE

        raise UsageError(MEMORY_STORAGE)


def _seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    from ipytune.seeding import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def check_seed_flag(seed: int | None) -> None:
    from ipytune.seeding import check_seed

    if seed is not None:
        try:
            check_seed(seed, what="--seed")
        except ValueError as error:
            raise UsageError(str(error)) from None


def _validate_seeds(options: TuneOptions) -> None:
    """--seed / --seeds / --deterministic."""
    check_seed_flag(options.seed)
    if options.deterministic and options.seed is None and options.seeds is None:
        raise UsageError("--deterministic goes with --seed S or --seeds S1,S2,...: add one of them.")
