"""``format=trl_prompt_completion`` and ``format=trl_dpo``: TRL's prompt-completion and preference
rows, as message lists (``format.conversational``) or plain strings."""
from __future__ import annotations

from typing import Any

from reasonkit.formats.chat import apply_think
from reasonkit.formats.writers import WRITERS, Format, Row, need


def _turn(cfg: Any, role: str, text: str):
    if role == "assistant":
        content, reasoning = apply_think(text, cfg.think)
        if not cfg.conversational:
            if reasoning is not None:
                raise ValueError("format.think=split needs format.conversational=true")
            return content
        msg = {"role": "assistant", "content": content}
        if reasoning is not None:
            msg["reasoning_content"] = reasoning
        return [msg]
    if not cfg.conversational:
        return text
    return ([{"role": "system", "content": cfg.system}] if cfg.system else []) + [
        {"role": "user", "content": text}]


def row_prompt_completion(cfg: Any, r: dict[str, Any]) -> Row:
    need(r, ("prompt", "response"), "trl_prompt_completion")
    return {"id": r["id"], "prompt": _turn(cfg, "user", r["prompt"]),
            "completion": _turn(cfg, "assistant", r["response"])}


def row_dpo(cfg: Any, r: dict[str, Any]) -> Row:
    need(r, ("prompt", "chosen", "rejected"), "trl_dpo")
    return {"id": r["id"], "prompt": _turn(cfg, "user", r["prompt"]),
            "chosen": _turn(cfg, "assistant", r["chosen"]),
            "rejected": _turn(cfg, "assistant", r["rejected"]), "pair_type": r.get("pair_type")}


WRITERS.register("trl_prompt_completion")(Format(row=row_prompt_completion))
WRITERS.register("trl_dpo")(Format(row=row_dpo))
