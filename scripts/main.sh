#!/usr/bin/env bash
# Main job: set up the environment, then run the derivations.
# The main job grows as the CLI grows: once `derive report` exists this becomes
#   .venv/bin/python -m derive report --out "${OUT:-build/appendix}"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

echo "main: derive list"
.venv/bin/python -m derive list
echo "main: derive unroll pytorch_sgd --steps 3"
.venv/bin/python -m derive unroll pytorch_sgd --steps 3
