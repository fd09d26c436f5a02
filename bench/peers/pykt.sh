#!/usr/bin/env bash
# Builds a venv with pyKT (pip pykt-toolkit, PyTorch) and runs its DKT, SAKT, AKT or DKVMN on E1 beside Attune.
# Usage: bench/peers/pykt.sh dkt|sakt|akt|dkvmn [dataset folder] [extra pykt_e1.py flags]
#        (default folder ../shared/data/assist2009_updated; 2 threads as the CI machine)
# Not run by CI. PyPI's torch wheel runs on CPU when no GPU is present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${PYKT_VENV:-$here/.venv-pykt}
model=${1:-dkt}
data=${2:-$here/../../../shared/data/assist2009_updated}
shift $(( $# > 2 ? 2 : $# ))
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch pykt-toolkit scikit-learn
fi
OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 "$venv/bin/python" "$here/pykt_e1.py" "$data" --model "$model" --threads 2 "$@"
