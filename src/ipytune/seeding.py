"""Seed every random number generator a notebook uses, and say what was done.

``seed_everything`` seeds Python's ``random``, NumPy's global generator and
PyTorch (CPU and CUDA), and, with ``deterministic=True`` (the default), turns
on PyTorch's determinism switches: cuDNN flags, deterministic algorithms and
the CUBLAS workspace setting. It returns a :class:`SeedReport`, one row per
source. Cheap seeding (``deterministic=False``) and costly determinism are
separate switches, as in transformers' ``set_seed`` / ``enable_full_determinism``.

This module, like the report it returns, imports only the standard library
at load time. PyTorch is imported when it is installed (that takes about a
second the first time), because a generator seeded before ``import torch``
would otherwise be missed.

The report lives in :mod:`ipytune.seed_report`; snapshots of every
generator, for code that must leave the session as it found it, in
:mod:`ipytune.rng_states`.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import warnings
from typing import Any

from ipytune.errors import IpytuneWarning
from ipytune.seed_report import SeedReport, SeedRow

__all__ = [
    "CUBLAS_ENV",
    "DEFAULT_SEED",
    "MAX_SEED",
    "SEED_ENV",
    "SeedReport",
    "check_seed",
    "parse_seeds",
    "reset_seed",
    "seed_everything",
    "seed_generators",
    "seed_worker",
    "seeded_generator",
]

DEFAULT_SEED = 42
MAX_SEED = 2**32 - 1  # NumPy's legacy global generator takes seeds in [0, 2**32)
SEED_ENV = "IPYTUNE_SEED"
CUBLAS_ENV = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_VALUE = ":4096:8"
_CUBLAS_DETERMINISTIC = (":4096:8", ":16:8")  # the values NVIDIA documents as deterministic

# Every source a seed or switch goes to, in the order reports show them: key -> label.
SOURCES = {
    "python": "Python random",
    "numpy": "NumPy",
    "torch": "torch CPU",
    "cuda": "torch CUDA",
    "cudnn": "cuDNN flags",
    "deterministic": "deterministic algorithms",
    "cublas": "CUBLAS config",
}
# Where the seed is recorded (report rows, not seed sources).
_RECORDS = {"env": "environment", "hash": "PYTHONHASHSEED"}
# The sources that only matter on a CUDA device, and those that need PyTorch.
CUDA_SOURCES = ("cuda", "cudnn", "cublas")
TORCH_SOURCES = ("torch", "cuda", "cudnn", "deterministic")

SET, NOT_INSTALLED, NOT_AVAILABLE, TOO_LATE, SKIPPED, UNSEEDED = (
    "set",
    "not installed",
    "not available",
    "too late",
    "skipped",
    "left unseeded",
)


def check_seed(value: Any, what: str = "seed") -> int:
    """``value`` as a seed (an int in [0, 2**32 - 1]), or a one-line ``ValueError`` saying what to pass."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            raise ValueError(
                f"{what} {text!r} is not an integer: give a whole number from 0 to {MAX_SEED}, e.g. 42."
            ) from None
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"{what} {value!r} is not an integer: give a whole number from 0 to {MAX_SEED}, e.g. 42.")
    seed = int(value)
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{what} {seed} is out of range: give a whole number from 0 to {MAX_SEED}, e.g. 42.")
    return seed


def parse_seeds(text: str, what: str = "--seeds") -> tuple[int, ...]:
    """``"42,123,456"`` -> ``(42, 123, 456)``; anything else is a one-line ``ValueError``."""
    usage = f"give comma-separated integers from 0 to {MAX_SEED}, e.g. {what} 42,123,456."
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        try:
            seed = check_seed(part)
        except ValueError:
            shown = repr(part) if part else "an empty item"
            raise ValueError(f"{what} {text!r}: {shown} is not a seed; {usage}") from None
        if seed in seeds:
            raise ValueError(f"{what} {text!r} lists seed {seed} twice: give each seed once.")
        seeds.append(seed)
    return tuple(seeds)


def seed_everything(seed: Any = DEFAULT_SEED, deterministic: bool = True, warn_only: bool = False) -> SeedReport:
    """Seed Python, NumPy and PyTorch (CPU and CUDA); with ``deterministic``, switch on determinism.

    ``deterministic=True`` also sets ``cudnn.deterministic = True``,
    ``cudnn.benchmark = False``, ``torch.use_deterministic_algorithms(True,
    warn_only=warn_only)`` and ``CUBLAS_WORKSPACE_CONFIG=:4096:8``; with
    ``deterministic=False`` those are left as they are. The seed is recorded in
    ``IPYTUNE_SEED`` (see :func:`reset_seed`) and ``PYTHONHASHSEED`` (which
    only new processes, e.g. DataLoader workers, read). Returns a
    :class:`SeedReport`; ``report.seed`` is the validated seed.
    """
    return apply_seed(check_seed(seed), deterministic, warn_only)


