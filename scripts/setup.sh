#!/usr/bin/env bash
# Environment setup shared by scripts/main.sh and scripts/test.sh.
#
# Idempotent and non-interactive (no stdin, CI=true are fine):
#   1. create .venv with python3 if it is missing or broken;
#   2. install the pinned CPU torch FIRST, so that the `torch>=2.4` in the
#      `test` extra is already satisfied and pip never pulls a multi-GB CUDA
#      build from an index;
#   3. pip install -e '.[test]';
#   4. best effort: pdflatex and pdftoppm via apt-get (PDF output is optional).
# Steps 2-3 are skipped when .venv/.setup-stamp holds the hash of
# pyproject.toml + this script and the key modules are still findable.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
TORCH_PIN="${TORCH_PIN:-torch==2.13.0}"
VENV=".venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.setup-stamp"

say() { echo "setup: $*"; }

# Serialise concurrent runs (e.g. main.sh and test.sh started together).
mkdir -p "$VENV"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV/.setup.lock"
    flock 9
fi

# 1. The virtual environment.
if [ -x "$VPY" ] && "$VPY" -c 'import sys' >/dev/null 2>&1; then
    say "using existing $VENV ($("$VPY" -c 'import sys; print(sys.version.split()[0])'))"
else
    say "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi

# 2-3. Python packages, unless nothing changed since the last successful run.
# The editable install maps each top-level package found at install time, so a
# package directory that appears later (verify/ after derive/) needs a reinstall.
present="$(for p in derive verify; do [ -f "$p/__init__.py" ] && printf '%s ' "$p"; done; true)"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) $TORCH_PIN pkgs: $present"
have="$(cat "$STAMP" 2>/dev/null || true)"
# find_spec locates a module without importing it, so this check is cheap.
# -I keeps the repo root off sys.path, so only installed things are found.
if [ "$want" = "$have" ] && "$VPY" -I - <<'PY' >/dev/null 2>&1
import importlib.metadata, importlib.util, sys
mods = ["torch", "sympy", "numpy", "pytest", "xdist", "nbformat", "nbclient", "hypothesis", "tqdm", "sphinx", "myst_parser", "symengine", "numba"]
importlib.metadata.version("sgd-derive")
sys.exit(any(importlib.util.find_spec(m) is None for m in mods))
PY
then
    say "python packages up to date (stamp matches), skipping pip"
else
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    say "installing $TORCH_PIN (CPU wheel) before the project"
    "$VPY" -m pip install --progress-bar off -q "$TORCH_PIN" </dev/null
    say "installing the project: pip install -e '.[test]'"
    "$VPY" -m pip install --progress-bar off -q -e '.[test]' </dev/null
    echo "$want" >"$STAMP"
    say "python packages installed"
fi

# 4. LaTeX and poppler for the PDF appendix: optional, never fatal.
if command -v pdflatex >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
    say "pdflatex and pdftoppm found"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing texlive and poppler-utils with apt-get"
    log="$VENV/apt-get.log"
    if ! { apt-get update </dev/null &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y \
               texlive-latex-base texlive-latex-recommended poppler-utils </dev/null
         } >"$log" 2>&1; then
        say "WARNING: apt-get install of texlive/poppler failed (see $log); PDF output will be unavailable"
    fi
else
    say "WARNING: pdflatex/pdftoppm missing and cannot apt-get them; PDF output will be unavailable"
fi

say "done"
