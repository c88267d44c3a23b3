"""Chat-messages training rows (TRL's conversational format)."""
from __future__ import annotations

import re
from typing import Any

_THINK = re.compile(r"<think>.*?</think>\s*", re.S)


def to_messages(sample: dict[str, Any], think: str = "keep") -> dict[str, Any]:
    response = sample["response"]
    if think == "strip":
        response = _THINK.sub("", response)
    elif think != "keep":
        raise ValueError(f"format.think: expected keep or strip, got {think!r}")
    return {"id": sample["id"], "messages": [{"role": "user", "content": sample["prompt"]},
                                             {"role": "assistant", "content": response}]}
