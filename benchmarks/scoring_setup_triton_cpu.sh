#!/usr/bin/env bash
# Optional: a venv that runs the scorer's Triton kernel on CPU through Triton's interpreter
# (tests/selection/test_scoring.py::test_triton_reduction_interpreted). It reuses the project
# venv's packages through a .pth file and adds only triton 3.6.0 (the version on the GPU machine).
#   bash benchmarks/scoring_setup_triton_cpu.sh
#   TRITON_INTERPRET=1 PYTHONPATH=. .venv-triton/bin/python -m pytest tests/selection/test_scoring.py -k triton
set -euo pipefail
BASE=${BASE_VENV:-.venv}
python3 -m venv .venv-triton
echo "$(cd "$BASE" && pwd)/lib/python3.11/site-packages" > .venv-triton/lib/python3.11/site-packages/base-venv.pth
.venv-triton/bin/pip install -q triton==3.6.0
