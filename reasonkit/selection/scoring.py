"""``stage=score``: each judged sample's log-likelihood under one model, through the engine that
``score.backend`` names (``reasonkit.engines.ENGINES``: hf = the fast chunked scorer, vllm =
``prompt_logprobs``).

Per sample it records ``llh_sum`` (sum of response-token log-probs), ``llh_mean`` (length
normalised), ``n_tokens``, ``ppl = exp(-llh_mean)``, ``entropy_mean`` (mean entropy of the
next-token distribution at the response positions; None on vllm) and ``n_context_tokens``.
This module decides *which* tokens are scored: each (prompt, response) is rendered with the
model's chat template and tokenised the way SFT will see it; the engine scores those token ids.

Sharding (one process per GPU): samples are cut into fixed blocks of ``block_size`` in input
order; rank r takes blocks r, r+W, … and the engine batches inside each block only. A sample
therefore sits in the same batch whatever the world size, which is what makes the merged scores
of a W-process run identical to the 1-process run, not merely close.

Importable without Hydra, TRL or vLLM: ranks on GPU machines import only torch + transformers.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reasonkit.engines.base import LOGLIK_FIELDS, Engine, ScoringError

SCORE_FIELDS = LOGLIK_FIELDS
__all__ = [
    "SCORER_VERSION",
    "SCORE_FIELDS",
    "ScoreConfig",
    "ScoringError",
    "load_scorer",
    "pair_ids",
    "prepare_pairs",
    "render_pair",
    "score_samples",
]


@dataclass
class ScoreConfig:
    """Options of ``stage=score`` (``conf/score``-style options set only these fields)."""

    model: str | None = None          # model folder/name; None → the stage uses the student model
    backend: str = "hf"               # hf | vllm: the engine that scores (reasonkit.engines)
    device: str = "auto"              # auto | cpu | cuda | cuda:N
    dtype: str = "auto"               # auto (bf16 on GPU, fp32 on CPU) | bfloat16 | float32
    template: str = "chat"            # chat: the model's chat template (what SFT sees) | none
    span: str = "turn"                # turn: whole rendered assistant turn (incl. end-of-turn
    #                                   tokens, what SFT trains on) | content: the response only
    system: str | None = None         # optional system message rendered before the user turn
    # chat template override (a file or the template text); None → the model folder's own. The
    # stage sets the student's override here so every scoring process renders the same text.
    chat_template: str | None = None
    token_budget: int = 65536         # padded tokens per forward batch
    head_chunk_mb: int = 2048         # memory for one chunk of fp32 LM-head logits
    head_impl: str = "auto"           # auto (triton on CUDA when importable) | triton | torch
    compile: bool = True              # torch.compile decoder layers on CUDA (CPU runs eager)
    max_length: int | None = None     # refuse longer pairs; None → model's max positions
    block_size: int = 8192            # sharding unit (samples), independent of world size
    world_size: int = 1
    rank: int = 0
    verify: bool = True               # check the fast path against the plain forward on 1 sample
    vllm: dict[str, Any] = field(default_factory=dict)  # vllm.LLM(...) arguments (engines/vllm.py)


# Rendering of (prompt, response) pairs and the span that is scored; bump on any output change.
SCORER_VERSION = "2"


# --------------------------------------------------------------------------- rendering


def render_pair(tokenizer: Any, prompt: str, response: str, *, template: str = "chat",
                span: str = "turn", system: str | None = None) -> tuple[str, str]:
    """Split the training rendering of one exchange into (context, continuation) text.

    The continuation is what the chat template renders for the assistant turn after the
    generation prompt, so the scored tokens are the tokens SFT trains on (``span='turn'``), or
    just the response text inside it (``span='content'``).
    """
    if template == "none":
        return prompt, response
    if template != "chat":
        raise ValueError(f"score.template: expected 'chat' or 'none', got {template!r}")
    if not getattr(tokenizer, "chat_template", None):
        raise ScoringError("score.template=chat but the tokenizer has no chat_template "
                           "(set score.template=none to score raw concatenations)")
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}]
    ctx = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(msgs + [{"role": "assistant", "content": response}],
                                         tokenize=False)
    if not full.startswith(ctx):
        raise ScoringError("chat template: the rendered conversation does not start with the "
                           "rendered generation prompt; cannot locate the assistant span")
    cont = full[len(ctx):]
    if span == "content":
        at = cont.find(response)
        if at < 0:
            raise ScoringError("score.span=content: the template rewrote the response text")
        return full[: len(ctx) + at], response
    if span != "turn":
        raise ValueError(f"score.span: expected 'turn' or 'content', got {span!r}")
    return ctx, cont


def _has_generation_markers(tokenizer: Any) -> bool:
    tpl = getattr(tokenizer, "chat_template", None) or ""
    return isinstance(tpl, str) and "{% generation %}" in tpl.replace("{%-", "{%").replace("-%}", "%}")


def _mask_split(tokenizer: Any, prompt: str, response: str, cfg: ScoreConfig
                ) -> tuple[list[int], list[int]] | None:
    """Split at the template's own trained-span mask; None if the mask is absent or not one run."""
    msgs = ([{"role": "system", "content": cfg.system}] if cfg.system else []) + [
        {"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    enc = tokenizer.apply_chat_template(msgs, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids, mask = list(enc["input_ids"]), list(enc["assistant_masks"])
    if 1 not in mask:
        return None
    first = mask.index(1)
    last = len(mask) - 1 - mask[::-1].index(1)
    return (ids[:first], ids[first:last + 1]) if all(mask[first:last + 1]) else None


def pair_ids(tokenizer: Any, prompt: str, response: str, cfg: ScoreConfig
             ) -> tuple[list[int], list[int]]:
    """(context ids, scored ids) of one exchange, tokenised the way SFT will see it.

    With ``span='turn'`` and a template that marks the trained span (``{% generation %}``, what
    TRL's ``assistant_only_loss`` uses), the scored tokens are exactly the masked ones; otherwise
    the continuation is everything the template renders after the generation prompt (what TRL's
    prompt-completion rows train on).
    """
    return prepare_pairs(tokenizer, [{"id": "pair", "prompt": prompt, "response": response}], cfg)[0]


def prepare_pairs(tokenizer: Any, samples: Sequence[dict[str, Any]], cfg: ScoreConfig
                  ) -> list[tuple[list[int], list[int]]]:
    """Render each sample with the model's chat template and tokenise it as SFT will.

    Text splits are tokenised in one batched call (the Rust tokenizer spreads it over threads).
    """
    for s in samples:
        for f in ("id", "prompt", "response"):
            if not isinstance(s.get(f), str):
                raise ScoringError(f"sample {s.get('id', '?')}: field '{f}': expected a string")
    pairs: list[tuple[list[int], list[int]] | None] = [None] * len(samples)
    if cfg.template == "chat" and cfg.span == "turn" and _has_generation_markers(tokenizer):
        for i, s in enumerate(samples):
            pairs[i] = _mask_split(tokenizer, s["prompt"], s["response"], cfg)
    todo = [i for i, p in enumerate(pairs) if p is None]
    if todo:
        texts = [render_pair(tokenizer, samples[i]["prompt"], samples[i]["response"],
                             template=cfg.template, span=cfg.span, system=cfg.system) for i in todo]
        special = cfg.template == "none"
        ctx_ids = tokenizer([c for c, _ in texts], add_special_tokens=special)["input_ids"]
        full_ids = tokenizer([c + r for c, r in texts], add_special_tokens=special)["input_ids"]
        for i, (c, r), ci, fi in zip(todo, texts, ctx_ids, full_ids):
            if fi[: len(ci)] == ci:
                pairs[i] = (list(ci), list(fi[len(ci):]))
            else:  # a token straddles the boundary: split at a token edge instead
                pairs[i] = (list(ci), list(tokenizer(r, add_special_tokens=False)["input_ids"]))
    return pairs  # type: ignore[return-value]


def iter_blocks(samples: Iterable[dict[str, Any]], block_size: int) -> Iterator[list[dict[str, Any]]]:
    block: list[dict[str, Any]] = []
    for s in samples:
        block.append(s)
        if len(block) == block_size:
            yield block
            block = []
    if block:
        yield block


def scoring_backends() -> list[str]:
    """The engines that can score (those with ``for_scoring``)."""
    from reasonkit.engines import ENGINES

    return [n for n in ENGINES.names() if hasattr(ENGINES.get(n), "for_scoring")]


def check_backend(backend: str) -> None:
    from reasonkit.engines import ENGINES

    if backend not in ENGINES or not hasattr(ENGINES.get(backend), "for_scoring"):
        raise ValueError(f"score.backend: expected one of {scoring_backends()}, got {backend!r}")


def load_scorer(cfg: ScoreConfig) -> tuple[Engine, Any]:
    """The engine ``score.backend`` names, built for scoring ``score.model``, and the tokenizer
    that renders the pairs (with ``score.chat_template`` overriding the folder's, as in training)."""
    from reasonkit.engines import ENGINES
    from reasonkit.models import load as models

    if not cfg.model:
        raise ValueError("score.model: no model given")
    check_backend(cfg.backend)
    tok = models.tokenizer(cfg.model, None, cfg.chat_template)
    return ENGINES.get(cfg.backend).for_scoring(cfg.model, cfg), tok


def score_samples(engine: Engine, tokenizer: Any, samples: Iterable[dict[str, Any]],
                  cfg: ScoreConfig, timings: dict[str, float] | None = None
                  ) -> Iterator[dict[str, Any]]:
    """Stream this rank's share of ``samples``; yields ``{"id", **SCORE_FIELDS, "n_context_tokens"}``
    in input order.

    Every rank reads the same whole input stream and keeps blocks ``b`` with
    ``b % world_size == rank``; the engine sees one block per call, so results do not depend on
    the world size, and memory is bounded by one block. ``timings`` (if given) accumulates seconds
    spent waiting for tokenisation, verifying the engine's fast path, in the first block
    (compilation) and scoring.
    """
    tm = timings if timings is not None else {}
    for k in ("tokenize_wait_s", "verify_s", "first_block_s", "score_s"):
        tm.setdefault(k, 0.0)
    if not 0 <= cfg.rank < cfg.world_size:
        raise ValueError(f"score.rank={cfg.rank} must be in [0, world_size={cfg.world_size})")
    mine = (blk for b, blk in enumerate(iter_blocks(samples, cfg.block_size))
            if b % cfg.world_size == cfg.rank)
    verify_s = getattr(engine, "loglik_stats", {})
    # tokenise the next block on a thread while this one is on the GPU (tokenizers drop the GIL)
    with ThreadPoolExecutor(1) as pool:
        nxt = next(mine, None)
        fut = pool.submit(prepare_pairs, tokenizer, nxt, cfg) if nxt is not None else None
        first = True
        while nxt is not None:
            t0 = time.perf_counter()
            block, pairs = nxt, fut.result()
            t1 = time.perf_counter()
            tm["tokenize_wait_s"] += t1 - t0
            nxt = next(mine, None)
            fut = pool.submit(prepare_pairs, tokenizer, nxt, cfg) if nxt is not None else None
            ids = [s["id"] for s in block]
            v0 = verify_s.get("verify_s", 0.0)
            res = engine.loglikelihood(pairs, ids=ids)
            dv = verify_s.get("verify_s", 0.0) - v0
            tm["verify_s"] += dv
            tm["first_block_s" if first else "score_s"] += time.perf_counter() - t1 - dv
            first = False
            for sid, r in zip(ids, res):
                yield {"id": sid, **r}
