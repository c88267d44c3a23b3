"""Schema of the ``trainer`` group. ``args`` passes straight through to ``trl.SFTConfig`` (or
``trl.DPOConfig``): reasonkit re-declares none of TRL's settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainerConfig:
    name: str = "???"
    kind: str = "sft"
    # python: one process; accelerate: `accelerate launch` with the config file below (GPU, DeepSpeed);
    # torchrun: num_processes gloo/nccl ranks without accelerate (the CPU multi-process path).
    launcher: str = "python"
    num_processes: int = 1
    accelerate_config: str | None = None
    # Extra from_pretrained kwargs (e.g. attn_implementation=flex_attention, which padding-free batches
    # need: sdpa would turn packed rows into one dense quadratic mask).
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    # torch.compile each decoder layer in place after TRL/Liger patched the model (GPU presets).
    compile_layers: bool = False
    # DPO only: run the padded chosen/rejected batch as one padding-free packed row
    # (reasonkit/training/pairs.py; TRL 1.16's own DPO padding_free is disabled).
    pack_pairs: bool = False
    # pack_pairs: pad the packed row to a multiple of this many tokens (an isolated filler sequence),
    # so flex attention compiles for a few lengths rather than one per step.
    pack_multiple: int = 1024
    args: dict[str, Any] = field(default_factory=dict)
