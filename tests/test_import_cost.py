"""`import ipytune` and `%load_ext ipytune` must stay cheap: no heavy library is imported."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("optuna", "sklearn", "torch", "trackio", "bqplot", "bayes_opt", "pandas", "anywidget", "ipywidgets")

PROBE = """
import json, sys
import ipytune
after_import = sorted(m for m in {heavy} if m in sys.modules)
from IPython.testing.globalipapp import get_ipython
ip = get_ipython()
ip.run_line_magic("load_ext", "ipytune")
after_load = sorted(m for m in {heavy} if m in sys.modules)
print(json.dumps({{"import": after_import, "load_ext": after_load, "tune": "tune" in ip.user_ns}}))
"""


def test_import_and_load_ext_import_no_heavy_library():
    # A fresh process: this test session has imported everything already.
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=True
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"import": [], "load_ext": [], "tune": True}
