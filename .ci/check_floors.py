"""Fail unless an environment has the lowest version pyproject.toml admits of each package named.

For the venv that .ci/extra-envs.sh made with `uv pip install --resolution lowest-direct`: a floor
that the resolver could not honour (a dependency of ours needs more) is a floor nobody tests, so
it must be raised to what is installed.
Usage: python check_floors.py PYPROJECT VENV_PYTHON [NAME...]  (default: Python and every dependency;
itself on Python >= 3.11, for tomllib)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path


def floors(pyproject: Path) -> dict[str, str]:
    config = tomllib.loads(pyproject.read_text())
    found = {}
    for requirement in config["project"]["dependencies"]:
        match = re.match(r"([A-Za-z0-9_.-]+)[^>]*>=([0-9][^,;\s]*)", requirement)
        if match:
            found[match.group(1).lower()] = match.group(2)
    found["python"] = config["project"]["requires-python"].removeprefix(">=")
    return found


def installed(python: str, names: list[str]) -> dict[str, str]:
    probe = (
        "import json, sys; from importlib import metadata as m; "
        f"v = {{n: m.version(n) for n in {names!r} if n != 'python'}}; "
        "v['python'] = '%d.%d' % sys.version_info[:2]; print(json.dumps(v))"
    )
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


def same(floor: str, version: str) -> bool:
    """3.0 is 3.0.0; a floor of 1.3 is met by 1.3.0 but not by 1.3.1."""
    pad = lambda v: [int(p) for p in re.findall(r"\d+", v)] + [0] * 4  # noqa: E731
    return pad(floor)[:4] == pad(version)[:4]


def main(pyproject: str, python: str, *names: str) -> int:
    wanted = floors(Path(pyproject))
    names = names or tuple(wanted)
    versions = installed(python, list(names))
    wrong = []
    for name in names:
        floor, version = wanted[name], versions[name]
        print(f"{name:24} floor {floor:10} installed {version}")
        if not same(floor, version):
            wrong.append(f"{name}: pyproject says >={floor}, the lowest resolution installed {version}")
    for line in wrong:
        print(f"check_floors: {line}; raise the floor to what is tested", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
