"""The hf backend's log-likelihood: a fast, exact scorer of (context, continuation) token pairs.

Why this module is more than ``model(ids).logits.log_softmax(-1)`` per pair: that loop spends its
time on one small forward at a time and on a ``[T, vocab]`` fp32 tensor per pair (600 MB for 1k
tokens of a 152k vocabulary). Here pairs are sorted by length and packed to a token budget, the
decoder runs once per batch, and the LM head runs only on the continuation positions, in row
chunks, reduced to (target log-prob, log-sum-exp, entropy) by one streaming pass per row, so
full-vocabulary logits never exist for more than one chunk. Right padding with no attention mask
is exact for the real tokens (causal attention never looks right), and keeps SDPA on its flash
kernel. bf16 weights with fp32 accumulation (the bf16 reduced-precision-reduction switch is turned
off while scoring) and an fp32-output head matmul where torch has one.

A pair's result depends only on the batch it lands in, i.e. on the pairs passed in one call: the
score stage passes fixed blocks of samples, which is what makes a W-process run identical to the
1-process run. ``HFEngine.loglikelihood`` is the entry point; ``reference_scores`` is the plain
per-pair forward that tests and benchmarks hold it to.

Importable without Hydra, TRL or vLLM: scoring ranks on GPU machines import only torch + transformers.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from reasonkit.engines.base import ScoringError, TokenPair, check_pairs, loglik_result

__all__ = ["LoglikOptions", "ScoringError", "head_logprobs", "load_model", "pack_batches",
           "reference_scores", "score_token_pairs", "verify_fast_path"]


@dataclass
class LoglikOptions:
    """How the hf scorer batches and checks (``score.*`` fields of the same names); none of them
    changes a score, so the score stage does not hash them (``head_impl`` aside)."""

    token_budget: int = 65536         # padded tokens per forward batch
    head_chunk_mb: int = 2048         # memory for one chunk of fp32 LM-head logits
    head_impl: str = "auto"           # auto (triton on CUDA when importable) | triton | torch
    max_length: int | None = None     # refuse longer pairs; None → model's max positions
    verify: bool = True               # check the fast path against the plain forward on 1 pair

    @classmethod
    def of(cls, cfg: Any) -> LoglikOptions:
        """The options a score config (or any object with these attributes) sets."""
        if cfg is None:
            return cls()
        return cls(**{f.name: getattr(cfg, f.name) for f in fields(cls) if hasattr(cfg, f.name)})

# --------------------------------------------------------------------------- batching


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
    from reasonkit.engines import _triton_head

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
            from reasonkit.engines._triton_head import lse_entropy

            lp, en = lse_entropy(logits, targets[s:e])
        else:
            lp, en = _reduce_torch(logits, targets[s:e], softcap)
        logp[s:e] = lp
        ent[s:e] = en
        del logits
    return logp, ent


# --------------------------------------------------------------------------- model plumbing


def resolve_device_dtype(device: str, dtype: str) -> tuple[Any, Any]:
    """``score.device`` / ``score.dtype`` → torch objects (auto: bf16 on GPU, fp32 on CPU)."""
    import torch

    dev = device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(dev)
    names = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float32": torch.float32,
             "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16}
    if dtype == "auto":
        return device, torch.bfloat16 if device.type == "cuda" else torch.float32
    if dtype in names:
        return device, names[dtype]
    raise ValueError(f"score.dtype: expected auto|bfloat16|float32|float16, got {dtype!r}")


def load_model(path: str, device: str = "auto", dtype: str = "auto", compile: bool = True) -> Any:
    """The model for scoring, in eval mode on the device and dtype asked for, with SDPA attention
    (and compiled decoder layers on CUDA)."""
    from transformers import AutoModelForCausalLM

    if not path:
        raise ValueError("score.model: no model given")
    dev, dt = resolve_device_dtype(device, dtype)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dt, attn_implementation="sdpa")
    model.to(dev).eval()
    if compile and dev.type == "cuda":
        compile_layers(model)
    model.requires_grad_(False)  # scoring only; never the process-wide grad mode (it broke training later in the process)
    return model


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


def score_token_pairs(model: Any, pairs: Sequence[TokenPair], *,
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
    check_pairs([pairs[i] for i in idx], max_length, [ids[i] for i in idx] if ids else None,
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
                out[batch[j]] = loglik_result(s_lp, s_en, counts[j], lengths[batch[j]] - counts[j])
    return out


def reference_scores(model: Any, pairs: Sequence[TokenPair]) -> list[dict[str, Any]]:
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
            res.append(loglik_result(lp.double().sum().item(), ent.double().sum().item(), len(r)))
    return res


def verify_fast_path(model: Any, pairs: Sequence[TokenPair], opts: LoglikOptions,
                     rtol: float = 2e-2) -> None:
    """Guard against architectures whose head is not ``lm_head(decoder(x))`` (logit scaling,
    extra projections): compare the shortest pair with the plain model forward."""
    k = min(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    fast = score_token_pairs(model, [pairs[k]], head_impl=opts.head_impl,
                             head_chunk_mb=opts.head_chunk_mb, max_length=opts.max_length)[0]
    ref = reference_scores(model, [pairs[k]])[0]
    err = abs(fast["llh_sum"] - ref["llh_sum"]) / max(abs(ref["llh_sum"]), 1e-6)
    if not err <= rtol:
        raise RuntimeError(f"score: fast path disagrees with the model's own forward "
                           f"(llh_sum {fast['llh_sum']:.6g} vs {ref['llh_sum']:.6g}); this "
                           "architecture needs score.verify=false and a checked head, or backend=vllm")
