"""Runs inside each training rank (``python -m reasonkit.training.entry <frozen.yaml>``, or under
``accelerate launch``). It reads only the frozen, resolved config the Hydra process wrote, and
never imports Hydra: what a rank trains is exactly what the artifact records."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

# trainer.kind → the row kind it reads (formats.writers.TRAINED_BY's values): CPO/SimPO train on
# the same prompt/chosen/rejected rows as DPO.
KINDS: dict[str, str] = {"sft": "sft", "dpo": "dpo", "cpo": "dpo"}


def trl_classes(kind: str) -> tuple[Any, Any]:
    if kind == "sft":
        from trl import SFTConfig, SFTTrainer
        return SFTConfig, SFTTrainer
    if kind == "dpo":
        from trl import DPOConfig, DPOTrainer
        return DPOConfig, DPOTrainer
    if kind == "cpo":  # CPO / SimPO (args.loss_type=simpo): preference rows, no reference model
        from trl.experimental.cpo import CPOConfig, CPOTrainer
        return CPOConfig, CPOTrainer
    raise ValueError(f"trainer.kind: expected {' | '.join(KINDS)}, got {kind!r}")


def load_model(spec: dict[str, Any]) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(spec["model_path"], dtype=spec.get("dtype") or "auto",
                                                **(spec.get("model_kwargs") or {}))


def build_trainer(spec: dict[str, Any], model: Any, tok: Any, ds: Any, callbacks: list | None = None) -> Any:
    """The TRL trainer a frozen spec describes; shared by main(), the GPU benchmark and the GPU tests
    so that what is measured and tested is what the train stage runs."""
    Config, Trainer = trl_classes(spec["kind"])
    args = Config(output_dir=str(Path(spec["output_dir"]) / "checkpoints"), **spec["args"])
    trainer = Trainer(model=model, args=args, train_dataset=ds, processing_class=tok, callbacks=callbacks)
    if spec["kind"] == "dpo":
        from reasonkit.training.pairs import add_pair_lengths

        add_pair_lengths(trainer)
    if spec.get("pack_pairs"):
        from reasonkit.training.pairs import pack_trainer

        pack_trainer(trainer, int(spec.get("pack_multiple") or 1))
    if spec.get("compile_layers"):
        from reasonkit.training.speed import compile_layers

        compile_layers(trainer.model)
    return trainer


def main(frozen: str) -> None:
    spec = yaml.safe_load(Path(frozen).read_text())
    print(f"[reasonkit.training] rank {os.environ.get('RANK', 0)}/{os.environ.get('WORLD_SIZE', 1)} "
          f"training {spec['model_path']} ({spec['kind']})", flush=True)
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint

    out = Path(spec["output_dir"])
    ckpts = out / "checkpoints"
    ds = load_dataset("json", data_files=spec["data_files"], split="train")
    keep = [c for c in ("messages", "prompt", "completion", "chosen", "rejected") if c in ds.column_names]
    ds = ds.select_columns(keep)
    tok = AutoTokenizer.from_pretrained(spec["model_path"])
    trainer = build_trainer(spec, load_model(spec), tok, ds)
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
