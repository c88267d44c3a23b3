"""GPU benchmark of the log-likelihood scorer (reasonkit.engines.hf_loglik: stage=score with
score.backend=hf) on Qwen2.5-shaped models.

Random weights, random ~1k-token (prompt, response) pairs. For each shape it measures, in one
process, next to a bf16 matmul ceiling measured in the same run:
  loop     — the seeds' per-sample loop: one forward per sample, full fp32 log_softmax
  bucketed — length-sorted padded batches with a mask, full fp32 log_softmax over all positions
  fast     — score_token_pairs (right padding without mask, head on response rows only, chunked
             fp32-output head, streaming triton reduction), eager and with compiled layers
and checks the fast path against an fp32 reference (the fp32 copy of the same weights, plain
per-sample forward) on fresh pairs.

MFU counts only the FLOPs scoring needs: all linear layers on all tokens, causal attention
(QK^T and PV over the lower triangle), the LM head on response positions only. Every method gets
the same count for the same samples, so MFU is proportional to throughput. ``mfu_dense`` adds
the LM head on prompt positions too (the usual 2·N·tokens convention) for comparison.

Run on the GPU machine:  python benchmarks/scoring_bench.py --out results.json
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from reasonkit.engines import hf_loglik as S  # noqa: E402  (the hf backend's scorer)

SHAPES = {  # Qwen2.5 configs (hidden, intermediate, layers, heads, kv heads), vocab 151936, tied
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2),
    "qwen2.5-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2),
}
VOCAB = 151936
T0 = time.time()
DEV = "cuda"  # --smoke switches to a CPU dry run of the whole script with a tiny shape


def sync():
    if DEV == "cuda":
        torch.cuda.synchronize()


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


def build(shape: str, norm_gain: float) -> torch.nn.Module:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(vocab_size=VOCAB, max_position_embeddings=32768, tie_word_embeddings=True,
                      rope_theta=1e6, attn_implementation="sdpa", **SHAPES[shape])
    torch.manual_seed(0)
    with torch.device(DEV):
        m = Qwen2ForCausalLM(cfg).to(torch.bfloat16).eval()
    # a final-norm gain > 1 sharpens the next-token distributions of random weights (entropy of a
    # few nats instead of log V), so the numerical check is not a check of near-constant values
    with torch.no_grad():
        m.model.norm.weight.fill_(norm_gain)
    return m


def flops(cfg, c: int, r: int, dense: bool = False) -> float:
    H, I, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    nh, nkv = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = H // nh
    T = c + r
    per_tok = 2 * (H * nh * hd + 2 * H * nkv * hd + nh * hd * H + 3 * H * I)
    attn = L * 2 * 2 * nh * hd * T * (T + 1) / 2
    head = 2 * H * cfg.vocab_size * (T if dense else r)
    return L * per_tok * T + attn + head


def make_pairs(n: int, seed: int, plo=128, phi=384, rlo=512, rhi=1024):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        c = int(torch.randint(plo, phi + 1, (1,), generator=g))
        r = int(torch.randint(rlo, rhi + 1, (1,), generator=g))
        ids = torch.randint(0, VOCAB, (c + r,), generator=g).tolist()
        out.append((ids[:c], ids[c:]))
    return out


def timed(fn):
    sync()
    t = time.perf_counter()
    res = fn()
    sync()
    return res, time.perf_counter() - t


def matmul_ceiling() -> dict:
    if DEV != "cuda":
        return {"8192x8192x8192": 1.0}
    from triton.testing import do_bench

    res = {}
    for (m, k, n) in [(8192, 8192, 8192), (65536, 1536, 8960), (65536, 896, 4864)]:
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
        ms = do_bench(lambda: a @ b, warmup=100, rep=500, return_mode="median")
        res[f"{m}x{k}x{n}"] = 2 * m * k * n / (ms * 1e-3) / 1e12
        del a, b
    return res


def bucketed(model, pairs, budget):
    """Plain bucketed scorer: padded batches + mask, full fp32 log_softmax (the 'obvious' batch)."""
    lengths = [len(c) + len(r) for c, r in pairs]
    out = {}
    with torch.inference_mode():
        for batch in S.pack_batches(lengths, range(len(pairs)), budget):
            T = lengths[batch[0]]
            ids = torch.zeros(len(batch), T, dtype=torch.long)
            mask = torch.zeros(len(batch), T, dtype=torch.long)
            for j, i in enumerate(batch):
                c, r = pairs[i]
                ids[j, : len(c) + len(r)] = torch.tensor(c + r)
                mask[j, : len(c) + len(r)] = 1
            ids, mask = ids.to(DEV), mask.to(DEV)
            logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), -1)
            for j, i in enumerate(batch):
                c, r = pairs[i]
                tgt = ids[j, len(c): len(c) + len(r)]
                out[i] = logp[j, len(c) - 1: len(c) + len(r) - 1].gather(1, tgt[:, None]).sum().item()
            del logp
    return out


def profile(model, pairs, budget, path):
    """Top CUDA kernels of one fast-path call (written for the next tuning step)."""
    from torch.profiler import ProfilerActivity, profile as prof

    with prof(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as p:
        S.score_token_pairs(model, pairs, token_budget=budget)
        sync()
    with open(path, "w") as fh:
        fh.write(p.key_averages().table(sort_by="cuda_time_total", row_limit=40, max_name_column_width=70))


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def bench_shape(shape, args, ceiling, rec, deadline):
    model = build(shape, args.norm_gain)
    cfg = model.config
    n_params = sum(p.numel() for p in model.parameters())
    r = rec.setdefault(shape, {"params": n_params})
    log(shape, f"{n_params / 1e9:.3f}B params")

    # ---- correctness: fast (bf16) vs fp32 reference on fresh pairs
    chk = make_pairs(args.n_check, seed=1000 + len(shape), plo=64, phi=256, rlo=128, rhi=512)
    ref32 = copy.deepcopy(model).float()
    ref = S.reference_scores(ref32, chk)
    fast32 = S.score_token_pairs(ref32, chk, token_budget=args.budget, head_impl="auto")
    del ref32
    if DEV == "cuda":
        torch.cuda.empty_cache()
    fast = S.score_token_pairs(model, chk, token_budget=args.budget, head_impl="auto")
    fast_torch = S.score_token_pairs(model, chk, token_budget=args.budget, head_impl="torch")
    loop16 = S.reference_scores(model, chk)
    r["check"] = {
        "n": len(chk),
        "entropy_mean_ref": sum(x["entropy_mean"] for x in ref) / len(ref),
        "llh_mean_ref": sum(x["llh_mean"] for x in ref) / len(ref),
        "max_rel_err_sum_fast_bf16_vs_fp32ref": max(rel(fast[i]["llh_sum"], ref[i]["llh_sum"]) for i in range(len(chk))),
        "max_rel_err_sum_fast_fp32_vs_fp32ref": max(rel(fast32[i]["llh_sum"], ref[i]["llh_sum"]) for i in range(len(chk))),
        "max_rel_err_sum_loop_bf16_vs_fp32ref": max(rel(loop16[i]["llh_sum"], ref[i]["llh_sum"]) for i in range(len(chk))),
        "max_rel_err_entropy_fast_bf16_vs_fp32ref": max(rel(fast[i]["entropy_mean"], ref[i]["entropy_mean"]) for i in range(len(chk))),
        "max_rel_err_sum_triton_vs_torch_head": max(rel(fast[i]["llh_sum"], fast_torch[i]["llh_sum"]) for i in range(len(chk))),
    }
    log(shape, "check", json.dumps(r["check"]))

    pairs = make_pairs(args.n_fast, seed=7)
    ctx_tokens = sum(len(c) for c, _ in pairs)
    tok = sum(len(c) + len(x) for c, x in pairs)

    def add(name, secs, n, extra=None):
        sub = pairs[:n]
        t = sum(len(c) + len(x) for c, x in sub)
        f = sum(flops(cfg, len(c), len(x)) for c, x in sub)
        fd = sum(flops(cfg, len(c), len(x), dense=True) for c, x in sub)
        row = {"samples": n, "tokens": t, "seconds": secs, "tok_per_s": t / secs,
               "tflops": f / secs / 1e12, "mfu": f / secs / 1e12 / ceiling,
               "mfu_dense": fd / secs / 1e12 / ceiling, **(extra or {})}
        r[name] = row
        log(shape, name, f"{row['tok_per_s']:.0f} tok/s  MFU {row['mfu']:.1%}  ({secs:.2f}s, {n} samples)")

    # ---- seeds' loop
    S.reference_scores(model, pairs[:2])
    _, secs = timed(lambda: S.reference_scores(model, pairs[: args.n_loop]))
    add("loop", secs, args.n_loop)
    # ---- plain bucketed
    if time.time() < deadline:
        bucketed(model, pairs[:8], args.bucket_budget)
        _, secs = timed(lambda: bucketed(model, pairs[: args.n_bucket], args.bucket_budget))
        add("bucketed", secs, args.n_bucket, {"token_budget": args.bucket_budget})
    # ---- fast, eager
    for budget in args.budgets:
        if time.time() > deadline:
            break
        S.score_token_pairs(model, pairs[:64], token_budget=budget)
        mem_reset()
        _, secs = timed(lambda: S.score_token_pairs(model, pairs, token_budget=budget))
        add(f"fast_eager_b{budget}", secs, len(pairs), {"token_budget": budget, "peak_mem_gb": mem_peak()})
    if args.profile_dir and time.time() < deadline:
        profile(model, pairs[:128], args.budgets[-1], os.path.join(args.profile_dir, f"prof_{shape}_eager.txt"))
    # ---- fast, compiled layers
    if args.compile and time.time() < deadline:
        S.compile_layers(model)
        t = time.time()
        S.score_token_pairs(model, pairs[:96], token_budget=args.budgets[-1])
        S.score_token_pairs(model, pairs[96:160], token_budget=args.budgets[0])
        r["compile_warmup_s"] = time.time() - t
        log(shape, f"compile warm-up {r['compile_warmup_s']:.1f}s")
        for budget in args.budgets:
            if time.time() > deadline:
                break
            mem_reset()
            _, secs = timed(lambda: S.score_token_pairs(model, pairs, token_budget=budget))
            add(f"fast_compiled_b{budget}", secs, len(pairs),
                {"token_budget": budget, "peak_mem_gb": mem_peak()})
        if args.profile_dir and time.time() < deadline:
            profile(model, pairs[:128], args.budgets[-1],
                    os.path.join(args.profile_dir, f"prof_{shape}_compiled.txt"))
        # the compiled path must still agree with the fp32 reference
        fc = S.score_token_pairs(model, chk, token_budget=args.budget)
        r["check"]["max_rel_err_sum_compiled_bf16_vs_fp32ref"] = max(
            rel(fc[i]["llh_sum"], ref[i]["llh_sum"]) for i in range(len(chk)))
    r["pairs"] = {"n": len(pairs), "tokens": tok, "prompt_tokens": ctx_tokens}
    from torch._dynamo.utils import counters
    r["dynamo_stats"] = dict(counters["stats"])
    del model
    torch._dynamo.reset()
    if DEV == "cuda":
        torch.cuda.empty_cache()


def mem_reset():
    if DEV == "cuda":
        torch.cuda.reset_peak_memory_stats()


def mem_peak():
    return torch.cuda.max_memory_allocated() / 2**30 if DEV == "cuda" else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="qwen2.5-0.5b,qwen2.5-1.5b")
    ap.add_argument("--n-fast", type=int, default=1024)
    ap.add_argument("--n-loop", type=int, default=48)
    ap.add_argument("--n-bucket", type=int, default=256)
    ap.add_argument("--n-check", type=int, default=12)
    ap.add_argument("--budget", type=int, default=32768)
    ap.add_argument("--budgets", default="32768,65536")
    ap.add_argument("--bucket-budget", type=int, default=16384)
    ap.add_argument("--norm-gain", type=float, default=4.0)
    ap.add_argument("--compile", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=500)
    ap.add_argument("--out", default="scoring_bench.json")
    ap.add_argument("--profile-dir", default="")
    ap.add_argument("--smoke", action="store_true", help="CPU dry run with a tiny shape")
    args = ap.parse_args()
    if args.smoke:
        global DEV, VOCAB
        DEV, VOCAB = "cpu", 512
        SHAPES["smoke"] = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2)
    args.budgets = [int(b) for b in args.budgets.split(",")]
    deadline = T0 + args.time_limit

    import transformers
    rec = {"machine": {"gpu": torch.cuda.get_device_name() if DEV == "cuda" else "cpu (smoke)", "torch": torch.__version__,
                       "transformers": transformers.__version__, "python": platform.python_version(),
                       "cmd": " ".join(sys.argv)}}
    rec["ceiling_tflops"] = matmul_ceiling()
    ceiling = rec["ceiling_tflops"]["8192x8192x8192"]
    log("bf16 matmul TFLOP/s", json.dumps(rec["ceiling_tflops"]))
    for shape in args.shapes.split(","):
        if time.time() > deadline:
            rec[shape] = {"skipped": "time limit"}
            continue
        try:
            bench_shape(shape, args, ceiling, rec, deadline)
        except Exception as e:  # keep what was measured for the other shape
            import traceback
            traceback.print_exc()
            rec.setdefault(shape, {})["error"] = repr(e)
        with open(args.out, "w") as fh:
            json.dump(rec, fh, indent=1)
    with open(args.out, "w") as fh:
        json.dump(rec, fh, indent=1)
    print("\n| shape | method | tok/s | MFU | MFU (dense count) |")
    print("|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        for k, v in rec.get(shape, {}).items():
            if isinstance(v, dict) and "tok_per_s" in v:
                print(f"| {shape} | {k} | {v['tok_per_s']:.0f} | {v['mfu']:.1%} | {v['mfu_dense']:.1%} |")
        if "check" in rec.get(shape, {}):
            print(shape, json.dumps(rec[shape]["check"]))


if __name__ == "__main__":
    main()
