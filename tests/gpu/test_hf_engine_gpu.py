"""The hf engine's GPU path (static KV cache, compiled decode step with CUDA graphs, fixed batch,
prompt-length buckets) samples the same texts as its eager path: fp32 weights, TF32 off, so only
a wrong cache position, mask or sample-to-seed mapping could make them differ.
Run on the GPU machine: ``python -m pytest -o addopts= -m gpu tests/gpu``."""
from __future__ import annotations

import random

import pytest
import torch

from reasonkit.engines.base import GenRequest
from reasonkit.engines.hf import HFEngine
from reasonkit.training import synthetic

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
VOCAB = 1000


def test_static_compiled_generation_equals_eager(tmp_path):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    synthetic.model("tiny", VOCAB, torch.float32).save_pretrained(tmp_path)
    rng = random.Random(0)
    reqs = [GenRequest(prompt=synthetic.words(rng, rng.randint(3, 90), VOCAB), ids=[f"p{i}_{k}" for k in range(3)],
                       seeds=[1000 * i + k for k in range(3)]) for i in range(11)]
    sampling = {"temperature": 1.0, "top_p": 0.9, "max_tokens": 40}
    got = {}
    for static in (False, True):
        eng = HFEngine(str(tmp_path), {"backend": "hf", "engine": {"dtype": "float32", "batch_size": 8,
                                                                   "static_cache": static}})
        # AutoTokenizer maps a qwen2 config to Qwen2Tokenizer and drops the word-level vocabulary
        eng.tok = synthetic.tokenizer(VOCAB)
        eng.tok.padding_side = "left"
        assert eng.static is static and eng.device.startswith("cuda")
        got[static] = [[c.text for c in comps] for comps in eng.generate(reqs, sampling)]
    assert sum(len(t.split()) for comps in got[True] for t in comps) > 33 * 20
    assert got[True] == got[False]
