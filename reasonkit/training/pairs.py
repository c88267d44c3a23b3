"""Padding-free preference batches for TRL's DPO (``trainer.pack_pairs``).

TRL 1.16's DPOTrainer pads every chosen and rejected sequence of a batch to the longest one (its own
``padding_free`` switch is disabled after a refactor), so with chat-length answers a third of the
policy's and the reference's compute goes to padding. Rather than re-implement DPO's losses, this
wraps the model's fused-LM-head forward (the one call through which TRL's DPO reads log-probs):
the padded batch goes in, its real tokens run as one packed row whose position ids restart per
sequence (transformers turns that into a block-diagonal mask for flex/sdpa attention), and the
per-token outputs are scattered back into the padded layout TRL expects. Every loss type, metric
and the reference model keep working unchanged, on exactly the tokens the padded batch scores.
"""
from __future__ import annotations

import functools
import types
from typing import Any

PACK_VERSION = 1  # bump when packing could change what a trained model sees

PER_TOKEN = ("log_probs", "entropy", "log_sum_sq_probs", "mean_logits", "is_top1", "label_mask")


def pack_rows(input_ids: Any, attention_mask: Any, labels: Any) -> tuple[Any, Any, Any, Any]:
    """The real tokens of a (left- or right-) padded batch as one row: ids, position ids restarting
    at 0 per sequence, labels with each sequence's first token unlabelled (it would otherwise be
    predicted from the previous sequence), and for every padded (row, t) the packed index of its
    token."""
    keep = attention_mask.bool()
    n = keep.sum(1)
    first = keep.long().argmax(1)
    last = keep.shape[1] - 1 - keep.flip(1).long().argmax(1)
    if bool(((n > 0) & (last - first + 1 != n)).any()):
        raise ValueError("trainer.pack_pairs: a row has padding between its real tokens")
    flat = keep.flatten()
    index = (flat.long().cumsum(0) - 1).view_as(keep)  # packed position of each real token
    ids = input_ids[keep][None]
    pos = (keep.long().cumsum(1) - 1)[keep][None]
    lab = labels[keep].clone()
    lab[pos[0] == 0] = -100
    return ids, pos, lab[None], index


def unpack(packed: Any, keep: Any, index: Any) -> Any:
    """Per-token outputs of the packed row ([1, T-1], entry i predicts packed token i+1) in the
    padded layout ([B, L-1], entry t predicts token t+1); zero where (t, t+1) is not a real pair."""
    valid = keep[:, :-1] & keep[:, 1:]
    out = packed.new_zeros(keep.shape[0], keep.shape[1] - 1)
    return out.masked_scatter(valid, packed[0][index[:, :-1][valid]])


def pack_forward(model: Any) -> None:
    """Wrap ``model.forward`` (already given TRL's fused LM head) so fused calls run padding-free."""
    fused = model.forward

    @functools.wraps(fused)
    def forward(self, *args, fused_lm_head: bool = False, **kw):
        if not fused_lm_head or kw.get("attention_mask") is None or args:
            return fused(*args, fused_lm_head=fused_lm_head, **kw)
        att = kw.pop("attention_mask")
        keep = att.bool()
        ids, pos, lab, index = pack_rows(kw.pop("input_ids"), att, kw.pop("labels"))
        kw.pop("position_ids", None)
        out = fused(input_ids=ids, position_ids=pos, labels=lab, fused_lm_head=True, **kw)
        for name in PER_TOKEN:
            value = getattr(out, name, None)
            if value is not None:
                setattr(out, name, unpack(value, keep, index))
        return out

    model.forward = types.MethodType(forward, model)


def pack_trainer(trainer: Any) -> None:
    """Packs the policy's and the reference model's fused forwards of a TRL DPOTrainer."""
    base = trainer.model.get_base_model() if hasattr(trainer.model, "get_base_model") else trainer.model
    pack_forward(base)
    if getattr(trainer, "ref_model", None) is not None:
        pack_forward(trainer.accelerator.unwrap_model(trainer.ref_model))
