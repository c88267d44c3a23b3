"""Experiment tracking: one tracked run per stage execution (``tracking=none|wandb``)."""
from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable

from omegaconf import OmegaConf

from reasonkit.tracking.base import NullTracker, Tracker, tracked
from reasonkit.tracking.config import BACKENDS, MODES, TrackingConfig


def _as_config(cfg: Any) -> TrackingConfig:
    """Accept the root config, its ``tracking`` node, a dict or a TrackingConfig."""
    if isinstance(cfg, TrackingConfig):
        return cfg
    if OmegaConf.is_config(cfg):
        cfg = OmegaConf.to_container(cfg, resolve=True)
    if isinstance(cfg, dict) and isinstance(cfg.get("tracking"), dict):
        cfg = cfg["tracking"]
    names = {f.name for f in fields(TrackingConfig)}
    unknown = sorted(set(cfg) - names)
    if unknown:
        raise ValueError(f"tracking: unknown keys {unknown}; expected a subset of {sorted(names)}")
    return TrackingConfig(**cfg)


def build_tracker(cfg: Any) -> Tracker:
    """A fresh tracker for one stage execution. Bad settings fail here, before any stage works."""
    t = _as_config(cfg)
    if t.backend not in BACKENDS:
        raise ValueError(f"tracking.backend={t.backend!r}: expected one of {list(BACKENDS)}")
    if t.backend == "none":
        return NullTracker()
    if t.mode not in MODES:
        raise ValueError(f"tracking.mode={t.mode!r} (or WANDB_MODE): expected one of {list(MODES)}")
    from reasonkit.tracking.wandb_backend import WandbTracker

    return WandbTracker(t)


def tracker_factory(cfg: Any) -> Callable[[], Tracker] | None:
    """What the runner takes: a zero-argument factory (one tracker per stage run), or None."""
    t = _as_config(cfg)
    if t.backend == "none":
        return None
    build_tracker(t)  # validate now, not at the first stage
    return lambda: build_tracker(t)


__all__ = ["NullTracker", "Tracker", "TrackingConfig", "build_tracker", "tracked", "tracker_factory"]
