"""Output tokens/s of the hf generation engine on a GPU against plain ``model.generate`` loops, one
run, same prompts (issue 16, item 4).

Workload: Qwen2.5-0.5B/1.5B-shaped models with random bf16 weights (vocab 151,936), a word-level
tokenizer (one word = one token), ``--prompts`` prompts of 128–384 tokens, ``--max-new`` new
tokens each, temperature 1.0, top_p 0.95. Counted: completion tokens (up to and including an
EOS). Rows:

- plain ``model.generate``, one prompt at a time (``--single`` prompts only: it is slow);
- plain ``model.generate`` over batches of ``--batch`` prompts in the given order (dynamic cache,
  eager, transformers' own sampling): the baseline;
- ``HFEngine`` with ``static_cache=false`` (sorted batches, counter-based sampler, eager);
- ``HFEngine`` default on CUDA (static cache, compiled decode step with CUDA graphs, fixed batch,
  prompt lengths bucketed to 64): first pass (compilation included) and second pass.
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from reasonkit.engines.base import GenRequest  # noqa: E402
from reasonkit.engines.hf import HFEngine  # noqa: E402
from reasonkit.training import synthetic  # noqa: E402

VOCAB = 151936
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # CPU: a smoke run of the script only
SAMPLING = {"temperature": 1.0, "top_p": 0.95}


def prompts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [synthetic.words(rng, rng.randint(128, 384), VOCAB) for _ in range(n)]


def completion_tokens(new: torch.Tensor, eos: int, pad: int) -> int:
    total = 0
    for row in new.tolist():
        total += row.index(eos) + 1 if eos in row else len(row)
    return total


def sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(fn) -> tuple[float, Any]:
    sync()
    t0 = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - t0, out


def plain_loop(model, tok, texts: list[str], batch: int, max_new: int) -> tuple[float, int]:
    def run():
        n = 0
        for i in range(0, len(texts), batch):
            enc = tok(texts[i:i + batch], return_tensors="pt", padding=True).to(DEVICE)
            g = model.generate(**enc, do_sample=True, max_new_tokens=max_new, top_k=None,
                               pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **SAMPLING)
            n += completion_tokens(g[:, enc["input_ids"].shape[1]:], tok.eos_token_id, tok.pad_token_id)
        return n

    with torch.inference_mode():
        return timed(run)


def engine_run(engine: HFEngine, texts: list[str], max_new: int) -> tuple[float, int]:
    reqs = [GenRequest(prompt=t, ids=[f"p{i}"], seeds=[i]) for i, t in enumerate(texts)]
    secs, out = timed(lambda: engine.generate(reqs, {**SAMPLING, "max_tokens": max_new}))
    return secs, sum(c.n_completion_tokens for comps in out for c in comps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--shapes", default="qwen2.5-0.5b,qwen2.5-1.5b")
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--max-new", type=int, default=512)
    ap.add_argument("--single", type=int, default=4, help="prompts for the one-at-a-time loop")
    ap.add_argument("--work", default="/tmp/rk_gen_bench")
    a = ap.parse_args()
    import transformers

    res: dict[str, Any] = {"device": torch.cuda.get_device_name() if DEVICE == "cuda" else platform.processor(), "torch": torch.__version__,
                           "transformers": transformers.__version__, "python": platform.python_version(),
                           "argv": sys.argv, "runs": []}
    texts = prompts(a.prompts)
    for shape in a.shapes.split(","):
        d = Path(a.work) / shape
        if not (d / "config.json").exists():
            synthetic.model(shape, VOCAB, torch.bfloat16, device=DEVICE).save_pretrained(d)
            synthetic.tokenizer(VOCAB).save_pretrained(d)
        rows = []

        def record(label: str, secs: float, tokens: int, **extra) -> None:
            rec = {"shape": shape, "config": label, "seconds": secs, "tokens": tokens, "tok_s": tokens / secs, **extra}
            rows.append(rec)
            print(json.dumps(rec), flush=True)

        eng = HFEngine(str(d), {"backend": "hf", "engine": {"dtype": "bfloat16", "batch_size": a.batch,
                                                            "static_cache": False}})
        # AutoTokenizer maps a qwen2 config to Qwen2Tokenizer and drops the word-level vocabulary
        eng.tok = tok = synthetic.tokenizer(VOCAB)
        tok.padding_side = "left"
        if a.single:
            secs, n = plain_loop(eng.model, tok, texts[:a.single], 1, a.max_new)
            record("plain model.generate, one prompt at a time", secs, n, prompts=a.single)
        plain_loop(eng.model, tok, texts[:a.batch], a.batch, 8)  # CUDA/cuBLAS warm-up
        secs, n = plain_loop(eng.model, tok, texts, a.batch, a.max_new)
        record(f"plain model.generate, batches of {a.batch}", secs, n, prompts=len(texts))
        secs, n = engine_run(eng, texts, a.max_new)
        record("HFEngine static_cache=false (eager)", secs, n, prompts=len(texts))
        eng.static = True
        secs, n = engine_run(eng, texts, a.max_new)
        record("HFEngine default on CUDA, first pass (compiles)", secs, n, prompts=len(texts))
        secs, n = engine_run(eng, texts, a.max_new)
        record("HFEngine default on CUDA, second pass", secs, n, prompts=len(texts))
        base = next(r for r in rows if r["config"].startswith("plain model.generate, batches"))["tok_s"]
        for r in rows:
            r["vs_plain_batched"] = r["tok_s"] / base
        res["runs"] += rows
        Path(a.out).write_text(json.dumps(res, indent=1))
        del eng
        gc.collect()
        if DEVICE == "cuda":
            torch.cuda.empty_cache()
        torch._dynamo.reset()


if __name__ == "__main__":
    main()
