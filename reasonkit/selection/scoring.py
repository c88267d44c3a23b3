"""Log-likelihood scoring of (prompt, response) pairs under one model: the ``stage=score`` kernel.

Per sample it returns ``llh_sum`` (sum of response-token log-probs), ``llh_mean`` (length
normalised), ``n_tokens``, ``ppl = exp(-llh_mean)`` and ``entropy_mean`` (mean entropy of the
next-token distribution at the response positions).

Why this module is more than ``model(ids).logits.log_softmax(-1)`` per sample: that loop spends
its time on one small forward at a time and on a ``[T, vocab]`` fp32 tensor per sample (600 MB for
1k tokens of a 152k vocabulary). Here samples are sorted by length and packed to a token budget,
the decoder runs once per batch, and the LM head runs only on the response positions, in row
chunks, reduced to (target log-prob, log-sum-exp, entropy) by one streaming pass per row, so
full-vocabulary logits never exist for more than one chunk. Right padding with no attention mask
is exact for the real tokens (causal attention never looks right), and keeps SDPA on its flash
kernel. bf16 weights with fp32 accumulation (the bf16 reduced-precision-reduction switch is turned
off while scoring) and an fp32-output head matmul where torch has one.

Sharding (one process per GPU): samples are cut into fixed blocks of ``block_size`` in input
order; rank r takes blocks r, r+W, … and batches inside each block only. A sample therefore sits
in the same batch whatever the world size, which is what makes the merged scores of a W-process
run identical to the 1-process run, not merely close.

Importable without Hydra, TRL or vLLM: ranks on GPU machines import only torch + transformers.
"""
from __future__ import annotations

import contextlib
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

SCORE_FIELDS = ("llh_sum", "llh_mean", "n_tokens", "ppl", "entropy_mean")


@dataclass
class ScoreConfig:
    """Options of ``stage=score`` (``conf/score``-style options set only these fields)."""

    model: str | None = None          # model folder/name; None → the stage uses the student model
    backend: str = "hf"               # hf | vllm
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
    vllm: dict[str, Any] = field(default_factory=dict)  # passed to vllm.LLM(...) as is


# Rendering of (prompt, response) pairs and the span that is scored; bump on any output change.
SCORER_VERSION = "2"


class ScoringError(ValueError):
    """A pair that cannot be scored (empty context, too long, template mismatch)."""


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


# --------------------------------------------------------------------------- batching / sharding


