"""One-process-per-GPU scoring: wall time and throughput for W = 1, 2, … GPUs, and whether the
merged scores of every W are identical to W = 1.

End to end through ``reasonkit.selection.score_worker`` (the same command a SLURM array task
runs): JSONL samples → chat template → tokenise → score → rank files → merge by id. The model is
a Qwen2.5-shaped folder with random weights and a byte-level BPE tokenizer trained here on random
text (no hub); pairs are ~1k tokens.

    python benchmarks/multi_gpu_scoring.py --out multi_gpu.json            # W in 1..#GPUs
With one GPU it also runs W=2 with both ranks on GPU 0 (a check that the merge is identical on
CUDA, not a speed figure).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from reasonkit.selection import score_worker as W  # noqa: E402
from reasonkit.selection.scoring import ScoreConfig  # noqa: E402

SHAPES = {
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2),
    "qwen2.5-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2),
    "smoke": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2),
}
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def words(rng, n):
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                    for _ in range(n))


def build_model(path: Path, shape: str, vocab: int, device: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    rng = random.Random(0)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([words(rng, 200) for _ in range(300)], trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHATML
    cfg = Qwen2Config(vocab_size=vocab, max_position_embeddings=32768, tie_word_embeddings=True,
                      rope_theta=1e6, **SHAPES[shape])
    torch.manual_seed(0)
    with torch.device(device):
        m = Qwen2ForCausalLM(cfg).to(torch.bfloat16)
    m.save_pretrained(path)
    fast.save_pretrained(path)
    return fast


def make_samples(path: Path, tok, n: int, prompt_tokens: int, resp_tokens: int):
    rng = random.Random(1)
    # calibrate words per token once, then draw lengths around the targets
    wpt = len(words(random.Random(2), 400).split()) / len(tok(words(random.Random(2), 400))["input_ids"])
    with path.open("w") as fh:
        for i in range(n):
            p = words(rng, int(rng.uniform(0.5, 1.5) * prompt_tokens * wpt))
            r = words(rng, int(rng.uniform(0.5, 1.5) * resp_tokens * wpt))
            fh.write(json.dumps({"id": f"q{i // 8}_{i % 8}", "problem_id": f"q{i // 8}", "k": i % 8,
                                 "prompt": p, "answer": None, "response": r, "model": "bench",
                                 "sampling": {}, "seed": i}) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="qwen2.5-1.5b")
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--resp-tokens", type=int, default=768)
    ap.add_argument("--block-size", type=int, default=256)
    ap.add_argument("--token-budget", type=int, default=65536)
    ap.add_argument("--work", default="/tmp/rk_multi_gpu")
    ap.add_argument("--out", default="multi_gpu_scoring.json")
    ap.add_argument("--smoke", action="store_true", help="CPU dry run, tiny model")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    n_gpu = 0 if a.smoke else torch.cuda.device_count()
    device = "cpu" if a.smoke else "cuda"
    t = time.time()
    tok = build_model(work / "model", a.shape, 2048 if a.smoke else 151936, device)
    make_samples(work / "samples.jsonl", tok, a.n, a.prompt_tokens, a.resp_tokens)
    rec = {"machine": {"gpu": torch.cuda.get_device_name() if n_gpu else "cpu", "n_gpu": n_gpu,
                       "torch": torch.__version__, "cmd": " ".join(sys.argv)},
           "setup_s": time.time() - t, "runs": {}}
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    cfg = ScoreConfig(model=str(work / "model"), device=device, token_budget=a.token_budget,
                      block_size=a.block_size)
    plans = [(w, [str(i) for i in range(w)]) for w in range(1, max(n_gpu, 1) + 1)]
    if n_gpu == 1:
        plans.append((2, ["0", "0"]))  # identity check on CUDA; not a speed figure
    if a.smoke:
        plans = [(1, None), (2, None)]
    base = None
    for w, gpus in plans:
        name = f"w{w}" + ("_one_gpu" if gpus and len(set(gpus)) < w else "")
        t = time.time()
        res = W.launch_local(cfg, [str(work / "samples.jsonl")], work / name, w, gpus=gpus)
        wall = time.time() - t
        toks = sum(r["scored_tokens"] + r["context_tokens"] for r in res["ranks"])
        slowest = max(r["total_s"] - r["load_s"] for r in res["ranks"])
        row = {"world_size": w, "gpus": gpus, "wall_s": wall, "tokens": toks,
               "tok_per_s_wall": toks / wall, "tok_per_s_scoring": toks / slowest, "ranks": res["ranks"]}
        if base is None:
            base = res["scores"]
        else:
            row["identical_to_w1"] = res["scores"] == base
            row["speedup_wall_vs_w1"] = rec["runs"]["w1"]["wall_s"] / wall
        rec["runs"][name] = row
        print(json.dumps({k: v for k, v in row.items() if k != "ranks"}), flush=True)
        Path(a.out).write_text(json.dumps(rec, indent=1))
    print("\n| run | GPUs | samples | tokens | wall s | tok/s (wall) | tok/s (scoring, slowest rank) | identical to W=1 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rec["runs"].items():
        print(f"| {name} | {r['gpus']} | {sum(x['samples'] for x in r['ranks'])} | {r['tokens']} | "
              f"{r['wall_s']:.1f} | {r['tok_per_s_wall']:.0f} | {r['tok_per_s_scoring']:.0f} | "
              f"{r.get('identical_to_w1', '—')} |")


if __name__ == "__main__":
    main()
