"""Diagnostic: where trainer=dpo_gpu (pack_pairs + flex attention) spends its first steps on a
0.5B shape (stack dumps every 40 s, recompile log). Not a benchmark."""
import faulthandler, sys, time, json
from pathlib import Path
import torch
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from train_bench import preset, VOCAB  # noqa
from reasonkit.training import entry, synthetic  # noqa
from datasets import Dataset
faulthandler.dump_traceback_later(40, repeat=True)
work = Path("/tmp/rk_train_bench")
shape = sys.argv[1]
d = work / shape
if not (d / "config.json").exists():
    synthetic.model(shape, VOCAB, torch.bfloat16).save_pretrained(d)
spec = preset("dpo_gpu", args={"max_length": 2048, "max_steps": int(sys.argv[2]), "logging_steps": 1,
                                "save_strategy": "no", "dataloader_num_workers": int(sys.argv[3])})
spec.update(output_dir="/tmp/probe", model_path=str(d), dtype="bfloat16")
rows = synthetic.dpo_rows(128, VOCAB, seed=1)
t = entry.build_trainer(spec, entry.load_model(spec), synthetic.tokenizer(VOCAB), Dataset.from_list(rows))
from transformers import TrainerCallback
class CB(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):
        torch.cuda.synchronize(); print("STEP", state.global_step, round(time.perf_counter() - t0, 2), flush=True)
t.add_callback(CB())
t0 = time.perf_counter()
t.train()
print("DONE", time.perf_counter() - t0, flush=True)
