"""Schema of the ``sampler`` group. ``sampling`` and ``engine`` pass straight through to the
backend (vLLM ``SamplingParams`` / ``vllm.LLM``; the hf backend maps the subset it supports)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SamplerConfig:
    backend: str = "hf"
    n: int = 4
    seed: int = 0
    # Records per append batch: the unit of work lost at most by a crash.
    batch_size: int = 64
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": 1.0, "top_p": 1.0, "max_tokens": 48})
    engine: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    shards: int = 1
    shard: int | None = None
    # Backend to fall back to if this one cannot start (e.g. "hf"); recorded in the manifest.
    fallback: str | None = None
    chat: bool = True
    # <think> handling of responses: keep | strip | split (reasoning into its own field)
    think: str = "keep"
    # What generate writes: "model" (the teacher through `backend`) or "reference" (each problem's
    # reference solution, field `reference_field`: "answer" for GSM8K, whose answer column is the
    # worked solution ending "#### <n>", else an unmapped column). Eval always uses `backend`.
    source: str = "model"
    reference_field: str = "solution"
