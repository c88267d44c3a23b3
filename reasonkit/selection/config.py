"""Schema of the ``selection`` group: every seed's data-selection rule is one option of it.

A selection is a fixed pipeline over the samples of each problem, and an option only sets the
fields it needs: problem filters first (decontamination, difficulty, pass-rate band, consistency
across models), then sample filters (duplicates), then the per-problem ``strategy`` with at most
``max_per_problem`` kept. Each rule counts what it dropped in the manifest.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PAIR_KINDS = ("short_long", "silc")


@dataclass
class SelectionConfig:
    name: str = "correct"
    # correct | all | llh_highest | llh_lowest | llh_random | shortest_correct | longest_correct |
    # pairs (preference pairs, see ``pairs``); reasonkit.selection.strategies.STRATEGIES names the
    # module of each
    strategy: str = "correct"
    # At most this many kept per problem (pairs: per pair kind). None: all for correct/all, 1 for
    # the ranking strategies.
    max_per_problem: int | None = None
    seed: int = 0
    # --- problem filters
    # Eval sets (JSONL with a prompt field, or .txt one per line) whose n-grams must not occur in a
    # kept problem's prompt.
    decontam_paths: list[str] = field(default_factory=list)
    decontam_field: str = "prompt"
    decontam_ngram: int = 13
    # Keep problems whose difficulty label (sample field or sample.meta[field]) is listed.
    difficulty_field: str = "difficulty"
    difficulty_keep: list[str] = field(default_factory=list)
    # Keep problems whose pass rate p over all their samples has min < p < max (exclusive).
    pass_rate_min: float | None = None
    pass_rate_max: float | None = None
    # Keep problems where at least one model is mixed (drop all-right / all-wrong for every model).
    consistency: bool = False
    # --- sample filters
    dedup: str = "none"  # none | exact (normalised prompt+response, global) | near (within problem)
    near_dup_threshold: float = 0.9  # Jaccard similarity of word 3-gram shingles
    # --- strategies
    llh_by: str = "mean"  # sum | mean (length-normalised) for llh_highest / llh_lowest
    require_correct: bool = True  # llh_* strategies choose among the correct samples only
    length_by: str = "tokens"  # tokens (n_completion_tokens when present, else chars) | chars
    pairs: list[str] = field(default_factory=lambda: ["short_long", "silc"])
    # strategy=all: fill max_per_problem alternating correct and incorrect (critique data)
    balance_correct: bool = False
    # --- after the strategy: keep a random subset of `subsample` problems (or rows) of what was
    # selected, seeded by `seed` (dataset-size rows without regeneration). None: keep all.
    subsample: int | None = None
    subsample_unit: str = "problems"  # problems | rows
