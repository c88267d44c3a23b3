"""One streaming pass per logits row: target log-prob and entropy without extra vocab-sized tensors.

The torch reduction (logsumexp, then softmax, then a product and a sum) reads and writes the
``[rows, vocab]`` chunk about six times; this kernel reads it once, keeping a running max ``m``,
``s = Σ exp(x − m)`` and ``t = Σ exp(x − m)·x`` per row, so ``lse = m + log s`` and
``entropy = lse − t / s``. Optional: without triton (CPU machines) the torch path is used.
"""
from __future__ import annotations

import os
from typing import Any

try:  # triton is absent on CPU-only installs
    import triton
    import triton.language as tl
except Exception:  # pragma: no cover - exercised on machines without triton
    triton = None
    tl = None


def available() -> bool:
    return triton is not None


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


if triton is not None:

    @triton.jit
    def _lse_entropy_kernel(x_ptr, stride, tgt_ptr, logp_ptr, ent_ptr, V: tl.constexpr,
                            BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * stride
        offs0 = tl.arange(0, BLOCK)
        m = tl.max(tl.full([BLOCK], float("-inf"), tl.float32), 0)
        s = tl.sum(tl.zeros([BLOCK], tl.float32), 0)
        t = tl.sum(tl.zeros([BLOCK], tl.float32), 0)
        for start in range(0, V, BLOCK):
            offs = start + offs0
            mask = offs < V
            x = tl.load(base + offs, mask=mask, other=float("-inf")).to(tl.float32)
            m_new = tl.maximum(m, tl.max(x, 0))
            scale = tl.exp(m - m_new)
            e = tl.exp(x - m_new)
            s = s * scale + tl.sum(e, 0)
            t = t * scale + tl.sum(e * tl.where(mask, x, 0.0), 0)
            m = m_new
        lse = m + tl.log(s)
        tgt = tl.load(tgt_ptr + row)
        xt = tl.load(base + tgt).to(tl.float32)
        tl.store(logp_ptr + row, xt - lse)
        tl.store(ent_ptr + row, lse - t / s)


def lse_entropy(logits: Any, targets: Any, block: int = 4096) -> tuple[Any, Any]:
    """(log p[target], entropy) per row of a contiguous 2-D ``logits`` (fp32 or bf16)."""
    import torch

    if triton is None:
        raise RuntimeError("triton is not installed")
    if logits.dim() != 2 or logits.stride(1) != 1:
        raise ValueError("lse_entropy: logits must be 2-D with contiguous rows")
    n, v = logits.shape
    logp = torch.empty(n, dtype=torch.float32, device=logits.device)
    ent = torch.empty(n, dtype=torch.float32, device=logits.device)
    if n:
        _lse_entropy_kernel[(n,)](logits, logits.stride(0), targets.contiguous(), logp, ent, v,
                                  BLOCK=block, num_warps=8)
    return logp, ent