def reset_seed() -> SeedReport | None:
    """Seed the generators again with the seed the last ``seed_everything`` recorded (None if none was)."""
    recorded = os.environ.get(SEED_ENV)
    if recorded is None:
        return None
    return apply_seed(check_seed(recorded, what=SEED_ENV), deterministic=False, warn_only=False)


def seed_generators(seed: int) -> None:
    """Cheap per-run seeding (Python, NumPy, torch CPU and CUDA), no report: what ``%%tune --seed`` uses per trial."""
    random.seed(seed)
    numpy_random().seed(seed)
    torch = installed_torch()
    if torch is not None:
        torch.default_generator.manual_seed(seed)  # torch.manual_seed also walks every backend: ~90 µs
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)


def apply_seed(seed: int, deterministic: bool, warn_only: bool, leave_out: str | None = None) -> SeedReport:
    """``seed_everything`` for a checked seed; ``leave_out`` names one source to leave unseeded.

    ``%%repro --ablate`` varies ``leave_out`` to learn which sources change a result.
    """
    report = SeedReport(seed, deterministic, warn_only)
    rows = report.rows
    torch = installed_torch()
    cuda = torch is not None and torch.cuda.is_available()

    def row(key: str, setting: str, status: str, note: str = "") -> None:
        if key == leave_out and status == SET:
            status = UNSEEDED
        rows.append(SeedRow(key, SOURCES.get(key) or _RECORDS[key], setting, status, note))

    if leave_out == "python":
        random.seed()  # fresh entropy: the run really depends on nothing we chose
    else:
        random.seed(seed)
    row("python", f"random.seed({seed})", SET)

    numpy = numpy_random(required=False)
    if numpy is None:
        row("numpy", f"np.random.seed({seed})", NOT_INSTALLED)
    else:
        numpy.seed(None if leave_out == "numpy" else seed)
        row("numpy", f"np.random.seed({seed})", SET)

    if torch is None:
        for key in TORCH_SOURCES:
            row(key, _TORCH_SETTINGS[key].format(seed=seed, warn_only=warn_only), NOT_INSTALLED)
    else:
        if leave_out == "torch":
            torch.default_generator.seed()  # CPU only; torch.seed() would reseed CUDA as well
        else:
            torch.default_generator.manual_seed(seed)
        row("torch", f"torch.manual_seed({seed})", SET)
        if cuda:
            if leave_out == "cuda":
                torch.cuda.seed_all()
            else:
                torch.cuda.manual_seed_all(seed)
            row("cuda", f"torch.cuda.manual_seed_all({seed})", SET)
        else:
            row("cuda", f"torch.cuda.manual_seed_all({seed})", NOT_AVAILABLE, "no CUDA device")
        _torch_switches(torch, deterministic, warn_only, leave_out, row)

    _cublas(torch, cuda, deterministic, leave_out, row)

    os.environ[SEED_ENV] = str(seed)
    row("env", f"{SEED_ENV}={seed}", SET, "reset_seed() re-applies it")
    os.environ["PYTHONHASHSEED"] = str(seed)
    row("hash", f"PYTHONHASHSEED={seed}", SET, "new processes only: this kernel's str hashes were fixed at start-up")
    return report


_TORCH_SETTINGS = {
    "torch": "torch.manual_seed({seed})",
    "cuda": "torch.cuda.manual_seed_all({seed})",
    "cudnn": "cudnn.deterministic=True, cudnn.benchmark=False",
    "deterministic": "torch.use_deterministic_algorithms(True, warn_only={warn_only})",
}


