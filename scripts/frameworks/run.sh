#!/usr/bin/env bash
# Install each framework into its own environment under $ENV (never the project's .venv),
# run scripts/frameworks/drive.py there, and check the runs against derive with check.py.
# Optional: the test suite replays the stored runs in scripts/frameworks/runs/ without any framework.
# Usage: bash scripts/frameworks/run.sh [ENV_DIR]     (default: ../frameworks-env beside the checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
env_dir=${1:-$root/../frameworks-env}
out=$root/scripts/frameworks/runs
mkdir -p "$env_dir" "$out"
pyenv_python() { ls -d /root/.pyenv/versions/"$1".*/bin/python 2>/dev/null | head -1 || command -v python"$1"; }

# name | python | pip requirements | framework argument of drive.py
while IFS='|' read -r name python requirements framework; do
    venv=$env_dir/$name
    if [ ! -x "$venv/bin/python" ]; then
        "$(pyenv_python "$python")" -m venv "$venv"
        # shellcheck disable=SC2086
        "$venv/bin/pip" install -q $requirements || { echo "install of $name failed: skipped"; continue; }
    fi
    "$venv/bin/python" "$root/scripts/frameworks/drive.py" "$framework" "$out/$name.json" 2>/dev/null \
        || echo "$name: drive.py failed"
done <<'RUNS'
optax-0.2.8|3.11|optax==0.2.8 jax[cpu]==0.10.2|optax
paddle-3.3.1|3.11|paddlepaddle==3.3.1|paddle
chainer-7.8.1|3.8|chainer==7.8.1 numpy<1.24|chainer
mxnet-1.9.1|3.8|mxnet==1.9.1 numpy<1.24|mxnet
mxnet-1.6.0|3.8|mxnet==1.6.0 numpy==1.19.5|mxnet
mxnet-1.5.1|3.8|mxnet==1.5.1 numpy<1.24|mxnet
mxnet-1.4.1|3.6|mxnet==1.4.1 numpy==1.14.6 requests<2.26 graphviz<0.9 idna<3 certifi<2022 chardet<4 urllib3<1.27|mxnet
RUNS
cd "$root" && PYTHONPATH=$root "${PYTHON:-$root/.venv/bin/python}" scripts/frameworks/check.py "$out"/*.json
