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

PACK_VERSION = 2  # bump when packing or pair lengths could change what a trained model sees
GROUPED = ("group_by_length", "batch_rebalance")  # samplers that read add_pair_lengths' column
# Flex attention whose block masks are built eagerly: transformers compiles create_block_mask, and
# on the H200 (torch 2.11) that compilation sat in Triton's LLVM stage for > 180 s at the first DPO
# step (benchmarks/results/dpo_pack_probe_h200.log). Eagerly, the mask of a 16k-token row is one
# dense [T, T] boolean on the GPU for a moment: milliseconds.
ATTN = "reasonkit_flex_attention"

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


def pad_packed(ids: Any, pos: Any, lab: Any, multiple: int, pad_id: int) -> tuple[Any, Any, Any]:
    """Pads the packed row to a multiple of ``multiple`` tokens with one extra sequence of its own
    (positions restart at 0, no labels), which no real token attends to. Flex attention's kernels
    and block masks are compiled per distinct length: a DPO batch's packed length changes every
    step, a rounded one takes few values."""
    extra = -ids.shape[1] % multiple
    if extra == 0:
        return ids, pos, lab
    import torch

    tail = torch.arange(extra, device=ids.device)[None]
    return (torch.cat([ids, torch.full_like(tail, pad_id)], 1), torch.cat([pos, tail], 1),
            torch.cat([lab, torch.full_like(tail, -100)], 1))


def pack_forward(model: Any, multiple: int = 1) -> None:
    """Wrap ``model.forward`` (already given TRL's fused LM head) so fused calls run padding-free."""
    fused = model.forward
    pad_id = getattr(model.config, "pad_token_id", None) or 0

    @functools.wraps(fused)
    def forward(self, *args, fused_lm_head: bool = False, **kw):
        if not fused_lm_head or kw.get("attention_mask") is None or args:
            return fused(*args, fused_lm_head=fused_lm_head, **kw)
        att = kw.pop("attention_mask")
        keep = att.bool()
        ids, pos, lab, index = pack_rows(kw.pop("input_ids"), att, kw.pop("labels"))
        real = ids.shape[1]
        ids, pos, lab = pad_packed(ids, pos, lab, multiple, pad_id)
        kw.pop("position_ids", None)
        kw["use_cache"] = False  # with a cache, transformers would not read packed sequences from position ids
        out = fused(input_ids=ids, position_ids=pos, labels=lab, fused_lm_head=True, **kw)
        for name in PER_TOKEN:
            value = getattr(out, name, None)
            if value is not None:
                setattr(out, name, unpack(value[:, :real - 1], keep, index))
        return out

    model.forward = types.MethodType(forward, model)


def block_mask(batch_size: int, q_length: int, kv_length: int, q_offset: Any = 0, kv_offset: Any = 0,
               mask_function: Any = None, attention_mask: Any = None, device: Any = "cpu", **kw: Any) -> Any:
    """transformers' flex block mask, built without compiling when the row is a packed training
    row (no padding mask, no cache offsets); anything else goes to transformers' own builder."""
    from torch.nn.attention.flex_attention import create_block_mask
    from transformers.masking_utils import causal_mask_function, flex_attention_mask

    mask_function = mask_function or causal_mask_function
    if attention_mask is not None or not (isinstance(q_offset, int) and isinstance(kv_offset, int)) \
            or q_offset or kv_offset:
        return flex_attention_mask(batch_size, q_length, kv_length, q_offset, kv_offset, mask_function,
                                   attention_mask, device, **kw)
    return create_block_mask(mask_function, batch_size, None, q_length, kv_length, device=device)


def use_eager_mask_flex(model: Any) -> None:
    """Switches a model to flex attention with eagerly built block masks (registered once)."""
    from transformers import AttentionInterface
    from transformers.integrations.flex_attention import flex_attention_forward
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(ATTN, flex_attention_forward)
    AttentionMaskInterface.register(ATTN, block_mask)
    model.set_attn_implementation(ATTN)


def pack_trainer(trainer: Any, multiple: int = 1) -> None:
    """Packs the policy's and the reference model's fused forwards of a TRL DPOTrainer. On a GPU
    both run flex attention (``ATTN``), whose block mask keeps the packed sequences apart at the cost
    of their own lengths; elsewhere (CPU, where flex has no backward) the model keeps its attention,
    and transformers turns the packed row's position ids into a dense block-diagonal mask."""
    base = trainer.model.get_base_model() if hasattr(trainer.model, "get_base_model") else trainer.model
    models = [base]
    if getattr(trainer, "ref_model", None) is not None:
        models.append(trainer.accelerator.unwrap_model(trainer.ref_model))
    for model in models:
        if model.device.type == "cuda":
            use_eager_mask_flex(model)
        pack_forward(model, multiple)


def uses_pairs_code(trainer_cfg: Any) -> bool:
    """Whether this module shapes what a train run computes (its version then enters the artifact key)."""
    return bool(trainer_cfg.pack_pairs) or (trainer_cfg.kind == "dpo" and
                                            trainer_cfg.args.get("train_sampling_strategy") in GROUPED)


def add_pair_lengths(trainer: Any) -> None:
    """``args.train_sampling_strategy: group_by_length`` for preference rows: transformers' length-grouped
    sampler reads a ``length`` column (else each row's ``input_ids``, which TRL's preference datasets do
    not have), for the train and the eval datasets alike. A pair's length is what TRL's collator pads
    it to: prompt + the longer answer. Streaming datasets are left alone (transformers does not
    group them)."""
    from datasets import Dataset

    if trainer.args.train_sampling_strategy not in GROUPED:
        return
    name = trainer.args.length_column_name

    def with_lengths(ds: Any) -> Any:
        if isinstance(ds, dict):
            return {k: with_lengths(v) for k, v in ds.items()}
        if not isinstance(ds, Dataset) or name in ds.column_names:
            return ds
        return ds.add_column(name, [len(p) + max(len(c), len(r)) for p, c, r in
                                    zip(ds["prompt_ids"], ds["chosen_ids"], ds["rejected_ids"])])

    trainer.train_dataset = with_lengths(trainer.train_dataset)
    trainer.eval_dataset = with_lengths(trainer.eval_dataset)
    # keep the column through remove_unused_columns (TRL lists the columns its collator reads here)
    trainer._set_signature_columns_if_needed()
    trainer._signature_columns = [*trainer._signature_columns, name]
