# Every target installs what it needs: a fresh machine runs `make demo` or `make test` directly.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# CPU build lying on this machine's disk; an open torch spec pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-10)
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast lint bench clean-outputs

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

## The main job on the embedded default (toy task + tiny local models on CPU), then its table.
demo: setup
	$(VENV)/bin/reasonkit

## Everything CI runs: unit, integration (tiny model, CPU), real engines, real SLURM, W&B offline.
test: setup
	$(VENV)/bin/pytest -x -q -rs $(PYTEST_ARGS)

## Quick loop while developing: skip slow tests.
test-fast: setup
	$(VENV)/bin/pytest -x -q -m "not slow and not gpu and not slurm and not vllm"

clean-outputs:
	rm -rf outputs/artifacts outputs/runs outputs/multirun outputs/reports
