"""Tiny HF model folders for scoring tests: a byte-level BPE tokenizer with a chat template and a
random Llama/Qwen2 model (weights scaled up so next-token distributions are peaked, not uniform:
a uniform model would let an off-by-one in the target positions pass unnoticed)."""
from __future__ import annotations

from pathlib import Path

SPECIALS = ["<pad>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>", "<think>", "</think>",
            "<|im_start|>", "<|im_end|>"]
# the lead's tiny-model style: {% generation %} marks the trained span
GEN_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}<|system|>{{ m['content'] }}\n"
    "{% elif m['role'] == 'user' %}<|user|>{{ m['content'] }}\n"
    "{% elif m['role'] == 'assistant' %}<|assistant|>{% generation %}{{ m['content'] }}<|end|>{% endgeneration %}\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}")
# ChatML without markers (Qwen-style)
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

CORPUS = [
    "What is 12 plus 7? The answer is 19.", "Compute 3 times 4 and add 5. We get 17.",
    "<think>first add the units, then the tens</think> so the sum is 42.",
    "Let x be the number of apples. Then 2x + 3 = 11, so x = 4.",
    "The quick brown fox jumps over the lazy dog. Reasoning step by step helps.",
] * 20


def tokenizer(template: str = GEN_TEMPLATE):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=320, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<|end|>",
                                   additional_special_tokens=SPECIALS[2:])
    fast.chat_template = template
    return fast


def model(vocab: int, arch: str = "llama", layers: int = 2, hidden: int = 64, seed: int = 0,
          init: float = 0.3):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    kw = dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=2 * hidden,
              num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
              max_position_embeddings=512, initializer_range=init, attn_implementation="sdpa")
    if arch == "qwen2":
        return Qwen2ForCausalLM(Qwen2Config(tie_word_embeddings=True, **kw)).eval()
    return LlamaForCausalLM(LlamaConfig(**kw)).eval()


def save_folder(path: Path, template: str = GEN_TEMPLATE, arch: str = "llama", hidden: int = 64) -> Path:
    tok = tokenizer(template)
    m = model(len(tok), arch=arch, hidden=hidden)
    m.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def samples(n_problems: int = 5, k: int = 3, seed: int = 0) -> list[dict]:
    """Sample records (reasonkit.records.Sample fields) with varied lengths."""
    import random

    rng = random.Random(seed)
    words = " ".join(CORPUS[:5]).split()
    out = []
    for p in range(n_problems):
        prompt = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        for j in range(k):
            resp = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
            out.append({"id": f"p{p}_{j}", "problem_id": f"p{p}", "k": j, "prompt": prompt,
                        "answer": "4", "response": resp, "model": "teacher",
                        "sampling": {"temperature": 1.0}, "seed": j, "correct": j % 2 == 0})
    return out