def pack_batches(lengths: Sequence[int], indices: Iterable[int], token_budget: int) -> list[list[int]]:
    """Longest first; each batch's padded size (count × its longest) stays within the budget.

    A sample longer than the budget gets a batch of its own.
    """
    order = sorted(indices, key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        if cur and (len(cur) + 1) * lengths[cur[0]] > token_budget:
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


# --------------------------------------------------------------------------- the LM head


def _head_matmul(h: Any, weight: Any) -> Any:
    """``h @ weight.T`` as fp32. On CUDA the bf16 product is written as fp32 straight from the
    fp32 accumulator (``out_dtype``) so logits are never rounded to bf16 (a logit of 30 would
    lose up to 0.06 nats)."""
    import torch

    if h.dtype == torch.float32:
        return h @ weight.t()
    if h.is_cuda:
        try:
            return torch.mm(h, weight.t(), out_dtype=torch.float32)
        except (TypeError, RuntimeError, NotImplementedError):
            pass
    return (h @ weight.t()).float()


def _reduce_torch(logits: Any, targets: Any, softcap: float | None) -> tuple[Any, Any]:
    """Reference reduction of fp32 logits rows → (target log-prob, entropy)."""
    import torch

    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    lse = torch.logsumexp(logits, dim=-1)
    tgt = logits.gather(1, targets[:, None]).squeeze(1)
    p = torch.exp(logits - lse[:, None])
    ent = lse - (p * logits).sum(-1)
    return tgt - lse, ent


def _pick_head_impl(requested: str, device_is_cuda: bool, softcap: float | None) -> str:
    if requested not in ("auto", "triton", "torch"):
        raise ValueError(f"score.head_impl: expected auto|triton|torch, got {requested!r}")
    if requested == "torch":
        return "torch"
    from reasonkit.selection import _triton_head

    ok = _triton_head.available() and (device_is_cuda or _triton_head.interpreting())
    if requested == "triton":
        if not ok:
            raise RuntimeError("score.head_impl=triton: triton is not importable for this device")
        if softcap:
            raise RuntimeError("score.head_impl=triton does not apply final logit soft-capping")
        return "triton"
    return "triton" if ok and device_is_cuda and not softcap else "torch"


def head_logprobs(hidden: Any, weight: Any, targets: Any, *, bias: Any = None,
                  chunk_rows: int = 1024, impl: str = "torch",
                  softcap: float | None = None) -> tuple[Any, Any]:
    """Target log-probs and entropies (fp32) of ``hidden[N, H]`` through the LM head, in chunks
    of ``chunk_rows`` rows so at most ``chunk_rows × vocab`` fp32 logits exist at once."""
    import torch

    n = hidden.shape[0]
    logp = torch.empty(n, dtype=torch.float32, device=hidden.device)
    ent = torch.empty(n, dtype=torch.float32, device=hidden.device)
    for s in range(0, n, chunk_rows):
        e = min(s + chunk_rows, n)
        logits = _head_matmul(hidden[s:e], weight)
        if bias is not None:
            logits += bias.float()
        if impl == "triton":
            from reasonkit.selection._triton_head import lse_entropy

            lp, en = lse_entropy(logits, targets[s:e])
        else:
            lp, en = _reduce_torch(logits, targets[s:e], softcap)
        logp[s:e] = lp
        ent[s:e] = en
        del logits
    return logp, ent


# --------------------------------------------------------------------------- model plumbing


def resolve_device_dtype(cfg: ScoreConfig) -> tuple[Any, Any]:
    import torch

    dev = cfg.device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(dev)
    names = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float32": torch.float32,
             "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16}
    if cfg.dtype == "auto":
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    elif cfg.dtype in names:
        dtype = names[cfg.dtype]
    else:
        raise ValueError(f"score.dtype: expected auto|bfloat16|float32|float16, got {cfg.dtype!r}")
    return device, dtype


def load_model(cfg: ScoreConfig, path: str | None = None) -> tuple[Any, Any]:
    """Model + tokenizer for scoring, in eval mode on the configured device and dtype."""
    import torch
    from transformers import AutoModelForCausalLM

    path = path or cfg.model
    if not path:
        raise ValueError("score.model: no model given")
    device, dtype = resolve_device_dtype(cfg)
    from reasonkit.models import load as models

    tok = models.tokenizer(path, None, cfg.chat_template)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="sdpa")
    model.to(device).eval()
    if cfg.compile and device.type == "cuda":
        compile_layers(model)
    torch.set_grad_enabled(False)
    return model, tok


def compile_layers(model: Any) -> None:
    """Compile each decoder layer (one graph shared by all layers, dynamic shapes): fuses the
    norms, rotary embedding and gated activation that eager runs as separate memory passes."""
    import torch

    cfgd = torch._dynamo.config
    for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                 "accumulated_recompile_limit"):
        if hasattr(cfgd, name):
            setattr(cfgd, name, max(getattr(cfgd, name), 256))
    layers = getattr(model.get_decoder(), "layers", None)
    if layers is None:
        raise RuntimeError("score.compile: the model's decoder has no .layers to compile")
    for layer in layers:
        layer.compile(dynamic=True)


@contextlib.contextmanager
def _fp32_accumulation():
    """bf16 matmuls accumulate in fp32 throughout (no reduced-precision split-K reductions)."""
    import torch

    m = torch.backends.cuda.matmul
    old = m.allow_bf16_reduced_precision_reduction
    m.allow_bf16_reduced_precision_reduction = False
    try:
        yield
    finally:
        m.allow_bf16_reduced_precision_reduction = old


def _result(sum_lp: float, sum_ent: float, n: int) -> dict[str, Any]:
    mean = sum_lp / n
    return {"llh_sum": sum_lp, "llh_mean": mean, "n_tokens": n,
            "ppl": math.exp(-mean) if -mean < 700 else math.inf, "entropy_mean": sum_ent / n}


def _check_pairs(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], max_len: int | None,
                 ids: Sequence[str] | None, vocab: int) -> None:
    for i, (c, r) in enumerate(pairs):
        name = ids[i] if ids else f"pair {i}"
        if c and max(c) >= vocab or r and max(r) >= vocab:
            raise ScoringError(f"{name}: token id ≥ the model's vocabulary ({vocab}); the "
                               "tokenizer does not belong to this model")
        if len(c) < 1:
            raise ScoringError(f"{name}: empty context (the first response token has nothing to "
                               "condition on)")
        if len(r) < 1:
            raise ScoringError(f"{name}: empty response")
        if max_len and len(c) + len(r) > max_len:
            raise ScoringError(f"{name}: {len(c) + len(r)} tokens exceed max_length {max_len}")


