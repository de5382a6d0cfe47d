#!/usr/bin/env bash
# Main job: set up the environment, then derive everything and write the appendix:
# the claims table on stdout, appendix.tex / appendix-body.tex / appendix.md
# (and appendix.pdf where pdflatex exists) under $OUT (default build/appendix).
# Exit status 1 when a claim's verdict differs from the recorded one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

echo "main: the catalogue"
.venv/bin/python -m derive list
echo "main: one closed form (torch.optim.SGD with momentum, dampening, weight decay; 2 steps)"
.venv/bin/python -m derive unroll pytorch_sgd --steps 2
echo "main: claims and appendix"
exec .venv/bin/python -m derive report --out "${OUT:-build/appendix}"
