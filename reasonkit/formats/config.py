"""Schema of the ``format`` group: which training-data layout ``stage=format`` writes.

One option per consumer (TRL, LLaMA-Factory, verl, the CFT recipe); each YAML sets only these
fields, and ``name`` picks the writer (``reasonkit.formats.writers.WRITERS``). Every format writes
its rows as ``part-*.jsonl`` shards unless noted, plus the consumer's own side files
(``dataset_info.json``, parquet).
"""
from __future__ import annotations

from dataclasses import dataclass, field

CFT_INSTRUCTION = ("Please critique the candidate solution to the question below step by step, "
                   "and conclude whether it is right or wrong.")


@dataclass
class FormatConfig:
    name: str = "chat"
    # keep: leave <think>…</think> in the assistant turn; strip: drop it; split: move it to the
    # message's reasoning_content (chat / trl formats).
    think: str = "keep"
    system: str | None = None  # system message written into every row
    max_per_problem: int | None = None  # at most k rows per problem (CFT: 4)
    dataset_name: str = "reasonkit"  # LLaMA-Factory dataset_info key; verl data_source default
    # trl_* formats: message lists (conversational) or plain strings
    conversational: bool = True
    # verl / critique parquet
    data_source: str | None = None
    ability: str = "math"
    reward_style: str = "rule"
    split: str = "train"
    # critique (CFT): the instruction and the two target labels (right, wrong)
    critique_instruction: str = CFT_INSTRUCTION
    critique_labels: list[str] = field(default_factory=lambda: ["right", "wrong"])
    # sft_split: which file the train stage reads (part shards): correct | all
    train_on: str = "correct"
    # External rows appended after the selected ones (JSONL, one object per line; ``mix_fields``
    # maps our prompt / response / answer to its keys), e.g. a public SFT set mixed into distilled data.
    mix_files: list[str] = field(default_factory=list)
    mix_fields: dict[str, str] = field(default_factory=dict)
