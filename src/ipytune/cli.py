"""The ``ipytune`` command. ``ipytune demo`` runs the quickstart notebook headless in a real kernel."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SUMMARY_TAG = "summary"


def find_quickstart() -> Path:
    """The quickstart notebook: the source checkout's ``examples/``, else the copy in the package."""
    checkout = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"
    if checkout.exists():
        return checkout
    return Path(__file__).resolve().parent / "examples" / "quickstart.ipynb"


def executed_path(notebook: Path) -> Path:
    """Where the executed copy goes: next to the notebook, or the working directory if that is read-only."""
    beside = notebook.with_name(f"{notebook.stem}.executed.ipynb")
    try:
        beside.touch()
        return beside
    except OSError:
        return Path.cwd() / beside.name


def run_demo(notebook: Path, output: Path | None, timeout: int) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if not notebook.exists():
        print(f"ipytune demo: {notebook} does not exist; pass --notebook PATH.", file=sys.stderr)
        return 2
    output = output or executed_path(notebook)
    print(f"Running {notebook} in a fresh kernel (about a minute)...", flush=True)
    nb = nbformat.read(notebook, as_version=4)
    sockets = tempfile.mkdtemp(prefix="ipytune-demo-")
    kernel = _kernel_manager(sockets)
    client = NotebookClient(
        nb,
        timeout=timeout,
        km=kernel,
        extra_arguments=["--IPKernelApp.log_level=ERROR"] if os.name == "nt" else [],
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        nbformat.write(nb, output)
        print(f"ipytune demo: a cell failed; the partly executed notebook is {output}.\n{error}", file=sys.stderr)
        return 1
    finally:
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=False)
        shutil.rmtree(sockets, ignore_errors=True)
    nbformat.write(nb, output)
    print(summary_text(nb) or "(the notebook printed no summary)")
    print(f"\nDone in {time.perf_counter() - started:.0f} s. Executed notebook: {output}")
    return 0


def _kernel_manager(sockets: str) -> Any:
    """A python3 kernel talking over Unix sockets in ``sockets``: over TCP, ipykernel warns that its
    traffic is unencrypted, which a new user reads as something wrong (this kernel only ever talks
    to this process). Windows has no such sockets: TCP on 127.0.0.1 there, warnings left quiet."""
    from jupyter_client.manager import KernelManager

    if os.name == "nt":
        return KernelManager(kernel_name="python3")
    return KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))


def summary_text(nb: Any) -> str:
    """The text printed by the cells tagged ``summary``."""
    chunks = []
    for cell in nb.cells:
        if SUMMARY_TAG in cell.get("metadata", {}).get("tags", []):
            chunks += [o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
    return "".join(chunks).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ipytune", description="Tune, track and reproduce from a notebook.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run the quickstart notebook headless and print the best results")
    demo.add_argument("--notebook", type=Path, default=None, help="notebook to run (default: the quickstart)")
    demo.add_argument("--output", type=Path, default=None, help="where to write the executed notebook")
    demo.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default: 600)")
    args = parser.parse_args(argv)
    if args.version:
        from ipytune import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        return run_demo(args.notebook or find_quickstart(), args.output, args.timeout)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
