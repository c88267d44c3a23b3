"""``selection.strategy=pairs``: preference pairs (chosen, rejected) for DPO, one list per kind in
``selection.pairs``: ``short_long`` = shortest correct (chosen) vs longest correct (rejected);
``silc`` = a correct response (chosen) vs a shorter incorrect one (rejected), the shortest
incorrect paired with the shortest correct that is longer."""
from __future__ import annotations

from typing import Any

from reasonkit.selection.strategies import (
    STRATEGIES,
    Sample,
    Strategy,
    correct,
    length_key,
)


def pick_pairs(cfg: Any, group: list[Sample], stats: dict[str, Any]) -> list[Sample]:
    length = length_key(group, cfg.length_by)
    right = sorted((s for s in group if correct(s, "pairs")), key=lambda s: (length(s), s["id"]))
    wrong = sorted((s for s in group if not s["correct"]), key=lambda s: (length(s), s["id"]))
    k = cfg.max_per_problem or 1
    out = []
    for kind in cfg.pairs:
        made: list[tuple[dict, dict]] = []
        if kind == "short_long":
            for i in range(min(k, len(right) // 2)):
                a, b = right[i], right[-1 - i]
                if length(a) < length(b):
                    made.append((a, b))
        else:  # silc
            used: set[str] = set()
            for w in wrong:
                if len(made) >= k:
                    break
                c = next((r for r in right if length(r) > length(w) and r["id"] not in used), None)
                if c is not None:
                    used.add(c["id"])
                    made.append((c, w))
        stats[f"pairs_{kind}"] += len(made)
        if not made:
            stats[f"problems_without_{kind}"] += 1
        for i, (ch, rj) in enumerate(made):
            out.append({"id": f"{ch['problem_id']}_{kind}_{i}", "problem_id": ch["problem_id"],
                        "prompt": ch["prompt"], "answer": ch.get("answer"), "chosen": ch["response"],
                        "rejected": rj["response"], "chosen_id": ch["id"], "rejected_id": rj["id"],
                        "chosen_correct": ch["correct"], "rejected_correct": rj["correct"],
                        "pair_type": kind, "model": ch.get("model"), "meta": ch.get("meta") or {}})
    return out


def counters(cfg: Any) -> list[str]:
    return [key for kind in cfg.pairs for key in (f"pairs_{kind}", f"problems_without_{kind}")]


STRATEGIES.register("pairs")(Strategy(pick=pick_pairs, counters=counters))
