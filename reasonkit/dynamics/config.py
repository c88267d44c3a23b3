"""Schema of the ``dynamics`` group: which typed sample pools are scored at every checkpoint."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class PoolConfig:
    # Where the samples come from (a registered source, reasonkit/dynamics/pools.py):
    # selected (the train set the select stage chose), judged (the judged candidates), eval (one
    # eval row's answers, e.g. the base student's), file (any JSONL with prompt, response, type).
    source: str = "selected"
    # Label of these samples in tables and plots; for source=file each record's own `type` field
    # is used when this is null.
    type: Optional[str] = None
    path: Optional[str] = None        # source=file
    row: str = "student"              # source=eval: which eval row's samples
    correct: Optional[bool] = None    # keep only correct (true) / incorrect (false) samples
    n: Optional[int] = None           # at most n samples, a seeded random subset (None: all)
    seed: int = 0


@dataclass
class DynamicsConfig:
    name: str = "default"
    pools: list[PoolConfig] = field(default_factory=lambda: [
        PoolConfig(source="selected", type="train-selected", n=64),
        PoolConfig(source="judged", type="random", n=64, seed=1)])
    # Step 0: the student before training, the reference every curve starts from.
    include_base: bool = True
