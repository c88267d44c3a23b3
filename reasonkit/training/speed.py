"""GPU speed switches the trainer presets apply on top of TRL (kept out of entry.py so the benchmark
and the GPU tests build exactly the trainer a preset describes)."""
from __future__ import annotations

from typing import Any

COMPILE_VERSION = 1  # bump when compile_layers changes what a trained model sees


def compile_layers(model: Any) -> None:
    """Compile each decoder layer in place (``Module.compile``: the state-dict keys stay the same, so
    checkpoints and ``save_model`` are unchanged). Fuses what eager runs as separate memory passes
    (norms, rotary, gated MLP, residual adds) in forward and backward."""
    import torch

    cfgd = torch._dynamo.config
    # every layer is its own module instance: allow one cache entry per layer
    for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                 "accumulated_recompile_limit"):
        if hasattr(cfgd, name):
            setattr(cfgd, name, max(getattr(cfgd, name), 256))
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    layers = getattr(base.get_decoder(), "layers", None)
    if layers is None:
        raise ValueError("trainer.compile_layers: the model's decoder has no .layers to compile")
    for layer in layers:
        layer.compile()
