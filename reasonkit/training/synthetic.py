"""Random-weight Qwen2-shaped models, a word-level tokenizer and random chat-length rows, built on
the machine (the GPU machine has no hub access): what the GPU training benchmark and tests train.
Word ``t<i>`` is token ``i``, so row lengths in tokens are exact and any vocabulary size works."""
from __future__ import annotations

import random
from typing import Any

SHAPES: dict[str, dict[str, Any]] = {
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, tie_word_embeddings=True),
    "qwen2.5-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2, tie_word_embeddings=True),
    "tiny": dict(hidden_size=128, intermediate_size=352, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True),
}
PAD, EOS = 0, 1  # token ids of <pad>, <eos>; words start at id 2


def tokenizer(vocab: int) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = {"<pad>": PAD, "<eos>": EOS, **{f"t{i}": i for i in range(2, vocab)}}
    tok = Tokenizer(models.WordLevel(vocab=words, unk_token="<eos>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def model(shape: str, vocab: int, dtype: Any, device: str = "cuda", attn: str = "sdpa", seed: int = 0) -> Any:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(vocab_size=vocab, max_position_embeddings=32768, rope_theta=1e6, pad_token_id=PAD,
                      eos_token_id=EOS, bos_token_id=EOS, attn_implementation=attn, **SHAPES[shape])
    torch.manual_seed(seed)
    with torch.device(device):
        m = Qwen2ForCausalLM(cfg)
    return m.to(dtype)


def words(rng: random.Random, n: int, vocab: int) -> str:
    return " ".join(f"t{rng.randrange(2, vocab)}" for _ in range(n))


def sft_rows(n: int, vocab: int, seed: int = 0, prompt: tuple[int, int] = (128, 384),
             response: tuple[int, int] = (256, 1024)) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [{"prompt": words(rng, rng.randint(*prompt), vocab),
             "completion": " " + words(rng, rng.randint(*response), vocab)} for _ in range(n)]


def dpo_rows(n: int, vocab: int, seed: int = 0, prompt: tuple[int, int] = (128, 384),
             response: tuple[int, int] = (256, 1024)) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [{"prompt": words(rng, rng.randint(*prompt), vocab),
             "chosen": " " + words(rng, rng.randint(*response), vocab),
             "rejected": " " + words(rng, rng.randint(*response), vocab)} for _ in range(n)]
