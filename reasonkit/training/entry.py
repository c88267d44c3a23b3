"""Runs inside each training rank (``python -m reasonkit.training.entry <frozen.yaml>``, or under
``accelerate launch``). It reads only the frozen, resolved config the Hydra process wrote, and
never imports Hydra: what a rank trains is exactly what the artifact records."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml


def main(frozen: str) -> None:
    spec = yaml.safe_load(Path(frozen).read_text())
    print(f"[reasonkit.training] rank {os.environ.get('RANK', 0)}/{os.environ.get('WORLD_SIZE', 1)} "
          f"training {spec['model_path']} ({spec['kind']})", flush=True)
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint

    out = Path(spec["output_dir"])
    ckpts = out / "checkpoints"
    ds = load_dataset("json", data_files=spec["data_files"], split="train")
    keep = [c for c in ("messages", "prompt", "completion", "chosen", "rejected") if c in ds.column_names]
    ds = ds.select_columns(keep)
    tok = AutoTokenizer.from_pretrained(spec["model_path"])
    model = AutoModelForCausalLM.from_pretrained(spec["model_path"], dtype=spec.get("dtype") or "auto")
    if spec["kind"] == "sft":
        from trl import SFTConfig as Config, SFTTrainer as Trainer
    elif spec["kind"] == "dpo":
        from trl import DPOConfig as Config, DPOTrainer as Trainer
    else:
        raise ValueError(f"trainer.kind: expected sft or dpo, got {spec['kind']!r}")
    args = Config(output_dir=str(ckpts), **spec["args"])
    trainer = Trainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    last = get_last_checkpoint(str(ckpts)) if ckpts.exists() else None
    if last:
        print(f"[reasonkit.training] resuming from {last}", flush=True)
    trainer.train(resume_from_checkpoint=last)
    if trainer.is_world_process_zero():
        trainer.save_model(str(out / "model"))
        tok.save_pretrained(str(out / "model"))
        (out / "train_log.json").write_text(json.dumps(trainer.state.log_history, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
