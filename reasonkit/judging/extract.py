"""Answer extraction (minimal; the judging family extends it). Pure and versioned."""
from __future__ import annotations

import re

VERSION = "1"
_THINK = re.compile(r"<think>.*?</think>", re.S)


def strip_reasoning(text: str) -> str:
    text = _THINK.sub("", text)
    return text.split("</think>")[-1]


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{…}/\\fbox{…}, nested braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j].strip()
    return None


def extract(text: str) -> str | None:
    return last_boxed(strip_reasoning(text))
