"""``%seed_everything`` and ``%%repro``: seed every generator; check that a cell is reproducible.

Light at load time: :mod:`ipytune.seeding` imports only the standard library,
and the repro machinery loads when ``%%repro`` runs.
"""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ipytune.magics._shell import check_line, compile_cell, show_user_traceback
from ipytune.seeding import DEFAULT_SEED, check_seed

DEFAULT_RUNS = 2


@magics_class
class SeedingMagics(Magics):
    """``%seed_everything [SEED]`` and ``%%repro``."""

    @magic_arguments()
    @argument(
        "seed", nargs="?", default=None, help=f"The seed, an integer from 0 to 2**32 - 1 (default {DEFAULT_SEED})."
    )
    @argument(
        "--no-deterministic",
        dest="deterministic",
        action="store_false",
        help="Seeds only: leave cuDNN flags, deterministic algorithms and CUBLAS_WORKSPACE_CONFIG as they are.",
    )
    @argument("--warn-only", action="store_true", help="Deterministic algorithms warn instead of raising.")
    @argument("--quiet", action="store_true", help="Show nothing (the report is still returned).")
    @line_magic
    def seed_everything(self, line: str) -> Any:
        """Seed Python, NumPy, PyTorch CPU and CUDA; switch on PyTorch's determinism; show what was set.

        Returns a ``SeedReport`` (shown as a table unless --quiet). Run it before
        any CUDA work: CUBLAS_WORKSPACE_CONFIG is read when CUDA starts.
        """
        from ipytune.seeding import seed_everything

        check_line(line)
        args = parse_argstring(self.seed_everything, line)
        seed = _seed(args.seed, "seed", DEFAULT_SEED)
        report = seed_everything(seed, deterministic=args.deterministic, warn_only=args.warn_only)
        report.quiet = args.quiet
        return report

    @magic_arguments()
    @argument("--runs", type=int, default=DEFAULT_RUNS, help=f"Times to run the cell (default {DEFAULT_RUNS}).")
    @argument("--seed", default=None, help=f"Seed for every run (default {DEFAULT_SEED}).")
    @argument(
        "--ablate",
        action="store_true",
        help="Then run once per seed source with that source left unseeded; show which ones change the result.",
    )
    @argument("--atol", type=float, default=0.0, help="Differences up to this size count as equal (default 0).")
    @argument("--warn-only", action="store_true", help="Deterministic algorithms warn instead of raising.")
    @cell_magic
    def repro(self, line: str, cell: str) -> Any:
        """Run the cell several times, each after seed_everything(SEED), and compare its last expression.

        The last expression may be a number, array, tensor, DataFrame, or a
        dict/list of those. Each run uses a copy of the namespace, and every
        generator is restored afterwards. Returns a ``ReproResult``
        (``reproducible``, ``largest_difference``, ``matters``, ``table()``).
        """
        check_line(line)
        args = parse_argstring(self.repro, line)
        if args.runs < 2:
            raise UsageError(f"--runs {args.runs}: comparing needs at least 2 runs, e.g. --runs 3.")
        if args.atol < 0:
            raise UsageError(f"--atol {args.atol:g}: give a tolerance of 0 or more.")
        seed = _seed(args.seed, "--seed", DEFAULT_SEED)

        from ipytune.repro.check import check

        program = self._program(cell)
        assert self.shell is not None
        try:
            return check(
                program,
                self.shell.user_ns,
                runs=args.runs,
                seed=seed,
                ablate=args.ablate,
                atol=args.atol,
                warn_only=args.warn_only,
            )
        except Exception as error:
            show_user_traceback(self.shell, sys.exc_info(), program.filename)  # type: ignore[arg-type]
            raise UsageError(
                f"%%repro: the cell raised {type(error).__name__} (traceback above), so there is nothing to compare."
            ) from None

    def _program(self, cell: str) -> Any:
        return compile_cell(
            self.shell,
            cell,
            missing_objective="%%repro compares the cell's last expression across runs: end the cell with the "
            "value to compare (e.g. `loss`, `model.weight` or `predictions`).",
        )


def _seed(text: str | None, what: str, default: int) -> int:
    if text is None:
        return default
    try:
        return check_seed(text, what=what)
    except ValueError as error:
        raise UsageError(str(error)) from None
