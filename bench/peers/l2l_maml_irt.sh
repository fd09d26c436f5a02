#!/usr/bin/env bash
# Builds a venv with PyTorch + learn2learn and runs MAML over the Rasch model beside Attune's
# `maml_throughput` example, same data, same task, 2 threads as the CI machine.
# Usage: bench/peers/l2l_maml_irt.sh [dataset folder] [epochs]
# learn2learn 0.2's shipped C files do not build on Python 3.11: it is built with Cython < 3
# and --no-build-isolation. Not run by CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${L2L_VENV:-$here/.venv-l2l}
data=${1:-$here/../../../shared/data/assist2009_updated}
epochs=${2:-3}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import learn2learn" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch scikit-learn "cython<3" numpy
  "$venv/bin/pip" install -q --no-build-isolation learn2learn
fi
OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 "$venv/bin/python" "$here/l2l_maml_irt.py" "$data" --epochs "$epochs" --threads 2
(cd "$here/../.." && cargo run --release -q -p attune-meta --example maml_throughput -- "$data" "$epochs")
