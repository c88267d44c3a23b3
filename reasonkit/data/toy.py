"""The embedded toy task: deterministic arithmetic word problems with numeric answers.

Why a generated task: no dataset can be downloaded here, and a task whose difficulty we control
lets a 1M-parameter model be partly right, which is what makes judge → select → SFT visible.
"""
from __future__ import annotations

import random
from typing import Iterator

NAMES = ["Ana", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ivy", "Jon"]
THINGS = ["apples", "books", "coins", "pens", "shells", "stamps", "cards", "marbles"]
ADD = ["{n} has {a} {t} and gets {b} more. How many {t} does {n} have now?",
       "{n} had {a} {t}. A friend gave {n} {b} {t}. How many {t} does {n} have?"]
SUB = ["{n} has {a} {t} and gives away {b}. How many {t} does {n} have left?",
       "{n} had {a} {t} and lost {b} of them. How many {t} are left?"]

INSTRUCTION = "Put the final answer in \\boxed{}."
MAX_OPERAND = 20


def make_problem(rng: random.Random, idx: int, split: str) -> dict:
    a, b = rng.randint(0, MAX_OPERAND), rng.randint(0, MAX_OPERAND)
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    if rng.random() < 0.5:
        q, ans, op = rng.choice(ADD), a + b, "+"
    else:
        a, b = max(a, b), min(a, b)
        q, ans, op = rng.choice(SUB), a - b, "-"
    return {"id": f"toy-{split}-{idx:05d}", "prompt": q.format(n=name, a=a, b=b, t=thing),
            "answer": str(ans), "meta": {"a": a, "b": b, "op": op}}


def solution(problem: dict) -> str:
    """The reference chain of thought + boxed answer the tiny models are pre-trained on."""
    m = problem["meta"]
    return f"<think>{m['a']}{m['op']}{m['b']}={problem['answer']}</think> The answer is \\boxed{{{problem['answer']}}}"


def problems(split: str, n: int, seed: int = 0) -> Iterator[dict]:
    """Train and test draw from disjoint seeds; the same (split, n, seed) gives the same list."""
    rng = random.Random(f"{seed}:{split}")
    for i in range(n):
        yield make_problem(rng, i, split)
