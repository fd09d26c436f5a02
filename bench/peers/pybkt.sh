#!/usr/bin/env bash
# Builds a venv with pyBKT 1.4.3's C++ core and runs it on E1 beside Attune.
# Usage: bench/peers/pybkt.sh [dataset folder]   (default ../shared/data/assist2009_updated)
# Not run by CI. numpy < 2 is needed for the C++ extension to compile; without it pyBKT's setup
# silently falls back to its pure-Python version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${PYBKT_VENV:-$here/.venv-pybkt}
data=${1:-$here/../../../shared/data/assist2009_updated}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "numpy<2" wheel setuptools "scikit-learn<1.4" "pandas<2.2"
  "$venv/bin/pip" install -q --no-build-isolation --no-cache-dir --no-binary pyBKT pyBKT==1.4.3
fi
"$venv/bin/python" -c 'import pyBKT.fit.E_step' || { echo "pyBKT C++ core missing" >&2; exit 1; }
"$venv/bin/python" "$here/pybkt_e1.py" "$data"
