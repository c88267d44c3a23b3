"""trainer.pack_pairs: TRL's DPO on one packed padding-free row computes the padded batch's loss and
gradients (CPU, fp32; the GPU test replays it with flex attention, tests/gpu/test_train_gpu.py)."""
from __future__ import annotations

import copy

import pytest
import torch

from reasonkit.training import entry, pairs, synthetic

VOCAB = 300


def test_pack_rows_left_and_right_padding_round_trip():
    ids = torch.tensor([[5, 6, 7, 0, 0], [0, 8, 9, 10, 11], [12, 13, 14, 15, 16]])
    att = (ids != 0).long()
    lab = torch.where(att.bool(), ids, torch.tensor(-100))
    packed, pos, plab, index = pairs.pack_rows(ids, att, lab)
    assert packed.tolist() == [[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]]
    assert pos.tolist() == [[0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3, 4]]
    # a sequence's first token is never a label: it would be predicted from the previous sequence
    assert plab[0, [0, 3, 7]].tolist() == [-100, -100, -100]
    # entry i of the packed output predicts packed token i+1; unpack puts it where the padded
    # layout predicts the same token, and zero where no real (t, t+1) pair exists
    fake = packed[:, 1:].float()  # "log-prob" = the predicted token's id
    back = pairs.unpack(fake, att.bool(), index)
    want = torch.where(att[:, 1:].bool() & att[:, :-1].bool(), ids[:, 1:], torch.tensor(0)).float()
    assert torch.equal(back, want)


def test_pack_rows_refuses_padding_inside_a_row():
    ids = torch.tensor([[5, 0, 7]])
    with pytest.raises(ValueError, match="padding between"):
        pairs.pack_rows(ids, (ids != 0).long(), ids)


def _trainer(model, rows, tmp_path, pack: bool, multiple: int = 1, **args):
    from datasets import Dataset

    spec = {"kind": "dpo", "output_dir": str(tmp_path / str(pack)), "pack_pairs": pack, "pack_multiple": multiple,
            "args": {"per_device_train_batch_size": 6, "max_steps": 1, "bf16": False, "report_to": "none",
                     "learning_rate": 1e-3, "save_strategy": "no", "dataloader_num_workers": 0,
                     "gradient_checkpointing": False, "seed": 0, "use_cpu": True, **args}}
    return entry.build_trainer(spec, model, synthetic.tokenizer(VOCAB), Dataset.from_list(rows))


def test_pad_packed_adds_one_isolated_unlabelled_sequence():
    ids, pos, lab = torch.tensor([[5, 6, 7]]), torch.tensor([[0, 1, 2]]), torch.tensor([[-100, 6, 7]])
    pids, ppos, plab = pairs.pad_packed(ids, pos, lab, 8, pad_id=0)
    assert pids.tolist() == [[5, 6, 7, 0, 0, 0, 0, 0]]
    assert ppos.tolist() == [[0, 1, 2, 0, 1, 2, 3, 4]]  # restarts at 0: its own sequence
    assert plab.tolist() == [[-100, 6, 7] + [-100] * 5]
    assert pairs.pad_packed(ids, pos, lab, 3, pad_id=0)[0] is ids  # already a multiple


def test_eager_mask_flex_keeps_packed_sequences_apart():
    """pairs.ATTN (flex attention, block mask built without compiling) on one packed row gives each
    sequence the logits it has alone (CPU forward; the GPU tests train with it)."""
    ref = synthetic.model("tiny", VOCAB, torch.float32, device="cpu", attn="sdpa").eval()
    model = copy.deepcopy(ref)
    pairs.use_eager_mask_flex(model)
    assert model.config._attn_implementation == pairs.ATTN
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(2, VOCAB, (n,), generator=g) for n in (37, 5, 60, 26)]
    ids, pos = torch.cat(seqs)[None], torch.cat([torch.arange(len(s)) for s in seqs])[None]
    with torch.no_grad():
        packed = model(input_ids=ids, position_ids=pos, use_cache=False).logits[0]
        alone = torch.cat([ref(input_ids=s[None]).logits[0] for s in seqs])
    torch.testing.assert_close(packed, alone, rtol=0, atol=1e-5)


