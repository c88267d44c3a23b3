"""Chat-message rows (TRL's conversational format) and ``<think>`` handling shared by formats."""
from __future__ import annotations

import re
from typing import Any

_THINK = re.compile(r"<think>(.*?)</think>\s*", re.S)


def split_think(response: str) -> tuple[str | None, str]:
    """(reasoning, answer). Also handles an unopened ``…</think>`` (templates that put the
    opening tag in the generation prompt, as R1-style models do)."""
    m = _THINK.search(response)
    if m:
        return m.group(1).strip(), (response[: m.start()] + response[m.end():]).strip()
    if "</think>" in response and "<think>" not in response:
        reasoning, _, answer = response.partition("</think>")
        return reasoning.strip(), answer.strip()
    return None, response


def apply_think(response: str, think: str) -> tuple[str, str | None]:
    """(assistant content, reasoning_content or None) for ``format.think``."""
    if think == "keep":
        return response, None
    reasoning, answer = split_think(response)
    if think == "strip":
        return answer, None
    if think == "split":
        return answer, reasoning
    raise ValueError(f"format.think: expected keep, strip or split, got {think!r}")


def messages(prompt: str, response: str, think: str = "keep", system: str | None = None
             ) -> list[dict[str, Any]]:
    content, reasoning = apply_think(response, think)
    msgs: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": prompt})
    asst: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        asst["reasoning_content"] = reasoning
    msgs.append(asst)
    return msgs


def to_messages(sample: dict[str, Any], think: str = "keep", system: str | None = None) -> dict[str, Any]:
    return {"id": sample["id"], "problem_id": sample.get("problem_id"),
            "messages": messages(sample["prompt"], sample["response"], think, system)}
