"""Schema of the ``tracking`` group (minimal; the tracking family extends it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrackingConfig:
    backend: str = "none"
