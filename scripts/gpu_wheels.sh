#!/usr/bin/env bash
# Wheels for the lent GPU machine (CUDA torch/transformers/accelerate/triton already there; no
# registry there). Downloads the exact pure-Python (and cp312 manylinux) wheels the GPU training path
# needs into a git-ignored folder (default .whl/). On the GPU machine, before anything else:
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site:$PWD
# DEEPSPEED=1 adds DeepSpeed (sdist only on PyPI: built here into a wheel with no prebuilt ops;
# its ops JIT-build on first use with the GPU machine's nvcc + ninja). They go to .whl/ds/: install
# them (.whl/ds/*.whl) only for DeepSpeed runs.
set -euo pipefail
DEST=${1:-.whl}
PY=${PY:-python3}
mkdir -p "$DEST"
grep -qxF '/.whl/' "$(git rev-parse --git-common-dir)/info/exclude" 2>/dev/null \
  || echo '/.whl/' >> "$(git rev-parse --git-common-dir)/info/exclude"
PLAT=(--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
PINS=(trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 xxhash==4.1.0
      liger-kernel==0.8.5 hydra-core==1.3.8 omegaconf==2.3.1)
for p in "${PINS[@]}"; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: "${PLAT[@]}" -d "$DEST" "$p"
done
# antlr4 4.9.3 (omegaconf's pin) is published as an sdist only: pure Python, built into a wheel here
ls "$DEST"/antlr4_python3_runtime-4.9.3-*.whl >/dev/null 2>&1 \
  || "$PY" -m pip wheel -q --no-deps -w "$DEST" antlr4-python3-runtime==4.9.3
if [[ "${DEEPSPEED:-0}" == 1 ]]; then
  # in a subfolder: once importable, accelerate/transformers import DeepSpeed (and pydantic) eagerly
  for p in hjson==3.1.0 py-cpuinfo==9.0.0 msgpack==1.1.2 ninja==1.13.0 nvidia-ml-py==13.580.82 \
           pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.7.0 typing-inspection==0.4.5 \
           typing-extensions==4.16.0 einops==0.8.2; do
    "$PY" -m pip download -q --no-deps --only-binary=:all: "${PLAT[@]}" -d "$DEST/ds" "$p"
  done
  ls "$DEST"/ds/deepspeed-*.whl >/dev/null 2>&1 \
    || DS_BUILD_OPS=0 "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$DEST/ds" deepspeed==0.19.8
fi
ls -1 "$DEST"
