"""Judging: extraction, math verification at scale, vote pseudo-labels, sandboxed code, choice,
critique and LLM judges. ``build_judge(cfg)`` is the one entry the judge stage calls."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .base import JUDGES, BaseJudge, Judge, JudgeInputError, iter_batches, iter_groups
from .config import JUDGE_NAMES, ExtractConfig, JudgeConfig, LLMJudgeConfig, SandboxConfig
from .extract import EXTRACT_VERSION, Extraction, extract_answer, extract_gold

__all__ = ["build_judge", "code_versions", "judge_class", "JUDGES", "to_config", "Judge", "BaseJudge", "JudgeConfig", "ExtractConfig",
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


def _check(c: JudgeConfig) -> None:
    """Config mistakes named before any sample is read."""
    from .extract import EXTRACTORS, ON_LENGTH, THINK_FALLBACKS

    e = c.extract
    for key, value, allowed in (("unclosed_think", e.unclosed_think, ("drop", "keep")),
                                ("think_fallback", e.think_fallback, THINK_FALLBACKS),
                                ("on_length", e.on_length, ON_LENGTH)):
        if value not in allowed:
            raise ValueError(f"judge.extract.{key}: expected one of {', '.join(allowed)}, got {value!r}")
    bad = [o for o in e.order if o not in EXTRACTORS]
    if bad:
        raise ValueError(f"judge.extract.order: unknown extractor(s) {bad}; expected some of {list(EXTRACTORS)}")
    if e.tail_chars < 1:
        raise ValueError(f"judge.extract.tail_chars: expected a positive number, got {e.tail_chars}")


def judge_class(name: str) -> type[BaseJudge]:
    """The class registered under ``judge.name`` (``conf/judge/<name>.yaml``)."""
    try:
        return JUDGES.get(name)
    except KeyError:
        raise ValueError(f"judge.name: unknown {name!r}; expected one of {', '.join(JUDGES.names())}") from None


def code_versions(cfg: JudgeConfig | Mapping[str, Any] | Any) -> dict[str, str]:
    """Versions of every piece of code the configured judge runs (judge class, extractor, think
    splitter, math checker and math-verify where used): the judge/eval artifact hashes cover them,
    so changing any of them re-judges instead of reusing stale verdicts."""
    c = to_config(cfg)
    return judge_class(c.name).code_versions(c)


def build_judge(cfg: JudgeConfig | Mapping[str, Any] | Any, engine: Any = None,
                render: Callable[[str], str] | None = None) -> BaseJudge:
    """The judge named by ``cfg.name``. ``engine`` (an ``Engine``) and ``render`` (the judge model's
    chat template, text → rendered prompt) are used by ``llm`` only."""
    c = to_config(cfg)
    _check(c)
    return judge_class(c.name).from_config(c, engine, render)
