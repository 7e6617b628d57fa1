#!/usr/bin/env bash
# ipytune where its users are, after the main suite: the wheel and sdist `python -m build` makes,
# then a part of the suite again in other virtual environments, each installed by uv from that wheel.
#
#   package  build the sdist, and the wheel from it, with no node on PATH; on Python 3.12 with the
#            newest dependencies, still without node: `ipytune --version`, `ipytune demo`, widget tests
#   colab    Python 3.13 with Colab's packages (.ci/colab-constraints.txt: IPython 7.34, ipykernel
#            6.17.1, ipywidgets 7.7.1): the magic, tracking, seeding and widget-state tests, and
#            examples/colab.ipynb
#   lowest   Python 3.10 with the lowest version of every dependency pyproject admits
#            (.ci/check_floors.py fails if one is not installed): the same tests
#
# Usage: bash .ci/extra-envs.sh [package] [colab] [lowest]   (default: all three, package first, then
# colab and lowest at once; colab and lowest need package's dist/). Run from the main venv, which has
# uv and build.
# None of them has torch: this machine's CPU wheel is for Python 3.11 only (torch tests skip).
set -euo pipefail
cd "$(dirname "$0")/.."

export UV_PYTHON_DOWNLOADS=never # only the Pythons pyenv installed; nothing to download
export PYTEST_ADDOPTS="-p no:cacheprovider --durations=5"
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/ipytune-envs.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The magic, tracking, seeding and widget-state tests, less the example notebooks they run (-m "not
# notebook": two minutes each here; the main suite runs them). The lowest job also leaves out what
# the colab job runs on the same kernel stack (Stop, terminal IPython), to keep time.
SUBSET=(tests/test_tune_magic.py tests/test_tracking.py tests/test_seeding.py tests/test_widgets_*.py)
LOWEST_SUBSET=(tests/test_tune_magic.py tests/test_tracking.py tests/test_seeding.py tests/test_widgets_compare.py
    tests/test_widgets_coverage.py tests/test_widgets_dashboard.py tests/test_widgets_gp_explorer.py)

python_for() { # the interpreter of Python $1 (pyenv's, else one on PATH)
    local found
    found=$(ls -d "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$1".*/bin/python"$1" 2>/dev/null | tail -1)
    echo "${found:-$(command -v "python$1")}"
}

new_env() { # new_env NAME PYTHON_VERSION: a venv under $work, its path on stdout
    local venv=$work/$1
    uv venv -q -p "$(python_for "$2")" "$venv" >&2
    echo "$venv"
}

cpu_seconds() { # cpu_seconds PID: CPU time of that shell's finished children (cutime, cstime of /proc/PID/stat)
    awk -v hz="$(getconf CLK_TCK)" '{ print int(($16 + $17) / hz) }' "/proc/$1/stat"
}

timed() { # timed JOB: run it, and say how long it took (wall clock, and CPU: a loaded machine stretches the first)
    local start=$SECONDS me=$BASHPID cpu # this (sub)shell, which waits for the job's processes
    cpu=$(cpu_seconds "$me")
    echo "extra-envs: $1" >&2
    "$1"
    echo "extra-envs: $1 took $((SECONDS - start)) s ($(($(cpu_seconds "$me") - cpu)) s CPU)" >&2
}

wheel() { ls dist/ipytune-*.whl; }

in_env() { # in_env VENV COMMAND...: run it with that venv active
    VIRTUAL_ENV=$1 PATH=$1/bin:$PATH "${@:2}"
}

package() {
    rm -rf dist
    # Without node the build hook must find the bundles the editable install built (and the sdist
    # carries them), or it fails: so this also proves the sdist installs without Node.
    .ci/without-node.sh python -m build --outdir dist . >"$work/build.log" 2>&1 || {
        tail -30 "$work/build.log"
        return 1
    }
    local sdist_files wheel_files
    sdist_files=$(tar -tzf dist/ipytune-*.tar.gz)
    wheel_files=$(unzip -Z1 "$(wheel)")
    for bundle in dashboard gp_explorer coverage parcoords; do
        grep -qx "ipytune-[^/]*/src/ipytune/static/$bundle.js" <<<"$sdist_files"
        grep -qx "ipytune/static/$bundle.css" <<<"$wheel_files"
        grep -qx "ipytune/static/$bundle.js" <<<"$wheel_files"
    done
    grep -qx "ipytune/examples/quickstart.ipynb" <<<"$wheel_files"

    local venv version
    venv=$(new_env wheel 3.12)
    .ci/without-node.sh uv pip install -q -p "$venv/bin/python" "$(wheel)" pytest pytest-timeout
    version=$(python -c 'import ipytune; print(ipytune.__version__)')
    [ "$("$venv/bin/ipytune" --version)" = "$version" ]
    # the demo runs the quickstart the wheel ships, in a kernel of this venv, away from the checkout
    mkdir "$work/demo"
    (cd "$work/demo" && TRACKIO_DIR=$work/demo/trackio in_env "$venv" \
        "$root/.ci/without-node.sh" ipytune demo --output "$work/demo/quickstart.executed.ipynb")
    # a widget test against the installed wheel (the checkout's src/ is not on its path)
    in_env "$venv" .ci/without-node.sh python -c \
        'import ipytune, sys; sys.exit("/site-packages/" not in ipytune.__file__)'
    in_env "$venv" .ci/without-node.sh python -m pytest -q tests/test_widgets_packaging.py
}

colab() {
    local venv
    venv=$(new_env colab 3.13)
    uv pip install -q -p "$venv/bin/python" -c .ci/colab-constraints.txt "$(wheel)" pytest pytest-timeout
    "$venv/bin/python" -c 'import IPython, ipykernel, ipywidgets, sys
print("colab env: Python", sys.version.split()[0], "IPython", IPython.__version__,
      "ipykernel", ipykernel.__version__, "ipywidgets", ipywidgets.__version__)'
    in_env "$venv" python -m pytest -q -m "not notebook" "${SUBSET[@]}"
    in_env "$venv" python -m pytest -q tests/test_colab_notebook.py
}

lowest() {
    local venv
    venv=$(new_env lowest 3.10)
    # -r pyproject.toml makes ipytune's own requirements direct ones, so lowest-direct lowers them
    uv pip install -q -p "$venv/bin/python" --resolution lowest-direct -r pyproject.toml "$(wheel)" \
        "pytest>=8" "pytest-timeout>=2.3"
    python .ci/check_floors.py pyproject.toml "$venv/bin/python"
    in_env "$venv" python -m pytest -q -m "not notebook" "${LOWEST_SUBSET[@]}"
}

if [ $# -gt 0 ]; then # the jobs named, one after the other
    for job in "$@"; do
        case $job in package | colab | lowest) timed "$job" ;; *) echo "extra-envs: no job $job" >&2 && exit 2 ;; esac
    done
    exit 0
fi
# All of them: package first (the others install its wheel), then colab and lowest side by side, each
# into its own log, shown when it ends: much of their time is kernels starting and searches
# sleeping, so two at once on two cores take little more than the longer one.
timed package
pids=()
for job in colab lowest; do
    (timed "$job" >"$work/$job.log" 2>&1) &
    pids+=($!)
done
failed=0
for i in 0 1; do
    job=$([ "$i" = 0 ] && echo colab || echo lowest)
    wait "${pids[$i]}" || failed=1
    cat "$work/$job.log"
done
exit $failed
