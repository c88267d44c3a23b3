"""Diagnostic, not a benchmark: per-step wall time of the first DPO steps of one configuration on a
Qwen2.5 shape, with a stack dump every ``--dump`` seconds (where a slow first step spends its time).
Run with ``TORCH_LOGS=recompiles`` to see every recompilation and its reason.

    python benchmarks/dpo_pack_probe.py qwen2.5-0.5b --steps 8 --pack --multiple 1024
"""
import argparse
import faulthandler
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from train_bench import VOCAB, preset  # noqa: E402

from reasonkit.training import entry, synthetic  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("shape")
ap.add_argument("--steps", type=int, default=8)
ap.add_argument("--pack", action="store_true")
ap.add_argument("--multiple", type=int, default=1024)
ap.add_argument("--group", action="store_true", help="train_sampling_strategy=group_by_length")
ap.add_argument("--dump", type=int, default=60)
ap.add_argument("--work", default="/tmp/rk_train_bench")
a = ap.parse_args()
faulthandler.dump_traceback_later(a.dump, repeat=True)
d = Path(a.work) / a.shape
if not (d / "config.json").exists():
    synthetic.model(a.shape, VOCAB, torch.bfloat16).save_pretrained(d)
args = {"max_length": 2048, "max_steps": a.steps, "logging_steps": 1, "save_strategy": "no",
        "dataloader_num_workers": 0, **({"train_sampling_strategy": "group_by_length"} if a.group else {})}
over = {"pack_pairs": True, "pack_multiple": a.multiple} if a.pack else {}
spec = preset("dpo_gpu", args=args, **over)
spec.update(output_dir="/tmp/probe", model_path=str(d), dtype="bfloat16")
from datasets import Dataset  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

t = entry.build_trainer(spec, entry.load_model(spec), synthetic.tokenizer(VOCAB),
                        Dataset.from_list(synthetic.dpo_rows(256, VOCAB, seed=1)))


class Steps(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):
        torch.cuda.synchronize()
        print("STEP", state.global_step, f"{time.perf_counter() - t0:.2f}s", flush=True)


t.add_callback(Steps())
t0 = time.perf_counter()
t.train()
print("DONE", f"{time.perf_counter() - t0:.2f}s", flush=True)
