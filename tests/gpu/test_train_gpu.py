"""trainer=sft_gpu trains on exactly the padded reference's per-token loss, step after step.

The preset's trainer (packed padding-free rows, flex attention, Liger kernels, chunked LM head,
compiled layers) runs 3 optimizer steps; each packed batch it saw is unpacked into a right-padded
batch and replayed on a plain sdpa copy of the same initial weights with the same AdamW steps.
fp32 weights (no TF32) so that a boundary leak or a shifted position id shows far above rounding.
Run on the GPU machine: ``python -m pytest -o addopts= -m gpu tests/gpu``.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import yaml

from reasonkit.training import entry, pairs, synthetic

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
ROOT = Path(__file__).resolve().parents[2]
VOCAB = 1000


def _spec(tmp_path, compile_layers: bool) -> dict:
    p = yaml.safe_load((ROOT / "conf/trainer/sft_gpu.yaml").read_text())
    p["compile_layers"] = compile_layers
    p["args"].update(max_steps=3, max_length=512, pad_to_multiple_of=512, bf16=False, learning_rate=1e-3,
                     lr_scheduler_type="constant", warmup_steps=0, logging_steps=1, save_strategy="no",
                     assistant_only_loss=False, dataloader_num_workers=0)
    return {"kind": "sft", "output_dir": str(tmp_path), **p}


def _unpack(batch) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    """(ids, labels, offset) per packed row, from the position ids restarting at 0."""
    pos = batch["position_ids"][0].cpu()
    starts = (pos == 0).nonzero().flatten().tolist() + [pos.numel()]
    ids, lab = batch["input_ids"][0].cpu(), batch["labels"][0].cpu()
    return [(ids[a:b], lab[a:b], a) for a, b in zip(starts, starts[1:]) if b - a > 1]


@pytest.mark.parametrize("compile_layers", [False, True])
def test_sft_gpu_per_token_loss_equals_padded_reference(tmp_path, compile_layers):
    from datasets import Dataset

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    spec = _spec(tmp_path, compile_layers)
    fast = synthetic.model("tiny", VOCAB, torch.float32, attn=spec["model_kwargs"]["attn_implementation"])
    ref = copy.deepcopy(fast)
    ref.set_attn_implementation("sdpa")
    rows = synthetic.sft_rows(96, VOCAB, seed=3, prompt=(5, 60), response=(10, 200))
    trainer = entry.build_trainer(spec, fast, synthetic.tokenizer(VOCAB), Dataset.from_list(rows))
    seen, lps = [], []
    orig, fwd = trainer.compute_loss, trainer.model.forward

    def capture(model, inputs, *a, **kw):
        loss = orig(model, inputs, *a, **kw)
        seen.append(({k: v.detach().clone() for k, v in inputs.items() if torch.is_tensor(v)}, loss.detach().clone()))
        return loss

    def capture_fwd(*a, **kw):  # TRL's fused LM head: per-token log-probs without full logits
        out = fwd(*a, **kw)
        if kw.get("fused_lm_head"):
            lps.append(out.log_probs.detach().clone())
        return out

    trainer.compute_loss, trainer.model.forward = capture, capture_fwd
    trainer.train()
    assert len(seen) == len(lps) == 3
    seen = [(b, lp, loss) for (b, loss), lp in zip(seen, lps)]

    args = trainer.args
    opt = torch.optim.AdamW(ref.parameters(), lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2),
                            eps=args.adam_epsilon, weight_decay=args.weight_decay)
    for step, (batch, fast_lp, fast_loss) in enumerate(seen):
        segs = _unpack(batch)
        assert len(segs) >= 2, "a packed step should hold several rows"
        n = max(len(s[0]) for s in segs)
        ids = torch.full((len(segs), n), synthetic.PAD)
        lab = torch.full((len(segs), n), -100)
        att = torch.zeros((len(segs), n), dtype=torch.long)
        for i, (x, y, _) in enumerate(segs):
            ids[i, :len(x)], lab[i, :len(y)], att[i, :len(x)] = x, y, 1
        ids, lab, att = ids.cuda(), lab.cuda(), att.cuda()
        logits = ref(input_ids=ids, attention_mask=att).logits[:, :-1].float()
        tgt = lab[:, 1:]
        lp = torch.log_softmax(logits, -1).gather(-1, tgt.clamp(min=0)[..., None])[..., 0]
        mask = tgt != -100
        for i, (x, y, off) in enumerate(segs):  # per token, row by row
            m = mask[i, :len(x) - 1]
            got = fast_lp[0, off:off + len(x) - 1][m]
            want = lp[i, :len(x) - 1][m].detach()
            assert got.numel() == int(m.sum()) > 0
            torch.testing.assert_close(got, want, rtol=0, atol=2e-3 * (step + 1),
                                       msg=lambda s, i=i: f"step {step} row {i}: {s}")
        # nothing but the rows' own label tokens carries loss in the packed batch
        assert int((fast_lp != 0).sum()) <= int(mask.sum())
        loss = -(lp * mask).sum() / mask.sum()
        assert fast_loss.item() == pytest.approx(loss.item(), abs=1e-3 * (step + 1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref.parameters(), args.max_grad_norm)
        opt.step()


def _dpo_spec(tmp_path, name: str, **over) -> dict:
    p = yaml.safe_load((ROOT / "conf/trainer/dpo_gpu.yaml").read_text())
    p.update(over)
    p["args"].update(max_steps=3, max_length=512, bf16=False, learning_rate=1e-4, lr_scheduler_type="constant",
                     warmup_steps=0, logging_steps=1, save_strategy="no", dataloader_num_workers=0,
                     per_device_train_batch_size=6)
    return {"kind": "dpo", "output_dir": str(tmp_path / name), "model_path": str(tmp_path / "m"),
            "dtype": "float32", **p}


def test_dpo_gpu_steps_equal_the_padded_reference(tmp_path):
    """trainer=dpo_gpu + pack_pairs (flex attention, Liger, chunked head) against the same DPO on
    padded sdpa batches, from the same weights on the same batches: per-step loss and the rewards
    (which carry the reference model's log-probs) agree over 3 AdamW steps."""
    from datasets import Dataset

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    synthetic.model("tiny", VOCAB, torch.float32).save_pretrained(tmp_path / "m")
    rows = synthetic.dpo_rows(48, VOCAB, seed=4, prompt=(5, 60), response=(10, 150))
    logs = []
    packed_over = {"pack_pairs": True, "pack_multiple": 128}  # pack_pairs switches to pairs.ATTN itself
    for name, over in (("packed", packed_over), ("padded", {"pack_pairs": False, "model_kwargs": {}})):
        spec = _dpo_spec(tmp_path, name, **over)
        trainer = entry.build_trainer(spec, entry.load_model(spec), synthetic.tokenizer(VOCAB), Dataset.from_list(rows))
        assert trainer.model.config._attn_implementation == (pairs.ATTN if name == "packed" else "sdpa")
        assert trainer.ref_model.config._attn_implementation == (pairs.ATTN if name == "packed" else "sdpa")
        trainer.train()
        logs.append([h for h in trainer.state.log_history if "loss" in h])
    packed, padded = logs
    assert len(packed) == len(padded) == 3
    for step, (a, b) in enumerate(zip(packed, padded)):
        tol = 1e-3 * (step + 1)
        for key in ("loss", "rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected"):
            assert a[key] == pytest.approx(b[key], abs=tol * max(1.0, abs(b[key]) * 1e-2)), (step, key, a, b)
