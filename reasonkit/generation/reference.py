"""``sampler.source=reference``: the dataset's own reference solution as the one "sample" of each
problem (``sampler.reference_field``); the sampler's backend is still what eval generates with.

Why through the generate stage and not a separate path: a baseline trained on reference solutions
(R1-traces' "baseline" row) then runs the same judge → select → format → train chain as every
distilled row, and the judge checks that the reference reaches its own answer.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reasonkit.generation.samples import batched
from reasonkit.records import sample_id

REFERENCE_VERSION = "1"
MODEL_NAME = "reference"


SOURCES = ("model", "reference")


def check(sampler: Any) -> None:
    if sampler.source not in SOURCES:
        raise ValueError(f"sampler.source: expected {' | '.join(SOURCES)}, got {sampler.source!r}")
    if sampler.source == "reference" and sampler.n != 1:
        raise ValueError("sampler.source=reference: a problem has one reference solution; set sampler.n=1 "
                         f"(got {sampler.n})")


def solution(problem: dict[str, Any], field: str) -> str:
    """``field`` of the problem (``answer``, ``prompt``) or of its unmapped columns (``meta``)."""
    value = problem.get(field) if field in ("answer", "prompt") else (problem.get("meta") or {}).get(field)
    if not isinstance(value, str) or not value.strip():
        have = sorted(["answer", "prompt", *(problem.get("meta") or {})])
        raise ValueError(f"problem {problem['id']!r}: field '{field}' (sampler.reference_field): expected a "
                         f"non-empty solution text, got {value!r}; this problem has {have}")
    return value


def reference_samples(problems: Iterable[dict[str, Any]], *, field: str, batch_problems: int,
                      done: set[str] = frozenset(), instruction: Callable[[str], str] = lambda p: p
                      ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """``(records, problems of this batch)`` like ``generate_samples(..., with_chunks=True)``."""
    for chunk in batched(problems, batch_problems):
        batch = []
        for p in chunk:
            sid = sample_id(p["id"], 0)
            if sid in done:
                continue
            batch.append({"id": sid, "problem_id": p["id"], "k": 0, "prompt": instruction(p["prompt"]),
                          "answer": p.get("answer"), "response": solution(p, field), "model": MODEL_NAME,
                          "sampling": {}, "seed": 0, "finish_reason": "stop", "meta": dict(p.get("meta") or {})})
        yield batch, chunk
