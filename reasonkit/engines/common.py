"""Pieces the vllm and openai backends share: config access, sampling checks, ``<think>`` handling,
and the CPU runtime defaults for vLLM.

Why here: both backends must treat sampling fields, seeds and reasoning text identically, or the
same config would give different records depending on ``sampler.backend``.
"""
from __future__ import annotations

from typing import Any, Mapping

# The engine owns these: n is len(GenRequest.ids), each sample's seed comes from its id.
ENGINE_OWNED = ("n", "seed")
THINK_MODES = ("keep", "strip", "split")


def cfg_get(cfg: Any, key: str, default: Any = None) -> Any:
    """Read a field from a SamplerConfig dataclass, a DictConfig or a plain dict."""
    if isinstance(cfg, Mapping):
        return cfg.get(key, default)
    return getattr(cfg, key, default)


def plain(d: Any) -> dict[str, Any]:
    """A DictConfig/dataclass field as a plain, mutable dict (vLLM and httpx want plain types)."""
    if d is None:
        return {}
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(d, DictConfig):
            return OmegaConf.to_container(d, resolve=True)  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - omegaconf is a core dependency
        pass
    return {k: (plain(v) if isinstance(v, Mapping) else v) for k, v in dict(d).items()}


def check_engine_owned(sampling: Mapping[str, Any], where: str = "sampler.sampling") -> None:
    bad = [k for k in ENGINE_OWNED if k in sampling]
    if bad:
        raise ValueError(
            f"{where}: {bad} must not be set here: the number of samples is sampler.n and every "
            f"sample's seed is derived from sampler.seed and its sample id (so results do not "
            f"depend on batching or sharding)")


def think_mode(cfg: Any) -> str:
    mode = cfg_get(cfg, "think", None) or "keep"
    if mode not in THINK_MODES:
        raise ValueError(f"sampler.think: expected one of {THINK_MODES}, got {mode!r}")
    return mode


def apply_think(text: str, mode: str, open_tag: str = "<think>", close_tag: str = "</think>") -> tuple[str, dict[str, Any]]:
    """``keep``: text unchanged. ``strip``: drop the reasoning block, keep the answer.
    ``split``: answer as text, reasoning in ``extra['reasoning']``.

    A generation prompt often ends with ``<think>`` already, so only the closing tag is required;
    a response without a closing tag never finished thinking: its answer is empty and
    ``extra['think_closed']`` is False (judges should not read an answer out of reasoning).
    """
    if mode == "keep":
        return text, {}
    from reasonkit.think import split_think  # the one splitter engines, formats and judges share

    t = split_think(text, (open_tag.strip("<>"),), opened=True)
    extra: dict[str, Any] = {"think_closed": t.closed}
    if mode == "split":
        extra["reasoning"] = (t.reasoning or "").strip()
    return (t.answer.lstrip() if t.closed else ""), extra


def on_cpu() -> bool:
    """True when vLLM will run on its CPU platform (no CUDA device visible)."""
    try:
        import torch

        return not torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return True


# vLLM's CPU backend: a small KV cache (GiB), no thread pinning (cores are shared), and no extra
# worker process (offline: the engine core runs in-process; `vllm serve`: the worker runs inside
# the engine-core process, one import of vLLM fewer, ~30 s less start-up here). Only defaults: the
# environment wins.
CPU_ENV_DEFAULTS = {
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_CPU_OMP_THREADS_BIND": "nobind",
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
}


def cpu_env() -> dict[str, str]:
    return dict(CPU_ENV_DEFAULTS)


# vllm-cpu 0.32: a seeded request whose prompt is split over scheduler steps (chunked prefill)
# crashes the engine ("CPU Generator does not use offset": vLLM rewinds the sampler's generator,
# which CPU generators cannot do). Per-sample seeds are how reasonkit samples, so on CPU prompts
# are prefilled whole. Only a default: engine/server args may override it.
CPU_ENGINE_DEFAULTS = {"enable_chunked_prefill": False}
