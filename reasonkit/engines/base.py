"""The one engine interface every backend implements (hf, vllm, openai).

Why so narrow: stages must not care which backend produced a completion, and per-sample seeds
(derived from the sample id) must make results independent of batching and sharding. Prompts
arrive already rendered with the model's chat template (``reasonkit.models.chat``), so every
backend sees byte-identical text.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence


@dataclass
class GenRequest:
    """n samples of one rendered prompt; ``seeds[i]`` seeds sample ``ids[i]``."""

    prompt: str
    ids: list[str]
    seeds: list[int]


@dataclass
class Completion:
    """What came back for one sample."""

    text: str
    finish_reason: str | None = None
    n_prompt_tokens: int | None = None
    n_completion_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """``sampling`` uses vLLM ``SamplingParams`` field names (temperature, top_p, max_tokens, …);
    each backend maps or passes them through."""

    name: str

    def generate(self, requests: Sequence[GenRequest], sampling: dict[str, Any]) -> list[list[Completion]]:
        """One list of completions per request, in ``ids`` order."""
        ...

    def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        """Per-token log-probs of each continuation given its (rendered) context."""
        ...

    def close(self) -> None: ...


def sample_seed(base_seed: int, sample_id: str) -> int:
    """Stable 31-bit seed for one sample: same id, same seed, whatever the batch or shard."""
    h = hashlib.sha256(f"{base_seed}:{sample_id}".encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF
