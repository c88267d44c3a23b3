"""The one engine interface every backend implements (hf, vllm, openai).

Why so narrow: stages must not care which backend produced a completion, and per-sample seeds
(derived from the sample id) must make results independent of batching and sharding. Prompts
arrive already rendered with the model's chat template (``reasonkit.models.chat``), so every
backend sees byte-identical text.

Log-likelihoods (``stage=score``) take token ids, not text: the score stage tokenises each
(prompt, response) the way SFT will see it (``selection/scoring.py``), and every backend scores
exactly those tokens. A backend that can score builds itself from the score config with
``for_scoring(model_path, score_cfg)`` (hf: the fast chunked scorer in ``hf_loglik.py``; vllm:
``prompt_logprobs``).
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# (context token ids, continuation token ids): the continuation is what gets scored.
TokenPair = tuple[Sequence[int], Sequence[int]]
# What Engine.loglikelihood returns per pair (plus n_context_tokens).
LOGLIK_FIELDS = ("llh_sum", "llh_mean", "n_tokens", "ppl", "entropy_mean")
# The log-likelihood implementations (hf_loglik.py, VLLMEngine.loglikelihood); bump on any change
# to the numbers they return.
LOGLIK_VERSION = "1"


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

    def loglikelihood(self, pairs: Sequence[TokenPair], ids: Sequence[str] | None = None
                      ) -> list[dict[str, Any]]:
        """For each pair, the continuation's log-likelihood given its context: ``LOGLIK_FIELDS``
        and ``n_context_tokens`` (``entropy_mean`` None where the backend sees only top-k
        log-probs). ``ids`` name the pairs in errors. Backends without it (openai) leave it out."""
        ...

    def close(self) -> None: ...


def sample_seed(base_seed: int, sample_id: str) -> int:
    """Stable 31-bit seed for one sample: same id, same seed, whatever the batch or shard."""
    h = hashlib.sha256(f"{base_seed}:{sample_id}".encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF


class ScoringError(ValueError):
    """A pair that cannot be scored (empty context, too long, template mismatch)."""


def loglik_result(sum_lp: float, sum_ent: float | None, n: int, n_context: int | None = None
                  ) -> dict[str, Any]:
    """The score fields of one continuation of ``n`` tokens from its summed log-probs/entropies."""
    mean = sum_lp / n
    out: dict[str, Any] = {"llh_sum": sum_lp, "llh_mean": mean, "n_tokens": n,
                           "ppl": math.exp(-mean) if -mean < 700 else math.inf,
                           "entropy_mean": None if sum_ent is None else sum_ent / n}
    if n_context is not None:
        out["n_context_tokens"] = n_context
    return out


def check_pairs(pairs: Sequence[TokenPair], max_len: int | None = None, ids: Sequence[str] | None = None,
                vocab: int | None = None) -> None:
    """Refuse pairs no backend can score, naming the sample."""
    for i, (c, r) in enumerate(pairs):
        name = ids[i] if ids else f"pair {i}"
        if vocab is not None and (c and max(c) >= vocab or r and max(r) >= vocab):
            raise ScoringError(f"{name}: token id ≥ the model's vocabulary ({vocab}); the "
                               "tokenizer does not belong to this model")
        if len(c) < 1:
            raise ScoringError(f"{name}: empty context (the first response token has nothing to "
                               "condition on)")
        if len(r) < 1:
            raise ScoringError(f"{name}: empty response")
        if max_len and len(c) + len(r) > max_len:
            raise ScoringError(f"{name}: {len(c) + len(r)} tokens exceed max_length {max_len}")
