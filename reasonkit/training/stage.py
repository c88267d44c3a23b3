"""``stage=train``: freeze the resolved trainer config, then run the trainer in a subprocess
(``python -m`` for one process, ``accelerate launch`` for several), exactly as a cluster job
would. Resumable: a rerun continues from the last checkpoint in the artifact."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from reasonkit.models import load as models
from reasonkit.pipeline.stage import Stage, StageContext, register

LAUNCHERS = Path(__file__).resolve().parents[2] / "launchers"


def command(cfg, frozen: Path) -> list[str]:
    t = cfg.trainer
    if t.launcher == "python":
        return [sys.executable, "-m", "reasonkit.training.entry", str(frozen)]
    if t.launcher == "accelerate":
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(t.num_processes)]
        if t.accelerate_config:
            p = Path(t.accelerate_config)
            cmd += ["--config_file", str(p if p.is_absolute() else LAUNCHERS / p)]
        return cmd + ["-m", "reasonkit.training.entry", str(frozen)]
    if t.launcher == "torchrun":  # accelerate's multi-CPU mode needs MPI; torchrun gives gloo ranks directly
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                str(t.num_processes), "-m", "reasonkit.training.entry", str(frozen)]
    raise ValueError(f"trainer.launcher: expected python, accelerate or torchrun, got {t.launcher!r}")


def frozen_spec(cfg, out: Path, data_files: list[str]) -> dict[str, Any]:
    """Everything a training rank reads (entry.py never sees Hydra)."""
    return {"kind": cfg.trainer.kind, "model_path": models.resolve(cfg.student, cfg.paths.models),
            "dtype": cfg.student.dtype, "output_dir": str(out), "data_files": data_files,
            "model_kwargs": OmegaConf.to_container(cfg.trainer.model_kwargs, resolve=True),
            "compile_layers": bool(cfg.trainer.compile_layers),
            "pack_pairs": bool(cfg.trainer.pack_pairs), "pack_multiple": int(cfg.trainer.pack_multiple),
            "args": OmegaConf.to_container(cfg.trainer.args, resolve=True)}


@register
class TrainStage(Stage):
    name = "train"
    inputs = ("format",)
    resumable = True

    def keys(self, cfg):
        from reasonkit.training.pairs import PACK_VERSION, uses_pairs_code
        from reasonkit.training.speed import COMPILE_VERSION

        return {"student": cfg.student, "weights": models.fingerprint(cfg.student), "trainer": cfg.trainer,
                **({"compile_version": COMPILE_VERSION} if cfg.trainer.compile_layers else {}),
                **({"pack_version": PACK_VERSION} if uses_pairs_code(cfg.trainer) else {})}

    def label(self, cfg):
        return f"{cfg.student.name}-{cfg.trainer.name}"

    def validate(self, cfg) -> None:
        from reasonkit.formats.writers import TRAINED_BY
        from reasonkit.training.entry import KINDS, trl_classes

        if cfg.trainer.kind not in KINDS:
            raise ValueError(f"trainer.kind: expected {' | '.join(KINDS)}, got {cfg.trainer.kind!r}")
        cls, _ = trl_classes(cfg.trainer.kind)  # bad trainer.args fail here, before any stage runs
        if cfg.trainer.pack_pairs and cfg.trainer.kind != "dpo":
            raise ValueError(f"trainer.pack_pairs: packs DPO's chosen/rejected batches; trainer={cfg.trainer.name} "
                             f"is {cfg.trainer.kind} (sft packs with trainer.args.packing / padding_free)")
        from reasonkit.training.pairs import GROUPED

        if cfg.trainer.pack_pairs and int(cfg.trainer.pack_multiple) < 1:
            raise ValueError(f"trainer.pack_multiple: expected a whole number of tokens ≥ 1, got "
                             f"{cfg.trainer.pack_multiple!r}")
        if cfg.trainer.kind == "cpo" and cfg.trainer.args.get("train_sampling_strategy") in GROUPED:
            raise ValueError(f"trainer.args.train_sampling_strategy={cfg.trainer.args.train_sampling_strategy}: "
                             f"kind=cpo rows have no length column (reasonkit adds one for kind=dpo only); "
                             f"use random for trainer={cfg.trainer.name}")
        reader = TRAINED_BY.get(cfg.format.name)
        if reader != KINDS[cfg.trainer.kind]:
            fits = sorted(f for f, k in TRAINED_BY.items() if k == KINDS[cfg.trainer.kind])
            what = (f"rows for trainer.kind={reader}" if reader else
                    "rows for another framework (LLaMA-Factory / verl), not for the train stage")
            raise ValueError(f"format={cfg.format.name} writes {what}, but trainer={cfg.trainer.name} is "
                             f"{cfg.trainer.kind}: use format={' | '.join(fits)}, or leave train out of "
                             f"the pipeline (pipeline=[generate,judge,select,format])")
        from reasonkit.training.cadence import check_save_cadence

        check_save_cadence(cfg.trainer.name, cls, OmegaConf.to_container(cfg.trainer.args, resolve=True))
        cls(output_dir="/tmp/reasonkit-validate", **OmegaConf.to_container(cfg.trainer.args, resolve=True))

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.cfg
        out = ctx.out.path
        spec = frozen_spec(cfg, out, [str(p) for p in ctx.inputs["format"].shards()])
        frozen = out / "train_config.yaml"
        frozen.write_text(yaml.safe_dump(spec, sort_keys=False))
        cmd = command(cfg, frozen)
        ctx.log.info("[train] %s", " ".join(cmd))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(out / "train.log", "a") as logf:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                    cwd=LAUNCHERS.parent)  # launcher configs use repo-relative paths
            for line in proc.stdout:  # type: ignore[union-attr]
                logf.write(line)
                sys.stderr.write(line)
            rc = proc.wait()
        if rc != 0:
            raise RuntimeError(f"training failed (exit {rc}); see {out / 'train.log'}")
        history = json.loads((out / "train_log.json").read_text())
        losses = [h["loss"] for h in history if "loss" in h]
        if ctx.tracker:
            for h in history:
                if "loss" in h:
                    ctx.tracker.log({"train/loss": h["loss"], "train/lr": h.get("learning_rate")}, step=h.get("step"))
        final = next((h for h in reversed(history) if "train_runtime" in h), {})
        return {"first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
                "steps": final.get("step") or (history[-1].get("step") if history else None),
                "train_runtime_s": final.get("train_runtime"), "model": str(out / "model")}
