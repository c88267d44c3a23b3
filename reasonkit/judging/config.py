"""Schema of the ``judge`` group (minimal; the judging family extends it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class JudgeConfig:
    name: str = "math"
    version: str = "1"
    timeout_s: float = 5.0
