"""GPU checks of the scorer: triton reduction, bf16 fast path vs fp32, sharded identity on CUDA.

Run on the GPU machine: ``python -m pytest -o addopts= -m gpu tests/gpu``.
"""
from __future__ import annotations

import copy
import json
import os
import random
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "selection"))
import _tiny  # noqa: E402

from reasonkit.engines import hf_loglik as K  # noqa: E402
from reasonkit.selection import scoring as S  # noqa: E402

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_triton_reduction_matches_torch(dtype):
    from reasonkit.engines._triton_head import lse_entropy

    g = torch.Generator(device="cuda").manual_seed(int.from_bytes(os.urandom(2), "little"))
    x = (torch.randn(300, 151936, device="cuda", generator=g) * 8).to(dtype)  # masked tail
    t = torch.randint(0, 151936, (300,), device="cuda", generator=g)
    lp, en = lse_entropy(x, t)
    rlp, ren = K._reduce_torch(x.double(), t, None)
    assert torch.isfinite(lp).all() and torch.isfinite(en).all()
    assert (lp.double() - rlp).abs().max().item() < 1e-4
    # entropy = lse - E[x]: a difference of O(10) fp32 numbers, so an absolute bound
    assert (en.double() - ren).abs().max().item() < 1e-4


def _pairs(n, vocab, seed):
    g = random.Random(seed)
    return [([g.randrange(vocab) for _ in range(g.randint(4, 150))],
             [g.randrange(vocab) for _ in range(g.randint(8, 350))]) for _ in range(n)]  # ≤ 512


def test_bf16_fast_path_error_is_the_bf16_models_own():
    """The fast path in bf16 is as close to the fp32 reference as the plain per-sample bf16 loop is:
    what remains is bf16 arithmetic, not the scorer. (Asserting a flat 1e-3 per pair failed once in
    24 random pairs at 1.6e-3 on the H200: a bf16 property, not a scorer bug.)"""
    m16 = _tiny.model(vocab=32000, arch="qwen2", hidden=256, layers=4, init=0.05).cuda().to(torch.bfloat16)
    with torch.no_grad():
        m16.model.norm.weight.fill_(4.0)  # peaked next-token distributions
    m32 = copy.deepcopy(m16).float()
    seed = int.from_bytes(os.urandom(2), "little")
    pairs = _pairs(24, 32000, seed=seed)
    ref = K.reference_scores(m32, pairs)
    loop16 = K.reference_scores(m16, pairs)  # the seed scripts' own bf16 loop
    assert sum(r["entropy_mean"] for r in ref) / len(ref) < 0.8 * torch.log(torch.tensor(32000.0)).item()
    f32 = K.score_token_pairs(m32, pairs, token_budget=4096)
    f16 = K.score_token_pairs(m16, pairs, token_budget=4096)
    rel_fast, rel_loop = [], []
    for i, r in enumerate(ref):
        assert f32[i]["llh_sum"] == pytest.approx(r["llh_sum"], rel=1e-5), seed
        assert f16[i]["entropy_mean"] == pytest.approx(r["entropy_mean"], rel=1e-2), seed
        rel_fast.append(abs(f16[i]["llh_sum"] - r["llh_sum"]) / abs(r["llh_sum"]))
        rel_loop.append(abs(loop16[i]["llh_sum"] - r["llh_sum"]) / abs(r["llh_sum"]))
    mean_fast, mean_loop = sum(rel_fast) / len(ref), sum(rel_loop) / len(ref)
    assert mean_fast < 1e-3, (seed, mean_fast)
    assert mean_fast < 2 * mean_loop + 1e-4, (seed, mean_fast, mean_loop)
    assert max(rel_fast) < max(3e-3, 2 * max(rel_loop)), (seed, max(rel_fast), max(rel_loop))


@pytest.mark.slow
def test_two_rank_run_identical_to_one_rank_on_gpu(tmp_path):
    from reasonkit.selection import score_worker as W

    model_dir = _tiny.save_folder(tmp_path / "model", arch="qwen2")
    inp = tmp_path / "samples.jsonl"
    inp.write_text("".join(json.dumps(s) + "\n" for s in _tiny.samples(40, 8, seed=3)))
    cfg = S.ScoreConfig(model=str(model_dir), device="cuda", token_budget=2048, block_size=37)
    os.environ["PYTHONPATH"] = str(ROOT)
    one = W.launch_local(cfg, [str(inp)], tmp_path / "w1", world_size=1, gpus=["0"])
    two = W.launch_local(cfg, [str(inp)], tmp_path / "w2", world_size=2, gpus=["0", "0"])
    assert len(one["scores"]) == 320
    assert one["scores"] == two["scores"]
