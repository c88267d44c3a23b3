"""Judging: extraction, math verification at scale, vote pseudo-labels, sandboxed code, choice,
critique and LLM judges. ``build_judge(cfg)`` is the one entry the judge stage calls."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .base import BaseJudge, Judge, JudgeInputError, iter_batches, iter_groups
from .config import JUDGE_NAMES, ExtractConfig, JudgeConfig, LLMJudgeConfig, SandboxConfig
from .extract import EXTRACT_VERSION, Extraction, extract_answer, extract_gold

__all__ = ["build_judge", "to_config", "Judge", "BaseJudge", "JudgeConfig", "ExtractConfig",
           "SandboxConfig", "LLMJudgeConfig", "JudgeInputError", "EXTRACT_VERSION", "Extraction",
           "extract_answer", "extract_gold", "iter_groups", "iter_batches", "JUDGE_NAMES"]


def to_config(cfg: JudgeConfig | Mapping[str, Any] | Any) -> JudgeConfig:
    """A ``JudgeConfig`` from itself, a plain dict or an OmegaConf node; unknown keys and wrong
    types fail here, naming the key."""
    if isinstance(cfg, JudgeConfig):
        return cfg
    from omegaconf import OmegaConf

    merged = OmegaConf.merge(OmegaConf.structured(JudgeConfig), cfg)
    return OmegaConf.to_object(merged)  # type: ignore[return-value]


def build_judge(cfg: JudgeConfig | Mapping[str, Any] | Any, engine: Any = None,
                render: Callable[[str], str] | None = None) -> BaseJudge:
    """The judge named by ``cfg.name``. ``engine`` (an ``Engine``) and ``render`` (the judge model's
    chat template, text → rendered prompt) are used by ``llm`` only."""
    c = to_config(cfg)
    if c.extract.unclosed_think not in ("drop", "keep"):
        raise ValueError(f"judge.extract.unclosed_think: expected drop or keep, got {c.extract.unclosed_think!r}")
    from .extract import EXTRACTORS

    bad = [o for o in c.extract.order if o not in EXTRACTORS]
    if bad:
        raise ValueError(f"judge.extract.order: unknown extractor(s) {bad}; expected some of {list(EXTRACTORS)}")
    if c.name == "math":
        from .math_judge import MathJudge

        return MathJudge(c)
    if c.name == "vote":
        from .vote import VoteJudge

        return VoteJudge(c)
    if c.name == "judge_vote":
        from .vote import JudgeVoteJudge

        return JudgeVoteJudge(c)
    if c.name == "code":
        from .code_judge import CodeJudge

        return CodeJudge(c)
    if c.name == "choice":
        from .choice import ChoiceJudge

        return ChoiceJudge(c)
    if c.name == "critique":
        from .choice import CritiqueJudge

        return CritiqueJudge(c)
    if c.name == "llm":
        from .llm import LLMJudge

        return LLMJudge(c, engine, render)
    raise ValueError(f"judge.name: unknown {c.name!r}; expected one of {', '.join(JUDGE_NAMES)}")