@pytest.mark.parametrize("multiple", [1, 64])
def test_packed_dpo_loss_and_grads_equal_the_padded_batch(tmp_path, multiple):
    rows = synthetic.dpo_rows(12, VOCAB, seed=5, prompt=(3, 20), response=(4, 40))
    synthetic.model("tiny", VOCAB, torch.float32, device="cpu", attn="sdpa").save_pretrained(tmp_path / "m")
    # TRL loads the reference model from the policy's path
    base = entry.load_model({"model_path": str(tmp_path / "m"), "dtype": "float32",
                             "model_kwargs": {"attn_implementation": "sdpa"}})
    padded = _trainer(copy.deepcopy(base), rows, tmp_path, pack=False)
    packed = _trainer(copy.deepcopy(base), rows, tmp_path, pack=True, multiple=multiple)
    batch = next(iter(padded.get_train_dataloader()))
    assert int((batch["attention_mask"] == 0).sum()) > 0, "the batch should carry padding"
    seen = {}  # input shapes the policy's and the reference's decoders actually ran
    for name, t in (("policy", packed.model), ("ref", packed.ref_model)):
        t.model.register_forward_pre_hook(lambda m, a, kw, name=name: seen.update({name: kw["input_ids"].shape}),
                                          with_kwargs=True)
    losses, grads = [], []
    for t in (padded, packed):
        t.model.train()
        t.model.zero_grad()
        loss = t.compute_loss(t.model, {k: v.clone() for k, v in batch.items()})
        loss.backward()
        losses.append(loss.detach())
        grads.append(torch.cat([p.grad.flatten() for p in t.model.parameters() if p.grad is not None]))
    real = int(batch["attention_mask"].sum())
    ran = -(-real // multiple) * multiple
    assert seen == {"policy": (1, ran), "ref": (1, ran)}
    torch.testing.assert_close(losses[1], losses[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-6)
    # and the reference model's log-probs too (they enter the loss through the rewards)
    assert packed._metrics["train"]["rewards/chosen"] == pytest.approx(padded._metrics["train"]["rewards/chosen"],
                                                                       abs=1e-5)


def test_group_by_length_batches_pairs_of_similar_padded_length(tmp_path):
    """args.train_sampling_strategy=group_by_length works for preference rows (transformers' sampler
    reads the ``length`` column the trainer adds: prompt + the longer answer) and cuts padding."""
    rows = synthetic.dpo_rows(96, VOCAB, seed=2, prompt=(3, 20), response=(4, 80))
    synthetic.model("tiny", VOCAB, torch.float32, device="cpu", attn="sdpa").save_pretrained(tmp_path / "m")
    model = entry.load_model({"model_path": str(tmp_path / "m"), "dtype": "float32"})
    grouped = _trainer(model, rows, tmp_path, pack=False, train_sampling_strategy="group_by_length")
    plain = _trainer(model, rows, tmp_path, pack=False)
    ds = grouped.train_dataset
    assert ds["length"] == [len(p) + max(len(c), len(r))
                            for p, c, r in zip(ds["prompt_ids"], ds["chosen_ids"], ds["rejected_ids"])]

    def pad_fraction(trainer):
        batches = list(trainer.get_train_dataloader())
        assert sum(b["input_ids"].shape[0] for b in batches) == 2 * len(rows)  # every pair, once
        return sum(int((b["attention_mask"] == 0).sum()) for b in batches) / sum(b["attention_mask"].numel()
                                                                               for b in batches)

    assert pad_fraction(grouped) < 0.8 * pad_fraction(plain)  # measured: 0.28 vs 0.39 (the rest: chosen vs rejected)
