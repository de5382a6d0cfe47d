#!/usr/bin/env bash
# requires-python, proven: derive's torch-free tests on the oldest and the newest Python here.
#   bash scripts/test-pythons.sh                     # oldest and newest pyenv Python >= requires-python
#   PYTHONS="/usr/bin/python3.12" bash scripts/test-pythons.sh   # these interpreters instead
#   bash scripts/test-pythons.sh -k unroll           # extra arguments go to pytest
# Each version gets a venv of its own (.venv-pythons/X.Y.Z) holding derive's dependencies
# and the test tools, never torch; the package is installed into it (not editable) and the
# tests under tests/derive and tests/render run against that install, slow ones excluded.
# Tests that need torch (marked `torch`) are skipped with their reason; a missing Python
# version is skipped with a printed reason, never failed. Exit status: the first failure's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "test-pythons: $*"; }

# requires-python = ">=3.10" -> 3 10
floor="$(sed -n 's/^requires-python *= *">= *\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' pyproject.toml)"
[ -n "$floor" ] || { say "cannot read requires-python from pyproject.toml" >&2; exit 2; }
read -r floor_major floor_minor <<<"$floor"

# The interpreters: $PYTHONS, else the oldest and newest pyenv version at or above the floor.
pythons=()
if [ -n "${PYTHONS:-}" ]; then
    read -r -a pythons <<<"$PYTHONS"
else
    versions="${PYENV_ROOT:-$HOME/.pyenv}/versions"
    found="$(for dir in "$versions"/*/; do
                 name="$(basename "$dir")"
                 [[ "$name" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || continue
                 [ -x "$dir/bin/python3" ] || continue
                 major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
                 if [ "$major" -gt "$floor_major" ] || { [ "$major" -eq "$floor_major" ] && [ "$minor" -ge "$floor_minor" ]; }; then
                     echo "$name"
                 fi
             done 2>/dev/null | sort -t. -k1,1n -k2,2n -k3,3n || true)"
    if [ -z "$found" ]; then
        say "SKIPPED: no pyenv Python >= $floor_major.$floor_minor under $versions (pyenv install $floor_major.$floor_minor to run this)"
        exit 0
    fi
    oldest="$(head -n1 <<<"$found")" newest="$(tail -n1 <<<"$found")"
    pythons=("$versions/$oldest/bin/python3")
    [ "$newest" != "$oldest" ] && pythons+=("$versions/$newest/bin/python3")
    say "oldest and newest Python >= $floor_major.$floor_minor here: $oldest, $newest"
fi

# derive's own dependencies come from pyproject.toml through the install; these are the test tools.
TOOLS=(pytest pytest-xdist "hypothesis>=6")
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
status=0
for python in "${pythons[@]}"; do
    if ! [ -x "$python" ] && ! command -v "$python" >/dev/null 2>&1; then
        say "SKIPPED: $python is not here"
        continue
    fi
    version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    venv="$ROOT/.venv-pythons/$version"
    started=$SECONDS
    if ! [ -x "$venv/bin/python" ]; then
        say "Python $version: creating $venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --progress-bar off -q "${TOOLS[@]}" </dev/null
    fi
    # The package as a user gets it: a regular install with its core dependencies only (no torch);
    # uninstalled first, since an unchanged version number would leave the previous build in place.
    "$venv/bin/python" -m pip uninstall -q -y sgd-derive </dev/null >/dev/null 2>&1 || true
    "$venv/bin/python" -m pip install --progress-bar off -q "$ROOT" </dev/null
    if "$venv/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'; then
        say "Python $version: torch is installed in $venv; these runs must be torch-free" >&2
        exit 2
    fi
    say "Python $version: pytest tests/derive tests/render -m 'not slow' (installed package, no torch)"
    set +e
    # pytest's own script, not `python -m pytest`: the checkout root stays off sys.path, the install is tested.
    "$venv/bin/pytest" -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" -m "not slow" tests/derive tests/render "$@"
    rc=$?
    set -e
    say "Python $version: exit $rc in $((SECONDS - started)) s"
    if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then
        status=$rc
    fi
done
exit "$status"
