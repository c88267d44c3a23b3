"""Where a response's reasoning ends and its answer begins: the one ``<think>`` splitter that
engines (``sampler.think``), formats (``format.think``) and judges share, so that a sample is
split the same way when it is generated, judged and written out for training.

Bump ``THINK_VERSION`` whenever a change can alter a split: it is part of the judge versions
(and so of every judge artifact's hash).

Cases every caller meets:
- ``<think>…</think>answer``: the usual form; several blocks are all removed.
- ``…</think>answer`` with no opening tag: the chat template put ``<think>`` in the prompt
  (R1, Qwen3); everything before the first closing tag is reasoning.
- ``<think>…`` never closed: generation stopped while thinking, so there is no answer.
  ``opened=True`` says the prompt opened the block: then a response with no closing tag at all is
  reasoning only, even without any tag in it.
Tags are matched case-insensitively. Every scan is linear in the text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

THINK_VERSION = "1"


@dataclass(frozen=True)
class ThinkSplit:
    answer: str  # the text outside every reasoning block
    blocks: tuple[str, ...]  # each block's content, in order (an unclosed one last)
    closed: bool  # False: the text ends inside an unclosed block (``blocks[-1]``)

    @property
    def reasoning(self) -> str | None:
        """All reasoning, or None when the response had no block."""
        return "\n\n".join(self.blocks) if self.blocks else None


def _split_one(text: str, tag: str, opened: bool) -> tuple[list[str], list[str], bool]:
    """(answer pieces, blocks, closed) for one tag name."""
    low = text.lower()
    open_t, close_t = f"<{tag.lower()}>", f"</{tag.lower()}>"
    first_close = low.find(close_t)
    if first_close == -1 and opened:
        return [], [text[len(open_t):] if low.startswith(open_t) else text], False
    if first_close == -1 and open_t not in low:
        return [text], [], True
    answer: list[str] = []
    blocks: list[str] = []
    pos = 0
    first_open = low.find(open_t)
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        blocks.append(text[:first_close])  # orphan close: the prompt opened the block
        pos = first_close + len(close_t)
    while True:
        o = low.find(open_t, pos)
        if o == -1:
            answer.append(text[pos:])
            return answer, blocks, True
        answer.append(text[pos:o])
        c = low.find(close_t, o + len(open_t))
        if c == -1:
            blocks.append(text[o + len(open_t):])
            return answer, blocks, False
        blocks.append(text[o + len(open_t):c])
        pos = c + len(close_t)


def split_think(text: str, tags: Sequence[str] = ("think",), opened: bool = False) -> ThinkSplit:
    """Reasoning blocks and answer text of ``text``; ``opened`` applies to the first tag (the one
    a chat template opens)."""
    answer, blocks, closed = text, [], True
    for n, tag in enumerate(tags):
        pieces, found, ok = _split_one(answer, tag, opened and n == 0)
        answer = "".join(pieces)
        blocks.extend(found)
        closed = closed and ok
    return ThinkSplit(answer, tuple(blocks), closed)


def strip_think(text: str, tags: Sequence[str] = ("think",), unclosed: str = "drop",
                opened: bool = False) -> str:
    """The answer text: blocks removed; an unclosed block's text is dropped (``unclosed="drop"``:
    no final answer exists) or kept (``"keep"``)."""
    if unclosed not in ("drop", "keep"):
        raise ValueError(f"unclosed: expected drop or keep, got {unclosed!r}")
    t = split_think(text, tags, opened)
    if not t.closed and unclosed == "keep":
        return t.answer + t.blocks[-1]
    return t.answer
