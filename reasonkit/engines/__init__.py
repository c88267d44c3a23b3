"""Backends behind the one ``Engine`` interface, chosen by ``sampler.backend``."""
from __future__ import annotations

import logging
from typing import Any

from reasonkit.engines.base import Completion, Engine, GenRequest, sample_seed
from reasonkit.engines.config import SamplerConfig

log = logging.getLogger(__name__)

__all__ = ["Completion", "Engine", "GenRequest", "sample_seed", "build_engine"]


def _build(backend: str, model_path: str, cfg: SamplerConfig) -> Engine:
    if backend == "hf":
        from reasonkit.engines.hf import HFEngine

        # sampler.engine holds the configured backend's arguments (e.g. vllm.LLM's); a fallback to
        # hf must not pass them to from_pretrained
        return HFEngine(model_path, dict(cfg.engine) if cfg.backend == "hf" else {}, batch_size=cfg.batch_size)
    if backend == "vllm":
        from reasonkit.engines.vllm import VLLMEngine

        return VLLMEngine(model_path, cfg)
    if backend == "openai":
        from reasonkit.engines.openai import OpenAIEngine

        return OpenAIEngine(model_path, cfg)
    raise ValueError(f"sampler.backend: expected hf, vllm or openai, got {backend!r}")


def build_engine(cfg: SamplerConfig, model_path: str, info: dict[str, Any] | None = None) -> Engine:
    """Start the configured backend; on failure use ``cfg.fallback`` if set, and record that in
    ``info`` (which the stage writes to its manifest) as well as the log."""
    try:
        engine = _build(cfg.backend, model_path, cfg)
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
        return _build(cfg.fallback, model_path, cfg)
