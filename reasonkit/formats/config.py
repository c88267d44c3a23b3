"""Schema of the ``format`` group (minimal; the formats family extends it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FormatConfig:
    name: str = "chat"
    # keep: leave <think>…</think> in the assistant turn; strip: drop it.
    think: str = "keep"
