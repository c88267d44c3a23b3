"""Schema of the ``eval`` group."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvalConfig:
    name: str = "???"
    # Which dataset split to evaluate on (of the run's ``dataset``).
    split: str = "test"
    n: int = 4
    ks: list[int] = field(default_factory=lambda: [1, 2, 4])
    seed: int = 1234
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": 1.0, "top_p": 1.0, "max_tokens": 48})
    # Rows of the eval table: base models by role and/or "trained" (the train stage's output).
    models: list[str] = field(default_factory=lambda: ["teacher", "student", "trained"])
