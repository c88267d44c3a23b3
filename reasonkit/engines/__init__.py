"""Backends behind the one ``Engine`` interface, chosen by ``sampler.backend``."""
from __future__ import annotations

import logging
from typing import Any, Callable

from reasonkit.engines.base import Completion, Engine, GenRequest, sample_seed
from reasonkit.engines.config import SamplerConfig
from reasonkit.registry import Registry

log = logging.getLogger(__name__)

__all__ = ["Completion", "Engine", "GenRequest", "sample_seed", "build_engine"]


# sampler.backend=<name> → the module that registers it (conf/sampler/<name>.yaml → engines/<name>.py)
ENGINES: Registry[Callable[..., Engine]] = Registry("sampler.backend", "reasonkit.engines",
                                                    modules={"hf": "hf", "vllm": "vllm", "openai": "openai"})


def _build(backend: str, model_path: str, cfg: SamplerConfig, revision: str | None) -> Engine:
    return ENGINES.get(backend)(model_path, cfg, revision=revision)


def build_engine(cfg: SamplerConfig, model_path: str, info: dict[str, Any] | None = None,
                 revision: str | None = None, model: Any = None) -> Engine:
    """Start the configured backend; on failure use ``cfg.fallback`` if set, and record that in
    ``info`` (which the stage writes to its manifest) as well as the log. ``revision`` pins a hub
    model's weights (and tokenizer) to the revision its config names. ``model`` (its config) fills
    the engine settings the sampler leaves unset from the model preset (context length, tensor
    parallel size: ``models.load.sampler_for``)."""
    if model is not None:
        from reasonkit.models.load import sampler_for

        cfg = sampler_for(cfg, model)
    try:
        engine = _build(cfg.backend, model_path, cfg, revision)
        if info is not None:
            info["backend"] = cfg.backend
        return engine
    except Exception as e:  # noqa: BLE001 - re-raised unless a fallback is configured
        if not cfg.fallback or cfg.fallback == cfg.backend:
            raise
        log.warning("sampler.backend=%s could not start (%s: %s); falling back to %s",
                    cfg.backend, type(e).__name__, e, cfg.fallback)
        if info is not None:
            info.update(backend=cfg.fallback, fallback_from=cfg.backend, fallback_reason=f"{type(e).__name__}: {e}")
        return _build(cfg.fallback, model_path, cfg, revision)
