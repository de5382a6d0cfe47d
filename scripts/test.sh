#!/usr/bin/env bash
# Test command: set up the environment, then run the whole test suite.
#   bash scripts/test.sh                 # everything under tests/ (pyproject testpaths)
#   bash scripts/test.sh -m 'not slow'   # extra arguments go to pytest
#   bash scripts/test.sh tests/test_packaging.py
# Exits with pytest's status; "no tests collected" (5) is a failure, never a pass.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

args=()
if .venv/bin/python -c 'import xdist' >/dev/null 2>&1; then
    args+=(-n "${PYTEST_WORKERS:-2}")
else
    echo "test: pytest-xdist unavailable, running serially"
fi
# With no path arguments pytest falls back to testpaths = ["tests"] from
# pyproject.toml; passing `tests` explicitly as well would make
# `test.sh tests/test_x.py` run the whole suite.
set +e
.venv/bin/python -m pytest "${args[@]}" "$@"
rc=$?
set -e

if [ "$rc" -eq 5 ]; then
    echo "test: FAILED: pytest collected no tests (exit 5)" >&2
fi
exit "$rc"
