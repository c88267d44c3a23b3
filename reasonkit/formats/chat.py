"""``format=chat``: chat-message rows (TRL's conversational format), and the ``<think>`` handling
every format shares (``format.think``: keep, strip, or split into ``reasoning_content``)."""
from __future__ import annotations

from typing import Any

from reasonkit.formats.writers import WRITERS, Format, need
from reasonkit.think import split_think as _split


def split_think(response: str) -> tuple[str | None, str]:
    """(reasoning, answer). Also handles an unopened ``…</think>`` (templates that put the
    opening tag in the generation prompt, as R1-style models do)."""
    t = _split(response)  # reasonkit.think: the splitter engines and judges use too
    if t.reasoning is None or not t.closed:
        return None, response
    return t.reasoning.strip(), t.answer.strip()


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


def row_chat(cfg: Any, r: dict[str, Any]) -> dict[str, Any]:
    need(r, ("prompt", "response"), "chat")
    return {"id": r["id"], "problem_id": r.get("problem_id"),
            "messages": messages(r["prompt"], r["response"], cfg.think, cfg.system)}


WRITERS.register("chat")(Format(row=row_chat))
