"""Per (sample type, checkpoint step) statistics of scored pools, and reading them back.

``llh_mean`` is the mean over samples of each sample's per-token log-likelihood (with its s.e.);
``ppl`` is the pool's token-weighted perplexity, ``exp(-Σ llh_sum / Σ n_tokens)``, so long samples
weigh as much as their tokens do; ``entropy_mean`` is the mean over samples of per-token entropy.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from reasonkit.evaluation.metrics import mean_se
from reasonkit.pipeline.artifacts import Artifact

SUMMARY = "summary.json"
SUMMARY_METRICS = {"llh_mean": "mean log-likelihood per token", "ppl": "perplexity",
                   "entropy_mean": "mean entropy per token (nats)"}


def summarize(step: int, scored: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in scored:
        by_type.setdefault(r["type"], []).append(r)
    rows = []
    for typ, rs in sorted(by_type.items()):
        llh, se = mean_se([r["llh_mean"] for r in rs])
        tokens = sum(r["n_tokens"] for r in rs)
        total = sum(r["llh_sum"] for r in rs)
        ents = [r["entropy_mean"] for r in rs if r.get("entropy_mean") is not None]
        rows.append({"type": typ, "step": step, "n": len(rs), "llh_mean": llh, "llh_mean_se": se,
                     "llh_sum_mean": total / len(rs), "ppl": math.exp(-total / tokens) if tokens else None,
                     "entropy_mean": sum(ents) / len(ents) if ents else None, "n_tokens": tokens,
                     "tokens_mean": tokens / len(rs)})
    return rows


def read_summary(art: Artifact) -> list[dict[str, Any]]:
    p = art.path / SUMMARY
    return json.loads(p.read_text()) if p.exists() else []