def score_token_pairs(model: Any, pairs: Sequence[tuple[Sequence[int], Sequence[int]]], *,
                      token_budget: int = 65536, head_chunk_mb: int = 2048,
                      head_impl: str = "auto", max_length: int | None = None,
                      indices: Iterable[int] | None = None, ids: Sequence[str] | None = None
                      ) -> dict[int, dict[str, Any]]:
    """Score token-id pairs ``(context_ids, continuation_ids)`` with the fast batched path.

    Returns ``{index: result}`` for ``indices`` (default: all); ``ids`` only name samples in
    errors. The result of a pair depends only on the batch it lands in, i.e. on ``indices``.
    """
    import torch

    idx = list(range(len(pairs)) if indices is None else indices)
    if not idx:
        return {}
    if max_length is None:
        max_length = getattr(model.config, "max_position_embeddings", None)
    head = model.get_output_embeddings()
    _check_pairs([pairs[i] for i in idx], max_length, [ids[i] for i in idx] if ids else None,
                 head.weight.shape[0])
    lengths = [len(c) + len(r) for c, r in pairs]
    decoder = model.get_decoder()
    weight, bias = head.weight, getattr(head, "bias", None)
    device = weight.device
    softcap = getattr(model.config, "final_logit_softcapping", None)
    impl = _pick_head_impl(head_impl, device.type == "cuda", softcap)
    chunk_rows = max(1, (head_chunk_mb << 20) // (4 * weight.shape[0]))
    pad_id = 0

    out: dict[int, dict[str, Any]] = {}
    pending: list[tuple[list[int], list[int], Any, Any]] = []
    with torch.inference_mode(), _fp32_accumulation():
        for batch in pack_batches(lengths, idx, token_budget):
            T = lengths[batch[0]]
            B = len(batch)
            ids_cpu = torch.full((B, T), pad_id, dtype=torch.long)
            rows, tgts, counts = [], [], []
            for j, i in enumerate(batch):
                c, r = pairs[i]
                ids_cpu[j, : len(c) + len(r)] = torch.tensor(list(c) + list(r), dtype=torch.long)
                start = j * T + len(c) - 1
                rows.append(torch.arange(start, start + len(r)))
                tgts.append(torch.as_tensor(list(r), dtype=torch.long))
                counts.append(len(r))
            input_ids = ids_cpu.to(device, non_blocking=True)
            hidden = decoder(input_ids=input_ids, use_cache=False).last_hidden_state
            rows_t = torch.cat(rows).to(device, non_blocking=True)
            tgts_t = torch.cat(tgts).to(device, non_blocking=True)
            h = hidden.reshape(B * T, -1).index_select(0, rows_t)
            del hidden
            lp, en = head_logprobs(h, weight, tgts_t, bias=bias, chunk_rows=chunk_rows,
                                   impl=impl, softcap=softcap)
            seg = torch.repeat_interleave(torch.arange(B, device=device),
                                          torch.tensor(counts, device=device))
            sums = torch.zeros(B, dtype=torch.float64, device=device).index_add_(0, seg, lp.double())
            ents = torch.zeros(B, dtype=torch.float64, device=device).index_add_(0, seg, en.double())
            pending.append((batch, counts, sums, ents))  # read back at the end: no sync per batch
        for batch, counts, sums, ents in pending:
            for j, (s_lp, s_en) in enumerate(zip(sums.tolist(), ents.tolist())):
                out[batch[j]] = _result(s_lp, s_en, counts[j])
                out[batch[j]]["n_context_tokens"] = lengths[batch[j]] - counts[j]
    return out


def reference_scores(model: Any, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[dict[str, Any]]:
    """The per-sample loop the seed scripts use: one full forward per sample and an fp32
    log-softmax over the whole ``[T, vocab]`` logits. The yardstick for tests and benchmarks."""
    import torch

    dev = next(model.parameters()).device
    res = []
    with torch.inference_mode():
        for c, r in pairs:
            ids = torch.tensor([list(c) + list(r)], device=dev)
            logits = model(input_ids=ids, use_cache=False).logits[0].float()
            logp = torch.log_softmax(logits[len(c) - 1: -1], dim=-1)
            tgt = ids[0, len(c):]
            lp = logp.gather(1, tgt[:, None]).squeeze(1)
            ent = -(logp.exp() * logp).sum(-1)
            res.append(_result(lp.double().sum().item(), ent.double().sum().item(), len(r)))
    return res


# --------------------------------------------------------------------------- samples → scores


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


def score_samples(model: Any, tokenizer: Any, samples: Iterable[dict[str, Any]],
                  cfg: ScoreConfig, timings: dict[str, float] | None = None
                  ) -> Iterator[dict[str, Any]]:
    """Stream this rank's share of ``samples``; yields ``{"id", **SCORE_FIELDS}`` in input order.

    Every rank reads the same whole input stream and keeps blocks ``b`` with
    ``b % world_size == rank``; batching happens inside a block, so results do not depend on the
    world size, and memory is bounded by one block. ``timings`` (if given) accumulates seconds
    spent waiting for tokenisation, in the first block (compilation, verification) and scoring.
    """
    import time

    tm = timings if timings is not None else {}
    for k in ("tokenize_wait_s", "verify_s", "first_block_s", "score_s"):
        tm.setdefault(k, 0.0)
    if cfg.backend != "hf":
        raise ValueError(f"score_samples is the hf backend; got score.backend={cfg.backend!r}")
    if not 0 <= cfg.rank < cfg.world_size:
        raise ValueError(f"score.rank={cfg.rank} must be in [0, world_size={cfg.world_size})")
    mine = (blk for b, blk in enumerate(iter_blocks(samples, cfg.block_size))
            if b % cfg.world_size == cfg.rank)
    verified = not cfg.verify
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
            if not verified:
                verify_fast_path(model, pairs, cfg)
                verified = True
                tm["verify_s"] += time.perf_counter() - t1
            res = score_token_pairs(model, pairs, token_budget=cfg.token_budget,
                                    head_chunk_mb=cfg.head_chunk_mb, head_impl=cfg.head_impl,
                                    max_length=cfg.max_length, ids=ids)
            t2 = time.perf_counter()
            tm["first_block_s" if first else "score_s"] += t2 - t1
            first = False
            for k, sid in enumerate(ids):
                yield {"id": sid, **res[k]}


def verify_fast_path(model: Any, pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
                     cfg: ScoreConfig, rtol: float = 2e-2) -> None:
    """Guard against architectures whose head is not ``lm_head(decoder(x))`` (logit scaling,
    extra projections): compare the shortest pair with the plain model forward."""
    k = min(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    fast = score_token_pairs(model, [pairs[k]], head_impl=cfg.head_impl,
                             head_chunk_mb=cfg.head_chunk_mb, max_length=cfg.max_length)[0]
    ref = reference_scores(model, [pairs[k]])[0]
    err = abs(fast["llh_sum"] - ref["llh_sum"]) / max(abs(ref["llh_sum"]), 1e-6)
    if not err <= rtol:
        raise RuntimeError(f"score: fast path disagrees with the model's own forward "
                           f"(llh_sum {fast['llh_sum']:.6g} vs {ref['llh_sum']:.6g}); this "
                           "architecture needs score.verify=false and a checked head, or backend=vllm")


# --------------------------------------------------------------------------- vLLM backend


def score_token_pairs_vllm(llm: Any, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]
                           ) -> list[dict[str, Any]]:
    """Scores from vLLM ``prompt_logprobs``: each prompt is context+continuation token ids and
    the continuation positions' log-probs are summed. vLLM returns only top-k log-probs, so
    ``entropy_mean`` is None here."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    sp = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
    prompts = [TokensPrompt(prompt_token_ids=list(c) + list(r)) for c, r in pairs]
    outs = llm.generate(prompts, sp, use_tqdm=False)
    res = []
    for (c, r), o in zip(pairs, outs):
        full = list(c) + list(r)
        plp = o.prompt_logprobs
        total = 0.0
        for pos in range(len(c), len(full)):
            total += plp[pos][full[pos]].logprob
        d = _result(total, 0.0, len(r))
        d["entropy_mean"] = None
        res.append(d)
    return res


def score_samples_vllm(llm: Any, tokenizer: Any, samples: Iterable[dict[str, Any]],
                       cfg: ScoreConfig) -> Iterator[dict[str, Any]]:
    """``score_samples`` through a ``vllm.LLM`` (same rendering, tokenisation and blocks)."""
    for b, block in enumerate(iter_blocks(samples, cfg.block_size)):
        if b % cfg.world_size != cfg.rank:
            continue
        pairs = prepare_pairs(tokenizer, block, cfg)
        for s, p, r in zip(block, pairs, score_token_pairs_vllm(llm, pairs)):
            yield {"id": s["id"], **r, "n_context_tokens": len(p[0])}
