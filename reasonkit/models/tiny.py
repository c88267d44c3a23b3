"""Builds the embedded default models: a tiny Llama-architecture causal LM trained locally.

Why build rather than ship weights: no hub here, and an ordinary HF model folder (config,
safetensors, tokenizer with chat template, generation_config) exercises exactly the loading code
a real hub model goes through, in every engine. A fixed seed and a fixed step budget make the
build reproducible; the folder name carries a hash of the recipe, so a changed recipe rebuilds.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock

from reasonkit.data import toy

log = logging.getLogger(__name__)

SPECIALS = ["<pad>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
# Ordinary (non-special) added tokens: decoding with skip_special_tokens must keep them.
THINK = ["<think>", "</think>"]
# `{% generation %}` marks what TRL's assistant_only_loss trains on.
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}<|system|>{{ m['content'] }}\n"
    "{% elif m['role'] == 'user' %}<|user|>{{ m['content'] }}\n"
    "{% elif m['role'] == 'assistant' %}<|assistant|>{% generation %}{{ m['content'] }}<|end|>{% endgeneration %}\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@dataclass(frozen=True)
class TinyRecipe:
    """Everything that determines the built model; its hash names the folder."""

    hidden_size: int = 96
    layers: int = 3
    heads: int = 3  # head_dim 32: vLLM's CPU attention supports 32, 64, 80, 96, 112, 128…
    vocab_size: int = 400
    steps: int = 400
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0
    n_pretrain: int = 8_000
    # context length (rotary, no learned positions): long enough for the R1-zero system prompt,
    # which this tokenizer spells in ~450 tokens; training itself uses short rows
    max_positions: int = 2048
    version: int = 1

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


RECIPES = {
    "toy-teacher": TinyRecipe(),
    "toy-student": TinyRecipe(steps=200),
}


def _train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # Digits split one by one so numbers are spelled digit-wise (arithmetic generalises).
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<|end|>",
                                   additional_special_tokens=SPECIALS[2:])
    fast.add_tokens(THINK)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _conversation(p: dict) -> list[dict]:
    return [{"role": "user", "content": f"{p['prompt']} {toy.INSTRUCTION}"},
            {"role": "assistant", "content": toy.solution(p)}]


def build(name: str, out: Path, recipe: TinyRecipe) -> None:
    """Train the tokenizer and the model, save an HF folder to ``out`` atomically."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    t0 = time.time()
    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    data = list(toy.problems("pretrain", recipe.n_pretrain, seed=recipe.seed))
    tok = _train_tokenizer([c["content"] for p in data for c in _conversation(p)], recipe.vocab_size)
    rows = []
    for p in data:
        conv = _conversation(p)
        enc = tok.apply_chat_template(conv, return_dict=True, return_assistant_tokens_mask=True,
                                      tokenize=True)
        rows.append((enc["input_ids"], enc["assistant_masks"]))
    maxlen = max(len(r[0]) for r in rows)
    ids = torch.full((len(rows), maxlen), tok.pad_token_id)
    labels = torch.full((len(rows), maxlen), -100)
    for i, (x, m) in enumerate(rows):
        ids[i, : len(x)] = torch.tensor(x)
        lab = torch.tensor([t if mm else -100 for t, mm in zip(x, m)])
        labels[i, : len(x)] = lab
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=recipe.hidden_size,
                      intermediate_size=recipe.hidden_size * 2, num_hidden_layers=recipe.layers,
                      num_attention_heads=recipe.heads, num_key_value_heads=recipe.heads,
                      max_position_embeddings=recipe.max_positions, tie_word_embeddings=True,
                      bos_token_id=None, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model = LlamaForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=recipe.steps,
                                                pct_start=0.1)
    g = torch.Generator().manual_seed(recipe.seed)
    model.train()
    for step in range(recipe.steps):
        idx = torch.randint(0, len(rows), (recipe.batch_size,), generator=g)
        x, y = ids[idx], labels[idx]
        loss = model(input_ids=x, attention_mask=(x != tok.pad_token_id).long(), labels=y).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 50 == 0 or step == recipe.steps - 1:
            log.info("building %s: step %d/%d loss %.3f", name, step + 1, recipe.steps, loss.item())
    model.eval()
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.generation_config = GenerationConfig(eos_token_id=tok.eos_token_id,
                                               pad_token_id=tok.pad_token_id, do_sample=False)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "reasonkit_recipe.json").write_text(json.dumps(
        {"name": name, **asdict(recipe), "build_seconds": round(time.time() - t0, 1),
         "parameters": sum(p.numel() for p in model.parameters())}, indent=2))
    os.replace(tmp, out)
    log.info("built %s in %.0fs -> %s", name, time.time() - t0, out)


def ensure(name: str, models_dir: str | Path) -> Path:
    """Return the folder of builtin model ``name``, building it once (under a lock) if needed."""
    if name not in RECIPES:
        raise KeyError(f"unknown builtin model {name!r}; expected one of {sorted(RECIPES)}")
    recipe = RECIPES[name]
    out = Path(models_dir).absolute() / f"{name}-{recipe.digest()}"
    if (out / "config.json").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if not (out / "config.json").exists():
            build(name, out, recipe)
    return out
