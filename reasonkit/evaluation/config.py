"""Schema of the ``eval`` group: a grid of models × benchmarks, each cell its own artifact."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvalConfig:
    name: str = "???"
    # Benchmarks (conf/benchmark/<name>.yaml, or a YAML path); "dataset" is the run's own dataset
    # (its `split`), asked with dataset.instruction as generation asks it.
    benchmarks: list[str] = field(default_factory=lambda: ["dataset"])
    # Rows: teacher, student, trained (the train stage's model), checkpoints (every checkpoint the
    # train stage saved, then its final model), a conf/model preset name, a model folder (a folder
    # of checkpoint-* folders expands to each), or a hub id.
    models: list[str] = field(default_factory=lambda: ["teacher", "student", "trained"])
    # Split of the run's dataset for the "dataset" benchmark.
    split: str = "test"
    # Run-wide settings over every benchmark's own and over `overrides` (null / empty: keep those).
    n: int | None = None
    ks: list[int] | None = None
    # merged over each benchmark's sampling; null values keep the benchmark's (other keys: `+eval.sampling.<k>=`)
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": None, "top_p": None, "max_tokens": None})
    # apply each model's recommended sampling (conf/model `sampling`) over the benchmarks' own
    model_sampling: bool = True
    limit: int | None = None  # first N problems of every benchmark
    prompt: str | None = None  # conf/prompt option for every benchmark
    source: str | None = None  # hub | local for every benchmark (local files under paths.benchmarks)
    # A prompt per eval.models entry over the benchmarks' own, e.g. {student: r1_zero} for a base model.
    model_prompts: dict[str, str] = field(default_factory=dict)
    # Per-benchmark deltas over the benchmark's YAML, e.g. {math500: {n: 8, limit: 100}}.
    overrides: dict[str, Any] = field(default_factory=dict)
    # The eval judge, separate from the run's `judge` (which labels training data). null: each
    # benchmark's own (math / choice / code against the benchmark's answer or tests). vote,
    # judge_vote or critique only when named here; llm is refused (eval has no judge engine).
    judge: str | None = None
    judge_args: dict[str, Any] = field(default_factory=dict)  # deltas over conf/judge/<judge>.yaml
    seed: int = 1234
    bootstrap: int = 1000  # resamples of problems for the 95% interval of avg@n
    # "<benchmark>:<metric>" (e.g. math500:avg@4): the best model row on it is recorded, and the
    # table marks numbers reported on the benchmark the pick was made on.
    select_best: str | None = None
