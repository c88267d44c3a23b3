"""Judges: pure, versioned functions of a sample record."""
from __future__ import annotations

from reasonkit.judging.base import Judge


def build_judge(cfg, engine=None) -> Judge:
    if cfg.name == "math":
        from reasonkit.judging.math import MathJudge

        return MathJudge(cfg)
    raise ValueError(f"judge.name: unknown judge {cfg.name!r}")
