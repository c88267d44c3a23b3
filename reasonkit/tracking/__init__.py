"""Experiment tracking (one tracked run per stage execution)."""
from __future__ import annotations

from typing import Callable

from reasonkit.tracking.base import NullTracker, Tracker


def tracker_factory(cfg) -> Callable[[], Tracker] | None:
    if cfg.tracking.backend == "none":
        return None
    raise ValueError(f"tracking.backend: unknown backend {cfg.tracking.backend!r}")


__all__ = ["NullTracker", "Tracker", "tracker_factory"]