def _torch_switches(torch: Any, deterministic: bool, warn_only: bool, leave_out: str | None, row: Any) -> None:
    cudnn = torch.backends.cudnn
    if leave_out == "cudnn":
        cudnn.deterministic, cudnn.benchmark = False, True
        row("cudnn", _TORCH_SETTINGS["cudnn"], UNSEEDED, "set to deterministic=False, benchmark=True")
    elif deterministic:
        cudnn.deterministic, cudnn.benchmark = True, False
        row("cudnn", _TORCH_SETTINGS["cudnn"], SET)
    else:
        row("cudnn", _TORCH_SETTINGS["cudnn"], SKIPPED, f"--no-deterministic: {_cudnn_state(torch)}")

    setting = _TORCH_SETTINGS["deterministic"].format(warn_only=warn_only)
    if leave_out == "deterministic":
        torch.use_deterministic_algorithms(False)
        row("deterministic", setting, UNSEEDED, "set to False")
    elif deterministic:
        torch.use_deterministic_algorithms(True, warn_only=warn_only)
        row("deterministic", setting, SET, "warn only" if warn_only else "")
    else:
        enabled = torch.are_deterministic_algorithms_enabled()
        row("deterministic", setting, SKIPPED, f"--no-deterministic: currently {enabled}")


def _cublas(torch: Any, cuda: bool, deterministic: bool, leave_out: str | None, row: Any) -> None:
    setting = f"{CUBLAS_ENV}={CUBLAS_VALUE}"
    if leave_out == "cublas":
        os.environ.pop(CUBLAS_ENV, None)
        row("cublas", setting, UNSEEDED, "unset")
        return
    if not deterministic:
        row("cublas", setting, SKIPPED, f"--no-deterministic: currently {os.environ.get(CUBLAS_ENV, 'unset')}")
        return
    current = os.environ.get(CUBLAS_ENV)
    already = current in _CUBLAS_DETERMINISTIC
    if already:  # keep a deterministic value the user chose (":16:8" uses less memory)
        setting = f"{CUBLAS_ENV}={current}"
    else:
        os.environ[CUBLAS_ENV] = CUBLAS_VALUE
    if cuda and torch.cuda.is_initialized() and not already:
        # cuBLAS reads the variable when CUDA starts: this process keeps its old workspace.
        warnings.warn(
            IpytuneWarning(
                f"{CUBLAS_ENV} was set after CUDA was initialised, too late for this process: restart the "
                f"kernel and run %seed_everything before any CUDA work."
            ),
            stacklevel=3,
        )
        row("cublas", setting, TOO_LATE, "CUDA was already initialised: restart the kernel and seed first")
    elif cuda or torch is None:
        row("cublas", setting, SET)
    else:
        row("cublas", setting, SET, "no CUDA device: takes effect only on a GPU")


def _cudnn_state(torch: Any) -> str:
    cudnn = torch.backends.cudnn
    return f"currently deterministic={cudnn.deterministic}, benchmark={cudnn.benchmark}"


def seed_worker(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=seed_worker)``: seed each worker's Python and NumPy from its torch seed.

    PyTorch seeds each worker's torch generator from the loader's ``generator``
    plus the worker id, but not ``random`` or NumPy; this follows PyTorch's
    reproducibility notes. Pass ``generator=seeded_generator()`` too.
    """
    import torch

    worker_seed = torch.initial_seed() % 2**32
    random.seed(worker_seed)
    numpy_random().seed(worker_seed)


def seeded_generator(seed: Any = None, device: str = "cpu") -> Any:
    """A ``torch.Generator`` seeded with ``seed`` (default: the last ``seed_everything`` seed, else 42).

    For ``DataLoader(generator=...)`` or ``torch.randperm(..., generator=...)``:
    its own stream, so shuffling does not depend on what else drew numbers.
    """
    import torch

    if seed is None:
        seed = os.environ.get(SEED_ENV, DEFAULT_SEED)
    generator = torch.Generator(device=device)
    generator.manual_seed(check_seed(seed))
    return generator


def installed_torch() -> Any:
    """The torch module when it is installed (imported now if it was not), else None."""
    torch = sys.modules.get("torch")
    if torch is None and _installed("torch"):
        try:
            import torch
        except Exception as error:  # a broken install must not stop the other sources
            _INSTALLED["torch"] = False
            warnings.warn(
                IpytuneWarning(f"torch is installed but does not import ({error}); not seeded."), stacklevel=3
            )
            return None
    return torch


def numpy_random(required: bool = True) -> Any:
    """``numpy.random``; when not ``required``, None if NumPy is not installed."""
    if required or _installed("numpy"):
        import numpy.random

        return numpy.random
    return None


_INSTALLED: dict[str, bool] = {}


def _installed(name: str) -> bool:
    if name not in _INSTALLED:
        _INSTALLED[name] = name in sys.modules or importlib.util.find_spec(name) is not None
    return _INSTALLED[name]
