"""Schema of the ``selection`` group (minimal; the selection family extends it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SelectionConfig:
    name: str = "correct"
    strategy: str = "correct"
    max_per_problem: int | None = None
    seed: int = 0
